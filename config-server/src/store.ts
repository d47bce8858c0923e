import type { StatusReport } from './bodies';
import { effectiveProblems, effectiveWarnings } from './effective-checks';
import { HttpError } from './errors';
import {
  configDiff,
  deviceLayerAfter,
  isPlainObject,
  mergeLayers,
  mergeOrder,
  sameConfig,
  selects,
  splitDiscovered,
  type Config,
  type DeviceAttributes,
  type LayerName,
} from './layers';
import { failedPercent, reachedBy } from './rollout-plan';
import type { SqlClient, SqlDatabase, SqlValue } from './sql';
import { SqliteDatabase } from './sqlite-db';
import type {
  Change,
  DeviceWriteResult,
  ChangeSource,
  ConfigVersion,
  DeviceMembership,
  DevicePreview,
  DeviceSummary,
  Effective,
  GroupState,
  LayerBody,
  LayerKey,
  LayerVersion,
  LayerWriteOptions,
  LayerWriteResult,
  RolloutAction,
  RolloutDeviceState,
  RolloutState,
  RolloutSummary,
  Store,
  StoredSession,
} from './store-api';

export type { ApplyState, ChangeSource, ConfigVersion, DeviceSummary, WriteOutcome } from './store-api';

interface VersionRow {
  device_id: string;
  version: number;
  config: string;
  source: ChangeSource;
  address: string | null;
  created_at: number;
  cause: string | null;
  apply_status: 'applied' | 'failed' | null;
  apply_error: string | null;
  apply_reported_at: number | null;
}

interface DeviceRow {
  device_id: string;
  version: number;
  updated_at: number;
  source: ChangeSource;
  last_seen_at: number | null;
  last_seen_address: string | null;
  device_type: string | null;
  target_address: string | null;
  metrics_port: number | null;
  tags: string;
  received_version: number | null;
  apply_status: 'applied' | 'failed' | null;
  apply_error: string | null;
  apply_reported_at: number | null;
  applied_version: number | null;
}

/** A registered device as the layer computations need it. */
interface DeviceRecord {
  device_id: string;
  /** As the device reports it (null until it does). */
  device_type: string | null;
  tags: Record<string, string>;
  /** Its own layer's config and version (0: none yet). */
  layer: Config;
  /** Metrics it discovered, below the fleet layer (see `splitDiscovered`). */
  discovered: Record<string, boolean>;
  layer_version: number;
  /** The effective config it is served now, and its revision. */
  revision: number;
  effective: unknown;
}

interface RecordRow {
  device_id: string;
  device_type: string | null;
  tags: string;
  layer_body: string | null;
  layer_version: number | null;
  revision: number;
  effective: string;
}

interface LayerVersionRow {
  layer: LayerKey;
  version: number;
  body: string | null;
  source: ChangeSource;
  address: string | null;
  created_at: number;
  note: string | null;
}

interface RolloutRow {
  id: number;
  layer: LayerKey;
  from_version: number;
  to_version: number;
  steps: string;
  wait_s: number;
  max_failed_percent: number;
  state: RolloutState['state'];
  step: number;
  next_step_at: number | null;
  reason: string | null;
  created_at: number;
  updated_at: number;
}

interface RolloutDeviceRow {
  device_id: string;
  position: number;
  step: number | null;
  version: number | null;
}

const DEVICE_SELECT = `
  SELECT d.device_id, d.last_seen_at, d.last_seen_address, d.device_type, d.target_address, d.metrics_port, d.tags,
         cur.version, cur.source, cur.created_at AS updated_at,
         rec.version AS received_version, rec.apply_status, rec.apply_error, rec.apply_reported_at,
         (SELECT MAX(version) FROM config_versions
           WHERE device_id = d.device_id AND apply_status = 'applied') AS applied_version
    FROM devices d
    JOIN config_versions cur ON cur.device_id = d.device_id
     AND cur.version = (SELECT MAX(version) FROM config_versions WHERE device_id = d.device_id)
    LEFT JOIN config_versions rec ON rec.device_id = d.device_id
     AND rec.version = (SELECT MAX(version) FROM config_versions
                         WHERE device_id = d.device_id AND apply_status IS NOT NULL)`;

/** Every registered device with its own layer and what it is served now. */
const RECORD_SELECT = `
  SELECT d.device_id, d.device_type, d.tags, lv.body AS layer_body, l.current_version AS layer_version,
         cv.version AS revision, cv.config AS effective
    FROM devices d
    JOIN config_versions cv ON cv.device_id = d.device_id
     AND cv.version = (SELECT MAX(version) FROM config_versions WHERE device_id = d.device_id)
    LEFT JOIN layers l ON l.layer = 'device:' || d.device_id
    LEFT JOIN layer_versions lv ON lv.layer = l.layer AND lv.version = l.current_version`;

const iso = (ms: number): string => new Date(ms).toISOString();
const isoOrNull = (ms: number | null): string | null => (ms === null ? null : iso(ms));
const deviceLayer = (deviceId: string): LayerKey => `device:${deviceId}`;

/** `host:port`, with an IPv6 address in brackets. */
function scrapeTarget(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

/** Thrown inside a transaction to roll back a dry run, carrying its answer out. */
class DryRun extends Error {
  constructor(readonly result: LayerWriteResult) {
    super('dry run: rolled back');
  }
}

/** What a dry run shows of one device whose effective config goes from `before` to `after`. */
function devicePreview(device: DeviceRecord, after: Config): DevicePreview {
  const before = isPlainObject(device.effective) ? device.effective : {};
  const problems = effectiveProblems(after);
  return {
    device_id: device.device_id,
    changes: configDiff(before, after),
    valid: problems.length === 0,
    problems,
    warnings: effectiveWarnings(before, after, device.device_type),
  };
}

/**
 * The fleet and group layers as a device sees them: the current version of each, unless a rollout pins the device
 * to an older one. The bodies of every version in use are read once, when the view is made.
 */
class LayerView {
  constructor(
    private readonly currentVersions: ReadonlyMap<LayerKey, number>,
    private readonly pins: ReadonlyMap<string, ReadonlyMap<LayerKey, number>>,
    /** By `version:layer`. */
    private readonly bodies: ReadonlyMap<string, LayerBody | null>,
  ) {}

  versionFor(deviceId: string, layer: LayerKey): number {
    return this.pins.get(deviceId)?.get(layer) ?? this.currentVersions.get(layer) ?? 0;
  }

  body(layer: LayerKey, version: number): LayerBody | null {
    return version === 0 ? null : (this.bodies.get(`${version}:${layer}`) ?? null);
  }

  /** The device's effective config, its provenance and the layer versions it came from. */
  effective(device: DeviceRecord): { config: Config; provenance: Record<string, LayerName>; layers: Record<string, number> } {
    const attributes = attributesOf(device);
    const versions: Record<string, number> = {};
    const layers: Array<{ layer: LayerName; config: Config }> = [];
    if (Object.keys(device.discovered).length > 0) layers.push({ layer: 'device', config: { metrics: device.discovered } });
    const fleetVersion = this.versionFor(device.device_id, 'fleet');
    const fleet = this.body('fleet', fleetVersion);
    if (fleet) {
      layers.push({ layer: 'fleet', config: fleet.config });
      versions.fleet = fleetVersion;
    }
    const groups: Array<{ name: string; priority: number; config: Config; version: number }> = [];
    for (const layer of this.currentVersions.keys()) {
      if (!layer.startsWith('group:')) continue;
      const version = this.versionFor(device.device_id, layer);
      const body = this.body(layer, version);
      if (body && selects(body.selector ?? {}, attributes)) {
        groups.push({ name: layer.slice('group:'.length), priority: body.priority ?? 0, config: body.config, version });
      }
    }
    for (const group of mergeOrder(groups)) {
      layers.push({ layer: `group:${group.name}`, config: group.config });
      versions[`group:${group.name}`] = group.version;
    }
    layers.push({ layer: 'device', config: device.layer });
    versions.device = device.layer_version;
    return { ...mergeLayers(layers), layers: versions };
  }
}

/** What a selector sees: the reported device type, else the one the device's own layer names. */
function attributesOf(device: DeviceRecord): DeviceAttributes {
  const ownType = typeof device.layer.device_type === 'string' ? device.layer.device_type : null;
  return { device_id: device.device_id, device_type: device.device_type ?? ownType, tags: device.tags };
}

/** A statement with its parameters and row type, run on whichever client (a database, or one in a transaction). */
class Statement<P extends SqlValue[], R> {
  constructor(private readonly text: string) {}

  get(sql: SqlClient, ...params: P): Promise<R | undefined> {
    return sql.get<R>(this.text, params);
  }

  all(sql: SqlClient, ...params: P): Promise<R[]> {
    return sql.all<R>(this.text, params);
  }

  run(sql: SqlClient, ...params: P): Promise<number> {
    return sql.run(this.text, params);
  }
}

const statement = <P extends SqlValue[] = [], R = unknown>(text: string): Statement<P, R> => new Statement<P, R>(text);

/** Rows of one multi-row INSERT (7 parameters each), or devices of one IN list: far below either engine's limits. */
const ROWS_PER_STATEMENT = 500;

/** The current versions of the devices of an IN list that follows. */
const CURRENT_OF_MANY = `
  SELECT v.* FROM config_versions v
   WHERE v.version = (SELECT MAX(version) FROM config_versions WHERE device_id = v.device_id)
     AND v.device_id IN`;

/**
 * Reads devices' current versions together: the requests that ask in the same turn of the event loop (the long-polls
 * that one change wakes on every device) share one statement per 500 devices instead of a round trip each.
 */
class CurrentVersions {
  private pending = new Map<string, Array<{ resolve: (row: VersionRow | undefined) => void; reject: (error: unknown) => void }>>();

  constructor(private readonly sql: SqlClient) {}

  read(deviceId: string): Promise<VersionRow | undefined> {
    return new Promise((resolve, reject) => {
      if (this.pending.size === 0) setImmediate(() => this.flush());
      const waiting = this.pending.get(deviceId) ?? [];
      waiting.push({ resolve, reject });
      this.pending.set(deviceId, waiting);
    });
  }

  private flush(): void {
    const batch = this.pending;
    this.pending = new Map();
    const deviceIds = [...batch.keys()];
    for (let start = 0; start < deviceIds.length; start += ROWS_PER_STATEMENT) {
      const chunk = deviceIds.slice(start, start + ROWS_PER_STATEMENT);
      this.sql.all<VersionRow>(`${CURRENT_OF_MANY} (${chunk.map(() => '?').join(', ')})`, chunk).then(
        (rows) => {
          const byDevice = new Map(rows.map((row) => [row.device_id, row]));
          for (const deviceId of chunk) for (const { resolve } of batch.get(deviceId)!) resolve(byDevice.get(deviceId));
        },
        (error: unknown) => {
          for (const deviceId of chunk) for (const { reject } of batch.get(deviceId)!) reject(error);
        },
      );
    }
  }
}

/** Every statement the store runs. */
const S = {
  current: statement<[string], VersionRow>(
    'SELECT * FROM config_versions WHERE device_id = ? ORDER BY version DESC LIMIT 1',
  ),
  history: statement<[string, number], VersionRow>(
    'SELECT * FROM config_versions WHERE device_id = ? ORDER BY version DESC LIMIT ?',
  ),
  versionExists: statement<[string, number], { found: number }>(
    'SELECT 1 AS found FROM config_versions WHERE device_id = ? AND version = ?',
  ),
  addDevice: statement<[string, number]>(
    'INSERT INTO devices (device_id, created_at) VALUES (?, ?) ON CONFLICT (device_id) DO NOTHING',
  ),
  addVersion: statement<[string, number, string, ChangeSource, string | null, number, string | null]>(
    `INSERT INTO config_versions (device_id, version, config, source, address, created_at, cause)
     VALUES (?, ?, ?, ?, ?, ?, ?)`,
  ),
  seen: statement<[number, string | null, string]>(
    'UPDATE devices SET last_seen_at = ?, last_seen_address = ? WHERE device_id = ?',
  ),
  /** Also locks the device's row until the transaction ends (on PostgreSQL), so that its type stays as read. */
  seenWithType: statement<[number, string | null, string], { device_type: string | null }>(
    'UPDATE devices SET last_seen_at = ?, last_seen_address = ? WHERE device_id = ? RETURNING device_type',
  ),
  report: statement<[string | null, number | null, string | null, number, string]>(
    `UPDATE devices SET target_address = ?, metrics_port = COALESCE(?, metrics_port),
            device_type = COALESCE(?, device_type), reported_at = ?
      WHERE device_id = ?`,
  ),
  applyStatus: statement<[string, string | null, number, string, number]>(
    `UPDATE config_versions SET apply_status = ?, apply_error = ?, apply_reported_at = ?
      WHERE device_id = ? AND version = ?`,
  ),
  device: statement<[string], DeviceRow>(`${DEVICE_SELECT} WHERE d.device_id = ?`),
  devices: statement<[], DeviceRow>(`${DEVICE_SELECT} ORDER BY d.device_id`),
  record: statement<[string], RecordRow>(`${RECORD_SELECT} WHERE d.device_id = ?`),
  records: statement<[], RecordRow>(`${RECORD_SELECT} ORDER BY d.device_id`),
  ping: statement('SELECT 1'),
  deviceCount: statement<[], { count: number }>('SELECT COUNT(*) AS count FROM devices'),
  failedCount: statement<[], { count: number }>(
    `SELECT COUNT(*) AS count FROM config_versions v
      WHERE apply_status = 'failed'
        AND version = (SELECT MAX(version) FROM config_versions
                        WHERE device_id = v.device_id AND apply_status IS NOT NULL)`,
  ),
  tags: statement<[string], { tags: string }>('SELECT tags FROM devices WHERE device_id = ?'),
  setTags: statement<[string, string]>('UPDATE devices SET tags = ? WHERE device_id = ?'),
  sharedLayers: statement<[], { layer: LayerKey; current_version: number }>(
    "SELECT layer, current_version FROM layers WHERE layer NOT LIKE 'device:%'",
  ),
  layerCurrent: statement<[string], { current_version: number }>('SELECT current_version FROM layers WHERE layer = ?'),
  layerBody: statement<[string, number], { body: string | null }>(
    'SELECT body FROM layer_versions WHERE layer = ? AND version = ?',
  ),
  layerVersion: statement<[string, number], LayerVersionRow>('SELECT * FROM layer_versions WHERE layer = ? AND version = ?'),
  layerHistory: statement<[string, number], LayerVersionRow>(
    'SELECT * FROM layer_versions WHERE layer = ? ORDER BY version DESC LIMIT ?',
  ),
  addLayerVersion: statement<[string, number, string | null, ChangeSource, string | null, number, string | null]>(
    `INSERT INTO layer_versions (layer, version, body, source, address, created_at, note) VALUES (?, ?, ?, ?, ?, ?, ?)`,
  ),
  setLayerCurrent: statement<[string, number]>(
    `INSERT INTO layers (layer, current_version) VALUES (?, ?)
       ON CONFLICT (layer) DO UPDATE SET current_version = excluded.current_version`,
  ),
  pins: statement<[], { device_id: string; layer: LayerKey; version: number }>('SELECT device_id, layer, version FROM layer_pins'),
  layerPins: statement<[string], { device_id: string; version: number }>('SELECT device_id, version FROM layer_pins WHERE layer = ?'),
  pin: statement<[string, string, number]>(
    `INSERT INTO layer_pins (device_id, layer, version) VALUES (?, ?, ?)
       ON CONFLICT (device_id, layer) DO UPDATE SET version = excluded.version`,
  ),
  unpin: statement<[string, string]>('DELETE FROM layer_pins WHERE device_id = ? AND layer = ?'),
  unpinLayer: statement<[string]>('DELETE FROM layer_pins WHERE layer = ?'),
  activeRollout: statement<[string], { id: number }>(
    "SELECT id FROM rollouts WHERE layer = ? AND state IN ('running', 'halted')",
  ),
  rollout: statement<[number], RolloutRow>('SELECT * FROM rollouts WHERE id = ?'),
  rollouts: statement<[number], RolloutRow>('SELECT * FROM rollouts ORDER BY id DESC LIMIT ?'),
  rolloutsIn: statement<[string, number], RolloutRow>('SELECT * FROM rollouts WHERE state = ? ORDER BY id DESC LIMIT ?'),
  runningRolloutsOf: statement<[string], { id: number }>(
    `SELECT r.id FROM rollouts r JOIN rollout_devices d ON d.rollout_id = r.id
      WHERE d.device_id = ? AND r.state = 'running' AND d.step = r.step`,
  ),
  runningRollouts: statement<[], { id: number; next_step_at: number }>(
    "SELECT id, next_step_at FROM rollouts WHERE state = 'running' ORDER BY id",
  ),
  addRollout: statement<[string, number, number, string, number, number, number, number, number], { id: number }>(
    `INSERT INTO rollouts (layer, from_version, to_version, steps, wait_s, max_failed_percent, state, step,
                           next_step_at, created_at, updated_at)
     VALUES (?, ?, ?, ?, ?, ?, 'running', 1, ?, ?, ?) RETURNING id`,
  ),
  updateRollout: statement<[string, number, number | null, string | null, number, number]>(
    'UPDATE rollouts SET state = ?, step = ?, next_step_at = ?, reason = ?, updated_at = ? WHERE id = ?',
  ),
  addRolloutDevice: statement<[number, string, number, number | null]>(
    'INSERT INTO rollout_devices (rollout_id, device_id, position, step) VALUES (?, ?, ?, ?)',
  ),
  rolloutDevices: statement<[number], RolloutDeviceRow>(
    'SELECT device_id, position, step, version FROM rollout_devices WHERE rollout_id = ? ORDER BY position',
  ),
  reachDevice: statement<[number, number | null, number, string]>(
    'UPDATE rollout_devices SET step = ?, version = ? WHERE rollout_id = ? AND device_id = ?',
  ),
  addSession: statement<[string, string, string | null, string, string, string | null, number, number]>(
    `INSERT INTO sessions (key, role, device_id, csrf_token, credential, address, created_at, expires_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
  ),
  session: statement<[string, number], StoredSession>('SELECT * FROM sessions WHERE key = ? AND expires_at > ?'),
  deleteSession: statement<[string]>('DELETE FROM sessions WHERE key = ?'),
  sweepSessions: statement<[number]>('DELETE FROM sessions WHERE expires_at <= ?'),
  outcomeSince: statement<[string, number], { apply_status: 'applied' | 'failed'; apply_error: string | null }>(
    `SELECT apply_status, apply_error FROM config_versions
      WHERE device_id = ? AND version >= ? AND apply_status IS NOT NULL ORDER BY version DESC LIMIT 1`,
  ),
};

/**
 * The store, on SQLite or PostgreSQL (see `SqlDatabase`): every layer version and every effective config served to a
 * device (never deleted), who changed what, rollouts and what each device reported. Every write of configs, layers
 * or rollouts runs in a transaction that excludes the others, so a precondition checked in it still holds when it
 * commits; a status report that is not a failure writes only its device's rows, beside them.
 */
export class SqlStore implements Store {
  private readonly listeners: Array<(deviceIds: readonly string[], source: ChangeSource) => void> = [];
  private readonly replicaListeners: Array<(deviceIds: readonly string[] | 'all') => void> = [];

  private readonly currentVersions: CurrentVersions;

  constructor(readonly db: SqlDatabase) {
    this.currentVersions = new CurrentVersions(db);
  }

  async open(): Promise<void> {
    await this.db.open();
    await this.db.channel?.listen(
      (deviceIds) => this.replicaListeners.forEach((listener) => listener(deviceIds)),
      () => this.replicaListeners.forEach((listener) => listener('all')),
    );
  }

  async current(deviceId: string): Promise<ConfigVersion | undefined> {
    const row = await this.currentVersions.read(deviceId);
    return row && toConfigVersion(row);
  }

  async history(deviceId: string, limit: number): Promise<ConfigVersion[]> {
    return (await S.history.all(this.db, deviceId, limit)).map(toConfigVersion);
  }

  async writeDeviceConfig(
    deviceId: string,
    wanted: Config,
    change: Change,
    precondition: (currentRevision: number | undefined) => void,
    dryRun = false,
  ): Promise<DeviceWriteResult> {
    try {
      return await this.writeDevice(deviceId, wanted, change, precondition, dryRun);
    } catch (error) {
      if (error instanceof DryRun) return { version: 0, outcome: 'unchanged', layerVersion: 0, preview: error.result };
      throw error;
    }
  }

  private writeDevice(
    deviceId: string,
    wanted: Config,
    change: Change,
    precondition: (currentRevision: number | undefined) => void,
    dryRun: boolean,
  ): Promise<DeviceWriteResult> {
    return this.write<DeviceWriteResult>(async (sql) => {
      const known = await this.record(sql, deviceId);
      precondition(known?.revision);
      const view = await this.view(sql);
      const device: DeviceRecord = known ?? {
        device_id: deviceId,
        // A new device's groups are selected by the type it registers with, until it reports one.
        device_type: typeof wanted.device_type === 'string' ? wanted.device_type : null,
        tags: {},
        layer: {},
        discovered: {},
        layer_version: 0,
        revision: 0,
        effective: undefined,
      };
      // What the change is based on: what the device is served, or for a new device what the fleet and groups give.
      const base = known ? (isPlainObject(known.effective) ? known.effective : {}) : view.effective(device).config;
      const { layer, discovered } = splitDiscovered(deviceLayerAfter(device.layer, base, wanted), device, base, wanted);
      const now = Date.now();
      if (!known) await S.addDevice.run(sql, deviceId, now);
      let layerVersion = device.layer_version;
      if (!known || !sameConfig(layer, device.layer) || !sameConfig(discovered, device.discovered)) {
        const body: LayerBody = { config: layer, ...(Object.keys(discovered).length > 0 ? { discovered } : {}) };
        layerVersion = await this.addLayerVersion(sql, deviceLayer(deviceId), device.layer_version, body, change, null);
      }
      const next = { ...device, device_type: known?.device_type ?? null, layer, discovered, layer_version: layerVersion };
      const { config } = view.effective(next);
      if (dryRun) {
        const changed = !known || !sameConfig(config, known.effective);
        const affected = changed ? [devicePreview(device, config)] : [];
        throw new DryRun({ layer: deviceLayer(deviceId), version: layerVersion, changed, dry_run: true, affected, warnings: [] });
      }
      if (known && sameConfig(config, known.effective)) return { result: { version: known.revision, outcome: 'unchanged' as const, layerVersion }, changed: [] };
      const problems = effectiveProblems(config);
      if (problems.length > 0) {
        throw new HttpError(400, `the effective config of ${deviceId} (fleet, groups and this change) would be invalid; nothing was stored`, { problems });
      }
      const version = await this.addRevision(sql, deviceId, device.revision, config, change, `device v${layerVersion}`);
      return { result: { version, outcome: known ? ('updated' as const) : ('created' as const), layerVersion }, changed: [deviceId] };
    }, change.source);
  }

  async effective(deviceId: string): Promise<Effective | undefined> {
    const device = await this.record(this.db, deviceId);
    if (!device) return undefined;
    return { device_id: deviceId, version: device.revision, ...(await this.view(this.db)).effective(device) };
  }

  async layer(layer: LayerKey): Promise<LayerVersion | undefined> {
    const current = await S.layerCurrent.get(this.db, layer);
    return current && this.layerVersion(layer, current.current_version);
  }

  async layerVersion(layer: LayerKey, version: number): Promise<LayerVersion | undefined> {
    const row = await S.layerVersion.get(this.db, layer, version);
    return row && toLayerVersion(row);
  }

  async layerHistory(layer: LayerKey, limit: number): Promise<LayerVersion[]> {
    return (await S.layerHistory.all(this.db, layer, limit)).map(toLayerVersion);
  }

  async groups(): Promise<GroupState[]> {
    return this.groupsOn(this.db);
  }

  private async groupsOn(sql: SqlClient): Promise<GroupState[]> {
    const groups: GroupState[] = [];
    for (const { layer, current_version: version } of await S.sharedLayers.all(sql)) {
      if (!layer.startsWith('group:')) continue;
      const stored = toLayerVersion((await S.layerVersion.get(sql, layer, version))!);
      if (!stored.body) continue;
      groups.push({
        name: layer.slice('group:'.length),
        version,
        selector: stored.body.selector ?? {},
        priority: stored.body.priority ?? 0,
        config: stored.body.config,
        updated_at: stored.created_at,
      });
    }
    return mergeOrder(groups);
  }

  async groupDevices(name: string): Promise<DeviceMembership[] | undefined> {
    const group = await this.layer(`group:${name}`);
    if (!group?.body) return undefined;
    const selector = group.body.selector ?? {};
    return (await this.records(this.db))
      .filter((device) => selects(selector, attributesOf(device)))
      .map((device) => ({ device_id: device.device_id, device_type: attributesOf(device).device_type, tags: device.tags }));
  }

  async changeLayer(layer: LayerKey, body: LayerBody | null, change: Change, options: LayerWriteOptions): Promise<LayerWriteResult> {
    try {
      return await this.write(async (sql) => {
        const current = (await S.layerCurrent.get(sql, layer))?.current_version;
        options.precondition(current);
        const active = await S.activeRollout.get(sql, layer);
        if (active) {
          throw new HttpError(409, `rollout ${active.id} of ${layer} is under way: resume, abort or roll it back first (POST /rollouts/${active.id}/...)`, { rollout: active.id });
        }
        return this.storeLayer(sql, layer, body, change, options, current ?? 0);
      }, change.source);
    } catch (error) {
      if (error instanceof DryRun) return error.result;
      throw error;
    }
  }

  /**
   * Inside a write: stores `body` as the layer's next version, answers which devices it changes (refused when any
   * would be invalid; rolled back with a dry run), and serves the new effective configs, or starts a rollout.
   */
  private async storeLayer(
    sql: SqlClient,
    layer: LayerKey,
    body: LayerBody | null,
    change: Change,
    options: LayerWriteOptions,
    current: number,
  ): Promise<{ result: LayerWriteResult; changed: string[] }> {
    const before = current === 0 ? null : await this.readBody(sql, layer, current);
    const selectorWarnings = (records: readonly DeviceRecord[]): string[] =>
      body?.selector && !records.some((device) => selects(body.selector!, attributesOf(device)))
        ? [`the selector of ${layer} matches no registered device`]
        : [];
    if (sameConfig(before, body)) {
      const warnings = selectorWarnings(await this.records(sql));
      return { result: { layer, version: current, changed: false, dry_run: options.dryRun === true, affected: [], warnings }, changed: [] };
    }
    const version = await this.addLayerVersion(sql, layer, current, body, change, options.note ?? null);
    const pinnedBefore = new Map((await S.layerPins.all(sql, layer)).map((pin) => [pin.device_id, pin.version]));
    await S.unpinLayer.run(sql, layer);
    const view = await this.view(sql);
    // Read once, after the new version (a device layer's change is in them): for the warning and the new configs.
    const records = await this.records(sql);
    const warnings = selectorWarnings(records);
    const updates = records.flatMap((device) => {
      const { config } = view.effective(device);
      return sameConfig(config, device.effective) ? [] : [{ device, config }];
    });
    const affected = updates.map(({ device, config }) => devicePreview(device, config));
    const result: LayerWriteResult = { layer, version, changed: true, dry_run: options.dryRun === true, affected, warnings };
    if (options.dryRun) throw new DryRun(result);
    const invalid = affected.filter((device) => !device.valid);
    if (invalid.length > 0) {
      throw new HttpError(400, `the change of ${layer} would make ${invalid.length} device(s) invalid; nothing was stored`, {
        invalid_devices: invalid.map(({ device_id, problems }) => ({ device_id, problems })),
      });
    }
    if (!options.rollout) {
      await this.addRevisions(sql, updates, change, `${layer} v${version}`);
      return { result, changed: updates.map(({ device }) => device.device_id) };
    }
    // A rollout: the devices of its first step get the new version now, the others stay pinned to what they had.
    const now = Date.now();
    const { steps, wait_s: waitS, max_failed_percent: maxFailed } = options.rollout;
    const { id } = (await S.addRollout.get(sql, layer, current, version, JSON.stringify(steps), waitS, maxFailed, now + waitS * 1000, now, now))!;
    const firstStep = reachedBy(steps, 0, updates.length);
    for (const [position, { device, config }] of updates.entries()) {
      await S.addRolloutDevice.run(sql, id, device.device_id, position, null);
      if (position >= firstStep) {
        await S.pin.run(sql, device.device_id, layer, pinnedBefore.get(device.device_id) ?? current);
        continue;
      }
      const revision = await this.addRevision(sql, device.device_id, device.revision, config, change, `rollout ${id} step 1`);
      await S.reachDevice.run(sql, 1, revision, id, device.device_id);
    }
    result.rollout = await this.rolloutState(sql, id);
    return { result, changed: updates.slice(0, firstStep).map(({ device }) => device.device_id) };
  }

  async setTags(deviceId: string, tags: Record<string, string>, change: Change): Promise<Record<string, string> | undefined> {
    return this.write(async (sql) => {
      if (!(await S.tags.get(sql, deviceId))) return { result: undefined, changed: [] };
      await S.setTags.run(sql, JSON.stringify(tags), deviceId);
      return { result: tags, changed: await this.refresh(sql, [deviceId], change, 'tags') };
    }, change.source);
  }

  async tags(deviceId: string): Promise<Record<string, string> | undefined> {
    const row = await S.tags.get(this.db, deviceId);
    return row && (JSON.parse(row.tags) as Record<string, string>);
  }

  async rollout(id: number): Promise<RolloutState | undefined> {
    return (await S.rollout.get(this.db, id)) && this.rolloutState(this.db, id);
  }

  async rollouts({ state, limit }: { state?: RolloutState['state']; limit: number }): Promise<RolloutSummary[]> {
    const rows = state === undefined ? await S.rollouts.all(this.db, limit) : await S.rolloutsIn.all(this.db, state, limit);
    return rows.map(toRolloutSummary);
  }

  async runningRollouts(): Promise<Array<{ id: number; next_step_at: number }>> {
    return S.runningRollouts.all(this.db);
  }

  async advanceRollout(id: number, now: number): Promise<RolloutState | undefined> {
    return this.write(async (sql) => {
      const rollout = await S.rollout.get(sql, id);
      if (!rollout || rollout.state !== 'running' || (rollout.next_step_at ?? 0) > now) {
        return { result: rollout && (await this.rolloutState(sql, id)), changed: [] };
      }
      if (await this.haltIfFailing(sql, rollout, now)) return { result: await this.rolloutState(sql, id), changed: [] };
      return this.nextStep(sql, rollout, now);
    }, 'admin');
  }

  /** Halts a running rollout whose current step has more failures than it allows; true when it did. */
  private async haltIfFailing(sql: SqlClient, rollout: RolloutRow, now: number): Promise<boolean> {
    const inStep = (await S.rolloutDevices.all(sql, rollout.id)).filter((device) => device.step === rollout.step);
    let failed = 0;
    for (const device of inStep) if ((await this.outcome(sql, device))?.apply_status === 'failed') failed += 1;
    const percent = failedPercent(failed, inStep.length);
    if (percent <= rollout.max_failed_percent) return false;
    const reason = `${failed} of ${inStep.length} device(s) of step ${rollout.step} failed to apply (${percent.toFixed(1)} % > ${rollout.max_failed_percent} %)`;
    await S.updateRollout.run(sql, 'halted', rollout.step, null, reason, now, rollout.id);
    return true;
  }

  async rolloutAction(id: number, action: RolloutAction, change: Change): Promise<RolloutState> {
    return this.write(async (sql) => {
      const rollout = await S.rollout.get(sql, id);
      if (!rollout) throw new HttpError(404, `no rollout ${id}`);
      const now = Date.now();
      const refuse = (): never => {
        throw new HttpError(409, `rollout ${id} is ${rollout.state.replace('_', ' ')}: it cannot be ${action === 'abort' ? 'aborted' : action === 'resume' ? 'resumed' : 'rolled back'}`);
      };
      if (action === 'resume') {
        if (rollout.state !== 'halted') refuse();
        return this.nextStep(sql, rollout, now);
      }
      if (action === 'abort') {
        if (rollout.state !== 'running' && rollout.state !== 'halted') refuse();
        await S.updateRollout.run(sql, 'aborted', rollout.step, null, 'aborted by an operator', now, id);
        return { result: await this.rolloutState(sql, id), changed: [] };
      }
      if (rollout.state === 'rolled_back') refuse();
      const current = (await S.layerCurrent.get(sql, rollout.layer))?.current_version;
      if (current !== rollout.to_version) {
        throw new HttpError(409, `${rollout.layer} has changed since rollout ${id} (now version ${current}): roll it back with POST /${rollout.layer.replace(':', 's/')}/rollback`);
      }
      const body = rollout.from_version === 0 ? null : await this.readBody(sql, rollout.layer, rollout.from_version);
      const { changed } = await this.storeLayer(sql, rollout.layer, body, change, { precondition: () => undefined, note: `rollback of rollout ${id}` }, current);
      await S.updateRollout.run(sql, 'rolled_back', rollout.step, null, 'rolled back by an operator', now, id);
      return { result: await this.rolloutState(sql, id), changed };
    }, change.source);
  }

  /** Reaches the rollout's next step now, or completes it after its last. */
  private async nextStep(sql: SqlClient, rollout: RolloutRow, now: number): Promise<{ result: RolloutState; changed: string[] }> {
    const steps = JSON.parse(rollout.steps) as number[];
    const change: Change = { source: 'admin', address: null };
    if (rollout.step >= steps.length) {
      const pinned = (await S.layerPins.all(sql, rollout.layer)).map((pin) => pin.device_id);
      await S.unpinLayer.run(sql, rollout.layer);
      const changed = await this.refresh(sql, pinned, change, `rollout ${rollout.id} completed`);
      await S.updateRollout.run(sql, 'completed', rollout.step, null, null, now, rollout.id);
      return { result: await this.rolloutState(sql, rollout.id), changed };
    }
    const step = rollout.step + 1;
    const devices = await S.rolloutDevices.all(sql, rollout.id);
    const reach = devices.filter((device) => device.step === null && device.position < reachedBy(steps, rollout.step, devices.length));
    for (const device of reach) await S.unpin.run(sql, device.device_id, rollout.layer);
    const changed = await this.refresh(sql, reach.map((device) => device.device_id), change, `rollout ${rollout.id} step ${step}`);
    for (const device of reach) {
      await S.reachDevice.run(sql, step, (await S.current.get(sql, device.device_id))?.version ?? null, rollout.id, device.device_id);
    }
    await S.updateRollout.run(sql, 'running', step, now + rollout.wait_s * 1000, null, now, rollout.id);
    return { result: await this.rolloutState(sql, rollout.id), changed };
  }

  private async outcome(sql: SqlClient, device: RolloutDeviceRow): Promise<{ apply_status: 'applied' | 'failed'; apply_error: string | null } | undefined> {
    return device.version === null ? undefined : S.outcomeSince.get(sql, device.device_id, device.version);
  }

  private async rolloutState(sql: SqlClient, id: number): Promise<RolloutState> {
    const summary = toRolloutSummary((await S.rollout.get(sql, id))!);
    const devices: RolloutDeviceState[] = [];
    for (const device of await S.rolloutDevices.all(sql, id)) {
      const outcome = await this.outcome(sql, device);
      devices.push({
        device_id: device.device_id,
        step: device.step,
        version: device.version,
        status: device.step === null ? 'waiting' : (outcome?.apply_status ?? 'pending'),
        error: outcome?.apply_error ?? null,
      });
    }
    return { ...summary, devices };
  }

  async recordSeen(deviceId: string, address: string | null): Promise<boolean> {
    return this.seen(this.db, deviceId, address);
  }

  private async seen(sql: SqlClient, deviceId: string, address: string | null): Promise<boolean> {
    return (await S.seen.run(sql, Date.now(), address, deviceId)) > 0;
  }

  /**
   * Stores a device's report: its scrape address (`report.address`, else the address the report came from), its
   * metrics port and device type, and the outcome of applying `report.version`. A new device type re-selects the
   * device's groups.
   */
  async recordReport(
    deviceId: string,
    report: StatusReport,
    fromAddress: string | null,
  ): Promise<DeviceSummary | 'unknown-device' | 'unknown-version'> {
    // Most reports (a fleet's, right after a change) change no config: they write their device's rows only, beside
    // other writes. A failure, which may halt a rollout, and a new device type, which re-selects groups, are judged
    // under the write lock like a config change, so that they see and are seen by the rollout's steps.
    if (report.status !== 'failed') {
      const outcome = await this.db.rowTransaction((sql) => this.recordPlainReport(sql, deviceId, report, fromAddress));
      if (outcome !== 'retyped') return outcome;
    }
    return this.write<DeviceSummary | 'unknown-device' | 'unknown-version'>(async (sql) => {
      const now = Date.now();
      const before = await this.record(sql, deviceId);
      if (!before || !(await this.seen(sql, deviceId, fromAddress))) return { result: 'unknown-device' as const, changed: [] };
      if (report.version !== undefined && report.status !== undefined) {
        if (!(await S.versionExists.get(sql, deviceId, report.version))) return { result: 'unknown-version' as const, changed: [] };
        await S.applyStatus.run(sql, report.status, report.error ?? null, now, deviceId, report.version);
      }
      await S.report.run(sql, report.address ?? fromAddress, report.metrics_port ?? null, report.device_type ?? null, now, deviceId);
      // A failure halts a rollout as soon as its step passes the threshold, without waiting for the step's end.
      if (report.status === 'failed') {
        for (const { id } of await S.runningRolloutsOf.all(sql, deviceId)) await this.haltIfFailing(sql, (await S.rollout.get(sql, id))!, now);
      }
      const retyped = report.device_type !== undefined && report.device_type !== before.device_type;
      const changed = retyped ? await this.refresh(sql, [deviceId], { source: 'device', address: fromAddress }, 'device_type reported') : [];
      return { result: (await this.summaries(sql, [(await S.device.get(sql, deviceId))!]))[0]!, changed };
    }, 'device');
  }

  /** A report that is no failure; 'retyped' (only the device's last contact stored) when it brings a new device type. */
  private async recordPlainReport(
    sql: SqlClient,
    deviceId: string,
    report: StatusReport,
    fromAddress: string | null,
  ): Promise<DeviceSummary | 'unknown-device' | 'unknown-version' | 'retyped'> {
    const now = Date.now();
    const device = await S.seenWithType.get(sql, now, fromAddress, deviceId);
    if (!device) return 'unknown-device';
    if (report.device_type !== undefined && report.device_type !== device.device_type) return 'retyped';
    if (report.version !== undefined && report.status !== undefined) {
      const stored = await S.applyStatus.run(sql, report.status, report.error ?? null, now, deviceId, report.version);
      if (stored === 0) return 'unknown-version';
    }
    await S.report.run(sql, report.address ?? fromAddress, report.metrics_port ?? null, null, now, deviceId);
    return (await this.summaries(sql, [(await S.device.get(sql, deviceId))!]))[0]!;
  }

  async device(deviceId: string): Promise<DeviceSummary | undefined> {
    const row = await S.device.get(this.db, deviceId);
    return row && (await this.summaries(this.db, [row]))[0];
  }

  async devices(): Promise<DeviceSummary[]> {
    return this.summaries(this.db, await S.devices.all(this.db));
  }

  /** The rows as `GET /devices` shows them, with the groups that select each device now. */
  private async summaries(sql: SqlClient, rows: readonly DeviceRow[]): Promise<DeviceSummary[]> {
    const groups = await this.groupsOn(sql);
    // One device reads its own record; a list reads them all at once.
    const records = rows.length === 1 ? [await this.record(sql, rows[0]!.device_id)] : await this.records(sql);
    const byId = new Map(records.flatMap((record) => (record ? [[record.device_id, record] as const] : [])));
    return rows.map((row) => {
      const record = byId.get(row.device_id);
      const selecting = record ? groups.filter((group) => selects(group.selector, attributesOf(record))).map((group) => group.name) : [];
      return toDeviceSummary(row, selecting);
    });
  }

  async deviceCount(): Promise<number> {
    return (await S.deviceCount.get(this.db))!.count;
  }

  async failedDeviceCount(): Promise<number> {
    return (await S.failedCount.get(this.db))!.count;
  }

  onEffectiveChange(listener: (deviceIds: readonly string[], source: ChangeSource) => void): void {
    this.listeners.push(listener);
  }

  onReplicaChange(listener: (deviceIds: readonly string[] | 'all') => void): void {
    this.replicaListeners.push(listener);
  }

  async addSession(session: StoredSession): Promise<void> {
    const { key, role, device_id: deviceId, csrf_token: csrf, credential, address, created_at: createdAt, expires_at: expiresAt } = session;
    await this.db.transaction((sql) => S.addSession.run(sql, key, role, deviceId, csrf, credential, address, createdAt, expiresAt));
  }

  async session(key: string, now: number): Promise<StoredSession | undefined> {
    return S.session.get(this.db, key, now);
  }

  async deleteSession(key: string): Promise<boolean> {
    return (await this.db.transaction((sql) => S.deleteSession.run(sql, key))) > 0;
  }

  async sweepSessions(now: number): Promise<number> {
    return this.db.transaction((sql) => S.sweepSessions.run(sql, now));
  }

  async ping(): Promise<void> {
    await S.ping.get(this.db);
  }

  async close(): Promise<void> {
    await this.db.close();
  }

  /**
   * Runs `work` in a write transaction (announcing the devices it changed to the other replicas, if any), then
   * tells the listeners which devices' effective configs it changed (each got one new version) and who made it.
   */
  private async write<T>(work: (sql: SqlClient) => Promise<{ result: T; changed: string[] }>, source: ChangeSource): Promise<T> {
    const { result, changed } = await this.db.transaction(async (sql) => {
      const outcome = await work(sql);
      if (outcome.changed.length > 0) await this.db.channel?.announce(sql, outcome.changed);
      return outcome;
    });
    if (changed.length > 0) for (const listener of this.listeners) listener(changed, source);
    return result;
  }

  /** Serves `deviceIds` their effective config again where it changed; returns those it changed. */
  private async refresh(sql: SqlClient, deviceIds: readonly string[], change: Change, cause: string): Promise<string[]> {
    if (deviceIds.length === 0) return [];
    const view = await this.view(sql);
    const changed: string[] = [];
    for (const deviceId of deviceIds) {
      const device = await this.record(sql, deviceId);
      if (!device) continue;
      const { config } = view.effective(device);
      if (sameConfig(config, device.effective)) continue;
      await this.addRevision(sql, deviceId, device.revision, config, change, cause);
      changed.push(deviceId);
    }
    return changed;
  }

  /** Several devices' next revisions in a few statements: a fleet change is one round trip per 500 devices, not one each. */
  private async addRevisions(sql: SqlClient, updates: ReadonlyArray<{ device: DeviceRecord; config: Config }>, change: Change, cause: string): Promise<void> {
    const now = Date.now();
    for (let start = 0; start < updates.length; start += ROWS_PER_STATEMENT) {
      const batch = updates.slice(start, start + ROWS_PER_STATEMENT);
      await sql.run(
        `INSERT INTO config_versions (device_id, version, config, source, address, created_at, cause) VALUES ${batch.map(() => '(?, ?, ?, ?, ?, ?, ?)').join(', ')}`,
        batch.flatMap(({ device, config }) => [device.device_id, device.revision + 1, JSON.stringify(config), change.source, change.address, now, cause]),
      );
    }
  }

  private async addRevision(sql: SqlClient, deviceId: string, previous: number, config: Config, change: Change, cause: string): Promise<number> {
    const version = previous + 1;
    await S.addVersion.run(sql, deviceId, version, JSON.stringify(config), change.source, change.address, Date.now(), cause);
    return version;
  }

  private async addLayerVersion(sql: SqlClient, layer: LayerKey, previous: number, body: LayerBody | null, change: Change, note: string | null): Promise<number> {
    const version = previous + 1;
    await S.addLayerVersion.run(sql, layer, version, body === null ? null : JSON.stringify(body), change.source, change.address, Date.now(), note);
    await S.setLayerCurrent.run(sql, layer, version);
    return version;
  }

  private async readBody(sql: SqlClient, layer: LayerKey, version: number): Promise<LayerBody | null> {
    const body = (await S.layerBody.get(sql, layer, version))?.body;
    return body === null || body === undefined ? null : (JSON.parse(body) as LayerBody);
  }

  /** The fleet and group layers now, with every version a rollout pins a device to. */
  private async view(sql: SqlClient): Promise<LayerView> {
    const pins = new Map<string, Map<LayerKey, number>>();
    const bodies = new Map<string, LayerBody | null>();
    const load = async (layer: LayerKey, version: number): Promise<void> => {
      const key = `${version}:${layer}`;
      if (!bodies.has(key)) bodies.set(key, await this.readBody(sql, layer, version));
    };
    for (const { device_id: deviceId, layer, version } of await S.pins.all(sql)) {
      const devicePins = pins.get(deviceId) ?? new Map<LayerKey, number>();
      devicePins.set(layer, version);
      pins.set(deviceId, devicePins);
      await load(layer, version);
    }
    const current = new Map((await S.sharedLayers.all(sql)).map((row) => [row.layer, row.current_version]));
    for (const [layer, version] of current) await load(layer, version);
    return new LayerView(current, pins, bodies);
  }

  private async record(sql: SqlClient, deviceId: string): Promise<DeviceRecord | undefined> {
    const row = await S.record.get(sql, deviceId);
    return row && toRecord(row);
  }

  private async records(sql: SqlClient): Promise<DeviceRecord[]> {
    return (await S.records.all(sql)).map(toRecord);
  }
}

/** The store on a SQLite file, created with its schema when missing. */
export class SqliteStore extends SqlStore {
  constructor(readonly path: string) {
    super(new SqliteDatabase(path));
  }
}

function toRecord(row: RecordRow): DeviceRecord {
  const body = row.layer_body === null ? null : (JSON.parse(row.layer_body) as LayerBody | null);
  return {
    device_id: row.device_id,
    device_type: row.device_type,
    tags: JSON.parse(row.tags) as Record<string, string>,
    layer: isPlainObject(body?.config) ? body.config : {},
    discovered: body?.discovered ?? {},
    layer_version: row.layer_version ?? 0,
    revision: row.revision,
    effective: JSON.parse(row.effective) as unknown,
  };
}

function toLayerVersion(row: LayerVersionRow): LayerVersion {
  return {
    layer: row.layer,
    version: row.version,
    body: row.body === null ? null : (JSON.parse(row.body) as LayerBody),
    source: row.source,
    address: row.address,
    created_at: iso(row.created_at),
    note: row.note,
  };
}

function toConfigVersion(row: VersionRow): ConfigVersion {
  return {
    version: row.version,
    config: JSON.parse(row.config) as Record<string, unknown>,
    source: row.source,
    address: row.address,
    created_at: iso(row.created_at),
    cause: row.cause,
    apply_status: row.apply_status,
    apply_error: row.apply_error,
    apply_reported_at: isoOrNull(row.apply_reported_at),
  };
}

function toRolloutSummary(row: RolloutRow): RolloutSummary {
  return {
    id: row.id,
    layer: row.layer,
    from_version: row.from_version,
    to_version: row.to_version,
    steps: JSON.parse(row.steps) as number[],
    wait_s: row.wait_s,
    max_failed_percent: row.max_failed_percent,
    state: row.state,
    step: row.step,
    next_step_at: isoOrNull(row.next_step_at),
    reason: row.reason,
    created_at: iso(row.created_at),
    updated_at: iso(row.updated_at),
  };
}

function toDeviceSummary(row: DeviceRow, groups: string[]): DeviceSummary {
  return {
    device_id: row.device_id,
    version: row.version,
    updated_at: iso(row.updated_at),
    source: row.source,
    last_seen: isoOrNull(row.last_seen_at),
    address: row.last_seen_address,
    device_type: row.device_type,
    metrics_port: row.metrics_port,
    target:
      row.target_address !== null && row.metrics_port !== null
        ? scrapeTarget(row.target_address, row.metrics_port)
        : null,
    apply:
      row.received_version === null || row.apply_status === null || row.apply_reported_at === null
        ? null
        : {
            received_version: row.received_version,
            status: row.apply_status,
            error: row.apply_error,
            applied_version: row.applied_version,
            reported_at: iso(row.apply_reported_at),
          },
    tags: JSON.parse(row.tags) as Record<string, string>,
    groups,
  };
}

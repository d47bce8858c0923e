import Database from 'better-sqlite3';
import type { StatusReport } from './bodies';
import { effectiveProblems, effectiveWarnings } from './effective-checks';
import { ConfigServerError, describeError, HttpError } from './errors';
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
  Store,
} from './store-api';

export type { ApplyState, ChangeSource, ConfigVersion, DeviceSummary, WriteOutcome } from './store-api';

/** Each entry brings the schema from the previous version (PRAGMA user_version) to the next. Never edit one. */
const MIGRATIONS: readonly string[] = [
  `CREATE TABLE devices (
     device_id TEXT PRIMARY KEY,
     created_at INTEGER NOT NULL,
     last_seen_at INTEGER,
     last_seen_address TEXT,
     device_type TEXT,
     target_address TEXT,
     metrics_port INTEGER,
     reported_at INTEGER
   ) STRICT;
   CREATE TABLE config_versions (
     device_id TEXT NOT NULL REFERENCES devices (device_id),
     version INTEGER NOT NULL,
     config TEXT NOT NULL,
     source TEXT NOT NULL CHECK (source IN ('admin', 'device')),
     address TEXT,
     created_at INTEGER NOT NULL,
     apply_status TEXT CHECK (apply_status IN ('applied', 'failed')),
     apply_error TEXT,
     apply_reported_at INTEGER,
     PRIMARY KEY (device_id, version)
   ) STRICT;`,
  // Layers: `config_versions` keeps what each device is served (its effective config, one revision per change of
  // it); a device's own layer starts as the whole config it had.
  `ALTER TABLE devices ADD COLUMN tags TEXT NOT NULL DEFAULT '{}';
   ALTER TABLE config_versions ADD COLUMN cause TEXT;
   CREATE TABLE layers (
     layer TEXT PRIMARY KEY,
     current_version INTEGER NOT NULL
   ) STRICT;
   CREATE TABLE layer_versions (
     layer TEXT NOT NULL,
     version INTEGER NOT NULL,
     body TEXT,
     source TEXT NOT NULL CHECK (source IN ('admin', 'device')),
     address TEXT,
     created_at INTEGER NOT NULL,
     note TEXT,
     PRIMARY KEY (layer, version)
   ) STRICT;
   CREATE TABLE layer_pins (
     device_id TEXT NOT NULL REFERENCES devices (device_id),
     layer TEXT NOT NULL,
     version INTEGER NOT NULL,
     PRIMARY KEY (device_id, layer)
   ) STRICT;
   CREATE TABLE rollouts (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     layer TEXT NOT NULL,
     from_version INTEGER NOT NULL,
     to_version INTEGER NOT NULL,
     steps TEXT NOT NULL,
     wait_s REAL NOT NULL,
     max_failed_percent REAL NOT NULL,
     state TEXT NOT NULL CHECK (state IN ('running', 'halted', 'aborted', 'completed', 'rolled_back')),
     step INTEGER NOT NULL,
     next_step_at INTEGER,
     reason TEXT,
     created_at INTEGER NOT NULL,
     updated_at INTEGER NOT NULL
   ) STRICT;
   CREATE TABLE rollout_devices (
     rollout_id INTEGER NOT NULL REFERENCES rollouts (id),
     device_id TEXT NOT NULL,
     position INTEGER NOT NULL,
     step INTEGER,
     version INTEGER,
     PRIMARY KEY (rollout_id, device_id)
   ) STRICT;
   INSERT INTO layers (layer, current_version)
     SELECT DISTINCT 'device:' || device_id, 1 FROM config_versions;
   INSERT INTO layer_versions (layer, version, body, source, address, created_at, note)
     SELECT 'device:' || v.device_id, 1, '{"config":' || v.config || '}', v.source, v.address, v.created_at,
            'the whole config the device had before layers'
       FROM config_versions v
      WHERE v.version = (SELECT MAX(version) FROM config_versions WHERE device_id = v.device_id);`,
];

interface VersionRow {
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
  SELECT d.device_id, d.last_seen_at, d.last_seen_address, d.device_type, d.target_address, d.metrics_port,
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
 * to an older one. Layer bodies are read once per version.
 */
class LayerView {
  private readonly bodies = new Map<string, LayerBody | null>();

  constructor(
    private readonly currentVersions: ReadonlyMap<LayerKey, number>,
    private readonly pins: ReadonlyMap<string, ReadonlyMap<LayerKey, number>>,
    private readonly readBody: (layer: LayerKey, version: number) => LayerBody | null,
  ) {}

  versionFor(deviceId: string, layer: LayerKey): number {
    return this.pins.get(deviceId)?.get(layer) ?? this.currentVersions.get(layer) ?? 0;
  }

  body(layer: LayerKey, version: number): LayerBody | null {
    if (version === 0) return null;
    const key = `${version}:${layer}`;
    if (!this.bodies.has(key)) this.bodies.set(key, this.readBody(layer, version));
    return this.bodies.get(key)!;
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

/**
 * The SQLite store: every layer version and every effective config served to a device (never deleted), who changed
 * what, rollouts and what each device reported. Writes run in immediate transactions; the file uses WAL and full
 * syncs, so a change acknowledged to a client survives a crash.
 */
export class SqliteStore implements Store {
  private readonly db: Database.Database;
  private readonly statements;
  private readonly listeners: Array<(deviceIds: readonly string[], source: ChangeSource) => void> = [];

  constructor(readonly path: string) {
    let db: Database.Database | undefined;
    try {
      db = new Database(path);
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = FULL');
      db.pragma('foreign_keys = ON');
      db.pragma('busy_timeout = 5000');
      migrate(db, path);
    } catch (error) {
      db?.close();
      if (error instanceof ConfigServerError) throw error;
      throw new ConfigServerError('ECS_DB_OPEN_FAILED', `cannot open the database ${path}: ${describeError(error)}`);
    }
    this.db = db;
    this.statements = {
      current: db.prepare<[string], VersionRow>(
        'SELECT * FROM config_versions WHERE device_id = ? ORDER BY version DESC LIMIT 1',
      ),
      history: db.prepare<[string, number], VersionRow>(
        'SELECT * FROM config_versions WHERE device_id = ? ORDER BY version DESC LIMIT ?',
      ),
      versionExists: db.prepare<[string, number], { found: number }>(
        'SELECT 1 AS found FROM config_versions WHERE device_id = ? AND version = ?',
      ),
      addDevice: db.prepare<[string, number]>(
        'INSERT INTO devices (device_id, created_at) VALUES (?, ?) ON CONFLICT (device_id) DO NOTHING',
      ),
      addVersion: db.prepare<[string, number, string, ChangeSource, string | null, number, string | null]>(
        `INSERT INTO config_versions (device_id, version, config, source, address, created_at, cause)
         VALUES (?, ?, ?, ?, ?, ?, ?)`,
      ),
      seen: db.prepare<[number, string | null, string]>(
        'UPDATE devices SET last_seen_at = ?, last_seen_address = ? WHERE device_id = ?',
      ),
      report: db.prepare<[string | null, number | null, string | null, number, string]>(
        `UPDATE devices SET target_address = ?, metrics_port = COALESCE(?, metrics_port),
                device_type = COALESCE(?, device_type), reported_at = ?
          WHERE device_id = ?`,
      ),
      applyStatus: db.prepare<[string, string | null, number, string, number]>(
        `UPDATE config_versions SET apply_status = ?, apply_error = ?, apply_reported_at = ?
          WHERE device_id = ? AND version = ?`,
      ),
      device: db.prepare<[string], DeviceRow>(`${DEVICE_SELECT} WHERE d.device_id = ?`),
      devices: db.prepare<[], DeviceRow>(`${DEVICE_SELECT} ORDER BY d.device_id`),
      record: db.prepare<[string], RecordRow>(`${RECORD_SELECT} WHERE d.device_id = ?`),
      records: db.prepare<[], RecordRow>(`${RECORD_SELECT} ORDER BY d.device_id`),
      ping: db.prepare('SELECT 1'),
      deviceCount: db.prepare<[], { count: number }>('SELECT COUNT(*) AS count FROM devices'),
      failedCount: db.prepare<[], { count: number }>(
        `SELECT COUNT(*) AS count FROM config_versions v
          WHERE apply_status = 'failed'
            AND version = (SELECT MAX(version) FROM config_versions
                            WHERE device_id = v.device_id AND apply_status IS NOT NULL)`,
      ),
      tags: db.prepare<[string], { tags: string }>('SELECT tags FROM devices WHERE device_id = ?'),
      setTags: db.prepare<[string, string]>('UPDATE devices SET tags = ? WHERE device_id = ?'),
      sharedLayers: db.prepare<[], { layer: LayerKey; current_version: number }>(
        "SELECT layer, current_version FROM layers WHERE layer NOT LIKE 'device:%'",
      ),
      layerCurrent: db.prepare<[string], { current_version: number }>('SELECT current_version FROM layers WHERE layer = ?'),
      layerBody: db.prepare<[string, number], { body: string | null }>(
        'SELECT body FROM layer_versions WHERE layer = ? AND version = ?',
      ),
      layerVersion: db.prepare<[string, number], LayerVersionRow>('SELECT * FROM layer_versions WHERE layer = ? AND version = ?'),
      layerHistory: db.prepare<[string, number], LayerVersionRow>(
        'SELECT * FROM layer_versions WHERE layer = ? ORDER BY version DESC LIMIT ?',
      ),
      addLayerVersion: db.prepare<[string, number, string | null, ChangeSource, string | null, number, string | null]>(
        `INSERT INTO layer_versions (layer, version, body, source, address, created_at, note) VALUES (?, ?, ?, ?, ?, ?, ?)`,
      ),
      setLayerCurrent: db.prepare<[string, number]>(
        `INSERT INTO layers (layer, current_version) VALUES (?, ?)
           ON CONFLICT (layer) DO UPDATE SET current_version = excluded.current_version`,
      ),
      pins: db.prepare<[], { device_id: string; layer: LayerKey; version: number }>('SELECT device_id, layer, version FROM layer_pins'),
      layerPins: db.prepare<[string], { device_id: string; version: number }>('SELECT device_id, version FROM layer_pins WHERE layer = ?'),
      pin: db.prepare<[string, string, number]>(
        `INSERT INTO layer_pins (device_id, layer, version) VALUES (?, ?, ?)
           ON CONFLICT (device_id, layer) DO UPDATE SET version = excluded.version`,
      ),
      unpin: db.prepare<[string, string]>('DELETE FROM layer_pins WHERE device_id = ? AND layer = ?'),
      unpinLayer: db.prepare<[string]>('DELETE FROM layer_pins WHERE layer = ?'),
      activeRollout: db.prepare<[string], { id: number }>(
        "SELECT id FROM rollouts WHERE layer = ? AND state IN ('running', 'halted')",
      ),
      rollout: db.prepare<[number], RolloutRow>('SELECT * FROM rollouts WHERE id = ?'),
      runningRolloutsOf: db.prepare<[string], { id: number }>(
        `SELECT r.id FROM rollouts r JOIN rollout_devices d ON d.rollout_id = r.id
          WHERE d.device_id = ? AND r.state = 'running' AND d.step = r.step`,
      ),
      runningRollouts: db.prepare<[], { id: number; next_step_at: number }>(
        "SELECT id, next_step_at FROM rollouts WHERE state = 'running' ORDER BY id",
      ),
      addRollout: db.prepare<[string, number, number, string, number, number, number, number, number]>(
        `INSERT INTO rollouts (layer, from_version, to_version, steps, wait_s, max_failed_percent, state, step,
                               next_step_at, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, 'running', 1, ?, ?, ?) RETURNING id`,
      ),
      updateRollout: db.prepare<[string, number, number | null, string | null, number, number]>(
        'UPDATE rollouts SET state = ?, step = ?, next_step_at = ?, reason = ?, updated_at = ? WHERE id = ?',
      ),
      addRolloutDevice: db.prepare<[number, string, number, number | null]>(
        'INSERT INTO rollout_devices (rollout_id, device_id, position, step) VALUES (?, ?, ?, ?)',
      ),
      rolloutDevices: db.prepare<[number], RolloutDeviceRow>(
        'SELECT device_id, position, step, version FROM rollout_devices WHERE rollout_id = ? ORDER BY position',
      ),
      reachDevice: db.prepare<[number, number | null, number, string]>(
        'UPDATE rollout_devices SET step = ?, version = ? WHERE rollout_id = ? AND device_id = ?',
      ),
      outcomeSince: db.prepare<[string, number], { apply_status: 'applied' | 'failed'; apply_error: string | null }>(
        `SELECT apply_status, apply_error FROM config_versions
          WHERE device_id = ? AND version >= ? AND apply_status IS NOT NULL ORDER BY version DESC LIMIT 1`,
      ),
    };
  }

  async current(deviceId: string): Promise<ConfigVersion | undefined> {
    const row = this.statements.current.get(deviceId);
    return row && toConfigVersion(row);
  }

  async history(deviceId: string, limit: number): Promise<ConfigVersion[]> {
    return this.statements.history.all(deviceId, limit).map(toConfigVersion);
  }

  async writeDeviceConfig(
    deviceId: string,
    wanted: Config,
    change: Change,
    precondition: (currentRevision: number | undefined) => void,
    dryRun = false,
  ): Promise<DeviceWriteResult> {
    try {
      return this.writeDevice(deviceId, wanted, change, precondition, dryRun);
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
  ): DeviceWriteResult {
    return this.write<DeviceWriteResult>(() => {
      const known = this.record(deviceId);
      precondition(known?.revision);
      const view = this.view();
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
      if (!known) this.statements.addDevice.run(deviceId, now);
      let layerVersion = device.layer_version;
      if (!known || !sameConfig(layer, device.layer) || !sameConfig(discovered, device.discovered)) {
        const body: LayerBody = { config: layer, ...(Object.keys(discovered).length > 0 ? { discovered } : {}) };
        layerVersion = this.addLayerVersion(deviceLayer(deviceId), device.layer_version, body, change, null);
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
      const version = this.addRevision(deviceId, device.revision, config, change, `device v${layerVersion}`);
      return { result: { version, outcome: known ? ('updated' as const) : ('created' as const), layerVersion }, changed: [deviceId] };
    }, change.source);
  }

  async effective(deviceId: string): Promise<Effective | undefined> {
    const device = this.record(deviceId);
    if (!device) return undefined;
    return { device_id: deviceId, version: device.revision, ...this.view().effective(device) };
  }

  async layer(layer: LayerKey): Promise<LayerVersion | undefined> {
    const current = this.statements.layerCurrent.get(layer);
    return current && this.layerAt(layer, current.current_version);
  }

  /** One stored version of a layer. */
  layerAt(layer: LayerKey, version: number): LayerVersion | undefined {
    const row = this.statements.layerVersion.get(layer, version);
    return row && toLayerVersion(row);
  }

  async layerVersion(layer: LayerKey, version: number): Promise<LayerVersion | undefined> {
    return this.layerAt(layer, version);
  }

  async layerHistory(layer: LayerKey, limit: number): Promise<LayerVersion[]> {
    return this.statements.layerHistory.all(layer, limit).map(toLayerVersion);
  }

  async groups(): Promise<GroupState[]> {
    const groups: GroupState[] = [];
    for (const { layer, current_version: version } of this.statements.sharedLayers.all()) {
      if (!layer.startsWith('group:')) continue;
      const stored = this.layerAt(layer, version)!;
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
    return this.records()
      .filter((device) => selects(selector, attributesOf(device)))
      .map((device) => ({ device_id: device.device_id, device_type: attributesOf(device).device_type, tags: device.tags }));
  }

  async changeLayer(layer: LayerKey, body: LayerBody | null, change: Change, options: LayerWriteOptions): Promise<LayerWriteResult> {
    try {
      return this.write(() => {
        const current = this.statements.layerCurrent.get(layer)?.current_version;
        options.precondition(current);
        const active = this.statements.activeRollout.get(layer);
        if (active) {
          throw new HttpError(409, `rollout ${active.id} of ${layer} is under way: resume, abort or roll it back first (POST /rollouts/${active.id}/...)`, { rollout: active.id });
        }
        return this.storeLayer(layer, body, change, options, current ?? 0);
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
  private storeLayer(
    layer: LayerKey,
    body: LayerBody | null,
    change: Change,
    options: LayerWriteOptions,
    current: number,
  ): { result: LayerWriteResult; changed: string[] } {
    const before = current === 0 ? null : this.readBody(layer, current);
    const warnings = body?.selector && !this.records().some((device) => selects(body.selector!, attributesOf(device)))
      ? [`the selector of ${layer} matches no registered device`]
      : [];
    if (sameConfig(before, body)) {
      return { result: { layer, version: current, changed: false, dry_run: options.dryRun === true, affected: [], warnings }, changed: [] };
    }
    const version = this.addLayerVersion(layer, current, body, change, options.note ?? null);
    const pinnedBefore = new Map(this.statements.layerPins.all(layer).map((pin) => [pin.device_id, pin.version]));
    this.statements.unpinLayer.run(layer);
    const view = this.view();
    const updates = this.records().flatMap((device) => {
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
      for (const { device, config } of updates) this.addRevision(device.device_id, device.revision, config, change, `${layer} v${version}`);
      return { result, changed: updates.map(({ device }) => device.device_id) };
    }
    // A rollout: the devices of its first step get the new version now, the others stay pinned to what they had.
    const now = Date.now();
    const { steps, wait_s: waitS, max_failed_percent: maxFailed } = options.rollout;
    const id = this.statements.addRollout.get(layer, current, version, JSON.stringify(steps), waitS, maxFailed, now + waitS * 1000, now, now) as { id: number };
    const firstStep = reachedBy(steps, 0, updates.length);
    updates.forEach(({ device, config }, position) => {
      const reached = position < firstStep;
      this.statements.addRolloutDevice.run(id.id, device.device_id, position, null);
      if (!reached) {
        this.statements.pin.run(device.device_id, layer, pinnedBefore.get(device.device_id) ?? current);
        return;
      }
      const revision = this.addRevision(device.device_id, device.revision, config, change, `rollout ${id.id} step 1`);
      this.statements.reachDevice.run(1, revision, id.id, device.device_id);
    });
    result.rollout = this.rolloutState(id.id);
    return { result, changed: updates.slice(0, firstStep).map(({ device }) => device.device_id) };
  }

  async setTags(deviceId: string, tags: Record<string, string>, change: Change): Promise<Record<string, string> | undefined> {
    return this.write(() => {
      if (!this.statements.tags.get(deviceId)) return { result: undefined, changed: [] };
      this.statements.setTags.run(JSON.stringify(tags), deviceId);
      return { result: tags, changed: this.refresh([deviceId], change, 'tags') };
    }, change.source);
  }

  async tags(deviceId: string): Promise<Record<string, string> | undefined> {
    const row = this.statements.tags.get(deviceId);
    return row && (JSON.parse(row.tags) as Record<string, string>);
  }

  async rollout(id: number): Promise<RolloutState | undefined> {
    return this.statements.rollout.get(id) && this.rolloutState(id);
  }

  async runningRollouts(): Promise<Array<{ id: number; next_step_at: number }>> {
    return this.statements.runningRollouts.all();
  }

  async advanceRollout(id: number, now: number): Promise<RolloutState | undefined> {
    return this.write(() => {
      const rollout = this.statements.rollout.get(id);
      if (!rollout || rollout.state !== 'running' || (rollout.next_step_at ?? 0) > now) return { result: rollout && this.rolloutState(id), changed: [] };
      if (this.haltIfFailing(rollout, now)) return { result: this.rolloutState(id), changed: [] };
      return this.nextStep(rollout, now);
    }, 'admin');
  }

  /** Halts a running rollout whose current step has more failures than it allows; true when it did. */
  private haltIfFailing(rollout: RolloutRow, now: number): boolean {
    const inStep = this.statements.rolloutDevices.all(rollout.id).filter((device) => device.step === rollout.step);
    const failed = inStep.filter((device) => this.outcome(device)?.apply_status === 'failed').length;
    const percent = failedPercent(failed, inStep.length);
    if (percent <= rollout.max_failed_percent) return false;
    const reason = `${failed} of ${inStep.length} device(s) of step ${rollout.step} failed to apply (${percent.toFixed(1)} % > ${rollout.max_failed_percent} %)`;
    this.statements.updateRollout.run('halted', rollout.step, null, reason, now, rollout.id);
    return true;
  }

  async rolloutAction(id: number, action: RolloutAction, change: Change): Promise<RolloutState> {
    return this.write(() => {
      const rollout = this.statements.rollout.get(id);
      if (!rollout) throw new HttpError(404, `no rollout ${id}`);
      const now = Date.now();
      const refuse = (): never => {
        throw new HttpError(409, `rollout ${id} is ${rollout.state.replace('_', ' ')}: it cannot be ${action === 'abort' ? 'aborted' : action === 'resume' ? 'resumed' : 'rolled back'}`);
      };
      if (action === 'resume') {
        if (rollout.state !== 'halted') refuse();
        return this.nextStep(rollout, now);
      }
      if (action === 'abort') {
        if (rollout.state !== 'running' && rollout.state !== 'halted') refuse();
        this.statements.updateRollout.run('aborted', rollout.step, null, 'aborted by an operator', now, id);
        return { result: this.rolloutState(id), changed: [] };
      }
      if (rollout.state === 'rolled_back') refuse();
      const current = this.statements.layerCurrent.get(rollout.layer)?.current_version;
      if (current !== rollout.to_version) {
        throw new HttpError(409, `${rollout.layer} has changed since rollout ${id} (now version ${current}): roll it back with POST /${rollout.layer.replace(':', 's/')}/rollback`);
      }
      const body = rollout.from_version === 0 ? null : this.readBody(rollout.layer, rollout.from_version);
      const { changed } = this.storeLayer(rollout.layer, body, change, { precondition: () => undefined, note: `rollback of rollout ${id}` }, current);
      this.statements.updateRollout.run('rolled_back', rollout.step, null, 'rolled back by an operator', now, id);
      return { result: this.rolloutState(id), changed };
    }, change.source);
  }

  /** Reaches the rollout's next step now, or completes it after its last. */
  private nextStep(rollout: RolloutRow, now: number): { result: RolloutState; changed: string[] } {
    const steps = JSON.parse(rollout.steps) as number[];
    const change: Change = { source: 'admin', address: null };
    if (rollout.step >= steps.length) {
      const pinned = this.statements.layerPins.all(rollout.layer).map((pin) => pin.device_id);
      this.statements.unpinLayer.run(rollout.layer);
      const changed = this.refresh(pinned, change, `rollout ${rollout.id} completed`);
      this.statements.updateRollout.run('completed', rollout.step, null, null, now, rollout.id);
      return { result: this.rolloutState(rollout.id), changed };
    }
    const step = rollout.step + 1;
    const devices = this.statements.rolloutDevices.all(rollout.id);
    const reach = devices.filter((device) => device.step === null && device.position < reachedBy(steps, rollout.step, devices.length));
    for (const device of reach) this.statements.unpin.run(device.device_id, rollout.layer);
    const changed = this.refresh(reach.map((device) => device.device_id), change, `rollout ${rollout.id} step ${step}`);
    for (const device of reach) {
      this.statements.reachDevice.run(step, this.statements.current.get(device.device_id)?.version ?? null, rollout.id, device.device_id);
    }
    this.statements.updateRollout.run('running', step, now + rollout.wait_s * 1000, null, now, rollout.id);
    return { result: this.rolloutState(rollout.id), changed };
  }

  private outcome(device: RolloutDeviceRow): { apply_status: 'applied' | 'failed'; apply_error: string | null } | undefined {
    return device.version === null ? undefined : this.statements.outcomeSince.get(device.device_id, device.version);
  }

  private rolloutState(id: number): RolloutState {
    const row = this.statements.rollout.get(id)!;
    const devices: RolloutDeviceState[] = this.statements.rolloutDevices.all(id).map((device) => {
      const outcome = this.outcome(device);
      return {
        device_id: device.device_id,
        step: device.step,
        version: device.version,
        status: device.step === null ? 'waiting' : (outcome?.apply_status ?? 'pending'),
        error: outcome?.apply_error ?? null,
      };
    });
    return {
      id,
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
      devices,
    };
  }

  async recordSeen(deviceId: string, address: string | null): Promise<boolean> {
    return this.seen(deviceId, address);
  }

  private seen(deviceId: string, address: string | null): boolean {
    return this.statements.seen.run(Date.now(), address, deviceId).changes > 0;
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
    return this.write<DeviceSummary | 'unknown-device' | 'unknown-version'>(() => {
      const now = Date.now();
      const before = this.record(deviceId);
      if (!before || !this.seen(deviceId, fromAddress)) return { result: 'unknown-device' as const, changed: [] };
      if (report.version !== undefined && report.status !== undefined) {
        if (!this.statements.versionExists.get(deviceId, report.version)) return { result: 'unknown-version' as const, changed: [] };
        this.statements.applyStatus.run(report.status, report.error ?? null, now, deviceId, report.version);
      }
      this.statements.report.run(
        report.address ?? fromAddress,
        report.metrics_port ?? null,
        report.device_type ?? null,
        now,
        deviceId,
      );
      // A failure halts a rollout as soon as its step passes the threshold, without waiting for the step's end.
      if (report.status === 'failed') {
        for (const { id } of this.statements.runningRolloutsOf.all(deviceId)) this.haltIfFailing(this.statements.rollout.get(id)!, now);
      }
      const retyped = report.device_type !== undefined && report.device_type !== before.device_type;
      const changed = retyped ? this.refresh([deviceId], { source: 'device', address: fromAddress }, 'device_type reported') : [];
      return { result: toDeviceSummary(this.statements.device.get(deviceId)!), changed };
    }, 'device');
  }

  async device(deviceId: string): Promise<DeviceSummary | undefined> {
    const row = this.statements.device.get(deviceId);
    return row && toDeviceSummary(row);
  }

  async devices(): Promise<DeviceSummary[]> {
    return this.statements.devices.all().map(toDeviceSummary);
  }

  async deviceCount(): Promise<number> {
    return this.statements.deviceCount.get()!.count;
  }

  async failedDeviceCount(): Promise<number> {
    return this.statements.failedCount.get()!.count;
  }

  onEffectiveChange(listener: (deviceIds: readonly string[], source: ChangeSource) => void): void {
    this.listeners.push(listener);
  }

  async ping(): Promise<void> {
    this.statements.ping.get();
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }

  /**
   * Runs `work` in an immediate transaction, then tells the listeners which devices' effective configs it changed
   * (each got one new version) and who made the change.
   */
  private write<T>(work: () => { result: T; changed: string[] }, source: ChangeSource): T {
    const { result, changed } = this.db.transaction(work).immediate();
    if (changed.length > 0) for (const listener of this.listeners) listener(changed, source);
    return result;
  }

  /** Serves `deviceIds` their effective config again where it changed; returns those it changed. */
  private refresh(deviceIds: readonly string[], change: Change, cause: string): string[] {
    if (deviceIds.length === 0) return [];
    const view = this.view();
    return deviceIds.filter((deviceId) => {
      const device = this.record(deviceId);
      if (!device) return false;
      const { config } = view.effective(device);
      if (sameConfig(config, device.effective)) return false;
      this.addRevision(deviceId, device.revision, config, change, cause);
      return true;
    });
  }

  private addRevision(deviceId: string, previous: number, config: Config, change: Change, cause: string): number {
    const version = previous + 1;
    this.statements.addVersion.run(deviceId, version, JSON.stringify(config), change.source, change.address, Date.now(), cause);
    return version;
  }

  private addLayerVersion(layer: LayerKey, previous: number, body: LayerBody | null, change: Change, note: string | null): number {
    const version = previous + 1;
    this.statements.addLayerVersion.run(layer, version, body === null ? null : JSON.stringify(body), change.source, change.address, Date.now(), note);
    this.statements.setLayerCurrent.run(layer, version);
    return version;
  }

  private readBody(layer: LayerKey, version: number): LayerBody | null {
    const body = this.statements.layerBody.get(layer, version)?.body;
    return body === null || body === undefined ? null : (JSON.parse(body) as LayerBody);
  }

  private view(): LayerView {
    const pins = new Map<string, Map<LayerKey, number>>();
    for (const { device_id: deviceId, layer, version } of this.statements.pins.all()) {
      const devicePins = pins.get(deviceId) ?? new Map<LayerKey, number>();
      devicePins.set(layer, version);
      pins.set(deviceId, devicePins);
    }
    const current = new Map(this.statements.sharedLayers.all().map((row) => [row.layer, row.current_version]));
    return new LayerView(current, pins, (layer, version) => this.readBody(layer, version));
  }

  private record(deviceId: string): DeviceRecord | undefined {
    const row = this.statements.record.get(deviceId);
    return row && toRecord(row);
  }

  private records(): DeviceRecord[] {
    return this.statements.records.all().map(toRecord);
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

function migrate(db: Database.Database, path: string): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > MIGRATIONS.length) {
    throw new ConfigServerError(
      'ECS_DB_TOO_NEW',
      `the database ${path} has schema version ${current}, but this server knows only up to ${MIGRATIONS.length}: run a newer server`,
    );
  }
  MIGRATIONS.slice(current).forEach((sql, index) => {
    db.transaction(() => {
      db.exec(sql);
      db.pragma(`user_version = ${current + index + 1}`);
    }).immediate();
  });
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

function toDeviceSummary(row: DeviceRow): DeviceSummary {
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
  };
}

import Database from 'better-sqlite3';
import type { StatusReport } from './bodies';
import { ConfigServerError, describeError } from './errors';

/** Who made a change: an operator (admin) or the device itself. */
export type ChangeSource = 'admin' | 'device';

/** One stored version of a device's config, as the API shows it. */
export interface ConfigVersion {
  version: number;
  config: Record<string, unknown>;
  source: ChangeSource;
  /** The client address the change came from. */
  address: string | null;
  created_at: string;
  /** What the device reported after receiving this version; null until it reports. */
  apply_status: 'applied' | 'failed' | null;
  apply_error: string | null;
  apply_reported_at: string | null;
}

/** A device as `GET /devices` shows it. */
export interface DeviceSummary {
  device_id: string;
  version: number;
  updated_at: string;
  /** Source of the last change. */
  source: ChangeSource;
  /** Last request made as this device, and the client address it came from. */
  last_seen: string | null;
  address: string | null;
  device_type: string | null;
  metrics_port: number | null;
  /** `host:port` that Prometheus scrapes (`/sd`); null until the device reports its metrics port. */
  target: string | null;
  apply: ApplyState | null;
}

/** The device's last reports: the newest version it received and the newest it runs are kept apart. */
export interface ApplyState {
  received_version: number;
  status: 'applied' | 'failed';
  error: string | null;
  applied_version: number | null;
  reported_at: string;
}

export type WriteOutcome = 'created' | 'updated' | 'unchanged';

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
];

interface VersionRow {
  version: number;
  config: string;
  source: ChangeSource;
  address: string | null;
  created_at: number;
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

const iso = (ms: number): string => new Date(ms).toISOString();
const isoOrNull = (ms: number | null): string | null => (ms === null ? null : iso(ms));

/** A JSON text with object keys sorted, so that two configs differing only in key order compare equal. */
function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, inner: unknown) =>
    inner && typeof inner === 'object' && !Array.isArray(inner)
      ? Object.fromEntries(Object.entries(inner).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : inner,
  );
}

/** `host:port`, with an IPv6 address in brackets. */
function scrapeTarget(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

/**
 * The SQLite store: every version of every device's config (never deleted), who changed it, and what each
 * device last reported. Writes run in immediate transactions; the file uses WAL and full syncs, so a change
 * acknowledged to a client survives a crash.
 */
export class ConfigStore {
  private readonly db: Database.Database;
  private readonly statements;

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
      addVersion: db.prepare<[string, number, string, ChangeSource, string | null, number]>(
        `INSERT INTO config_versions (device_id, version, config, source, address, created_at)
         VALUES (?, ?, ?, ?, ?, ?)`,
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
      ping: db.prepare('SELECT 1'),
      deviceCount: db.prepare<[], { count: number }>('SELECT COUNT(*) AS count FROM devices'),
      failedCount: db.prepare<[], { count: number }>(
        `SELECT COUNT(*) AS count FROM config_versions v
          WHERE apply_status = 'failed'
            AND version = (SELECT MAX(version) FROM config_versions
                            WHERE device_id = v.device_id AND apply_status IS NOT NULL)`,
      ),
    };
  }

  /** The newest version of a device's config, or undefined for a device the server does not know. */
  current(deviceId: string): ConfigVersion | undefined {
    const row = this.statements.current.get(deviceId);
    return row && toConfigVersion(row);
  }

  /** The newest `limit` versions, newest first. */
  history(deviceId: string, limit: number): ConfigVersion[] {
    return this.statements.history.all(deviceId, limit).map(toConfigVersion);
  }

  /**
   * Stores `config` as the device's next version, unless it equals the current one (then nothing is written and
   * the outcome is `unchanged`). `precondition` sees the current version inside the transaction and throws to
   * refuse the write.
   */
  write(
    deviceId: string,
    config: Record<string, unknown>,
    change: { source: ChangeSource; address: string | null },
    precondition: (currentVersion: number | undefined) => void,
  ): { version: number; outcome: WriteOutcome } {
    const write = this.db.transaction(() => {
      const current = this.statements.current.get(deviceId);
      precondition(current?.version);
      if (current && canonicalJson(JSON.parse(current.config)) === canonicalJson(config)) {
        return { version: current.version, outcome: 'unchanged' as const };
      }
      const now = Date.now();
      const version = (current?.version ?? 0) + 1;
      this.statements.addDevice.run(deviceId, now);
      this.statements.addVersion.run(deviceId, version, JSON.stringify(config), change.source, change.address, now);
      return { version, outcome: current ? ('updated' as const) : ('created' as const) };
    });
    return write.immediate();
  }

  /** Notes that the device made a request from `address`; false when the device is unknown. */
  recordSeen(deviceId: string, address: string | null): boolean {
    return this.statements.seen.run(Date.now(), address, deviceId).changes > 0;
  }

  /**
   * Stores a device's report: its scrape address (`report.address`, else the address the report came from), its
   * metrics port and device type, and the outcome of applying `report.version`.
   */
  recordReport(
    deviceId: string,
    report: StatusReport,
    fromAddress: string | null,
  ): DeviceSummary | 'unknown-device' | 'unknown-version' {
    const record = this.db.transaction(() => {
      const now = Date.now();
      if (!this.recordSeen(deviceId, fromAddress)) return 'unknown-device' as const;
      if (report.version !== undefined && report.status !== undefined) {
        if (!this.statements.versionExists.get(deviceId, report.version)) return 'unknown-version' as const;
        this.statements.applyStatus.run(report.status, report.error ?? null, now, deviceId, report.version);
      }
      this.statements.report.run(
        report.address ?? fromAddress,
        report.metrics_port ?? null,
        report.device_type ?? null,
        now,
        deviceId,
      );
      return toDeviceSummary(this.statements.device.get(deviceId)!);
    });
    return record.immediate();
  }

  device(deviceId: string): DeviceSummary | undefined {
    const row = this.statements.device.get(deviceId);
    return row && toDeviceSummary(row);
  }

  devices(): DeviceSummary[] {
    return this.statements.devices.all().map(toDeviceSummary);
  }

  deviceCount(): number {
    return this.statements.deviceCount.get()!.count;
  }

  /** Devices whose latest report is a failure to apply a version. */
  failedDeviceCount(): number {
    return this.statements.failedCount.get()!.count;
  }

  /** Throws when the database cannot answer. */
  ping(): void {
    this.statements.ping.get();
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
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

import Database from 'better-sqlite3';
import { ConfigServerError, describeError } from './errors';
import { tooNewMessage, type SqlClient, type SqlDatabase, type SqlValue } from './sql';

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
  // Console sessions, by the SHA-256 of the cookie's value; times in milliseconds.
  `CREATE TABLE sessions (
     key TEXT PRIMARY KEY,
     role TEXT NOT NULL CHECK (role IN ('admin', 'device')),
     device_id TEXT,
     csrf_token TEXT NOT NULL,
     credential TEXT NOT NULL,
     address TEXT,
     created_at INTEGER NOT NULL,
     expires_at INTEGER NOT NULL
   ) STRICT;
   CREATE INDEX sessions_by_expiry ON sessions (expires_at);`,
];

/**
 * An SQLite file through better-sqlite3, in WAL mode with full syncs, so a change acknowledged to a client survives a
 * crash. Statements run synchronously: a transaction's work completes without yielding to other requests.
 */
export class SqliteDatabase implements SqlDatabase {
  private readonly db: Database.Database;
  private readonly statements = new Map<string, Database.Statement>();
  /** Transactions of this process, one after the other (BEGIN IMMEDIATE excludes other processes). */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(readonly name: string) {
    let db: Database.Database | undefined;
    try {
      db = new Database(name);
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = FULL');
      db.pragma('foreign_keys = ON');
      db.pragma('busy_timeout = 5000');
    } catch (error) {
      db?.close();
      throw new ConfigServerError('ECS_DB_OPEN_FAILED', `cannot open the database ${name}: ${describeError(error)}`);
    }
    this.db = db;
    this.migrate();
  }

  /** Opened and migrated by the constructor already. */
  async open(): Promise<void> {}

  private migrate(): void {
    try {
      const current = this.db.pragma('user_version', { simple: true }) as number;
      if (current > MIGRATIONS.length) {
        throw new ConfigServerError('ECS_DB_TOO_NEW', tooNewMessage(this.name, current, MIGRATIONS.length));
      }
      MIGRATIONS.slice(current).forEach((sql, index) => {
        this.db.transaction(() => {
          this.db.exec(sql);
          this.db.pragma(`user_version = ${current + index + 1}`);
        }).immediate();
      });
    } catch (error) {
      this.db.close();
      if (error instanceof ConfigServerError) throw error;
      throw new ConfigServerError('ECS_DB_OPEN_FAILED', `cannot open the database ${this.name}: ${describeError(error)}`);
    }
  }

  async get<T>(sql: string, params: readonly SqlValue[] = []): Promise<T | undefined> {
    return this.prepare(sql).get(...params) as T | undefined;
  }

  async all<T>(sql: string, params: readonly SqlValue[] = []): Promise<T[]> {
    return this.prepare(sql).all(...params) as T[];
  }

  async run(sql: string, params: readonly SqlValue[] = []): Promise<number> {
    return this.prepare(sql).run(...params).changes;
  }

  transaction<T>(work: (sql: SqlClient) => Promise<T>): Promise<T> {
    const result = this.queue.then(async () => {
      this.prepare('BEGIN IMMEDIATE').run();
      try {
        const value = await work(this);
        this.prepare('COMMIT').run();
        return value;
      } catch (error) {
        if (this.db.inTransaction) this.prepare('ROLLBACK').run();
        throw error;
      }
    });
    this.queue = result.catch(() => undefined);
    return result;
  }

  rowTransaction<T>(work: (sql: SqlClient) => Promise<T>): Promise<T> {
    return this.transaction(work);
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }

  private prepare(sql: string): Database.Statement {
    let statement = this.statements.get(sql);
    if (!statement) {
      statement = this.db.prepare(sql);
      this.statements.set(sql, statement);
    }
    return statement;
  }
}

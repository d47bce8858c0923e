/** A value bound to a `?` placeholder. */
export type SqlValue = string | number | null;

/** Statements with `?` placeholders, run on one engine; rows come back as plain objects keyed by column name. */
export interface SqlClient {
  get<T>(sql: string, params?: readonly SqlValue[]): Promise<T | undefined>;
  all<T>(sql: string, params?: readonly SqlValue[]): Promise<T[]>;
  /** Runs a statement; resolves with the number of rows it changed. */
  run(sql: string, params?: readonly SqlValue[]): Promise<number>;
}

/** Cross-replica change notices, on an engine that has them (PostgreSQL's LISTEN/NOTIFY). */
export interface ChangeChannel {
  /** Inside a write: tells the other replicas, once it commits, that these devices' effective configs changed. */
  announce(sql: SqlClient, deviceIds: readonly string[]): Promise<void>;
  /**
   * `onChange` gets the devices another replica changed; `onResync` runs after the channel (re)connects, when
   * notices may have been missed, so that every waiting device is checked again.
   */
  listen(onChange: (deviceIds: readonly string[]) => void, onResync: () => void): Promise<void>;
}

/** A database the store runs on: SQLite (one process) or PostgreSQL (several replicas). */
export interface SqlDatabase extends SqlClient {
  /** For messages: the file, or the URL without its password. */
  readonly name: string;
  /** Present where several servers share the database. */
  readonly channel?: ChangeChannel;
  /**
   * Connects and creates or upgrades the schema, refusing (ECS_DB_TOO_NEW) a database written by a newer server.
   * Called once before anything else.
   */
  open(): Promise<void>;
  /**
   * Runs `work` in a transaction that excludes every other write to the database, from this process or another:
   * commits when it resolves, rolls back when it throws.
   */
  transaction<T>(work: (sql: SqlClient) => Promise<T>): Promise<T>;
  /**
   * Runs `work` in a transaction that takes only the row locks of its own statements, beside the writes of
   * `transaction`: for writes that change no config, such as a device's status report. (SQLite has one writer:
   * there it is `transaction`.)
   */
  rowTransaction<T>(work: (sql: SqlClient) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** The schema is newer than this server's migrations: refuse rather than alter it. */
export function tooNewMessage(name: string, found: number, known: number): string {
  return `the database ${name} has schema version ${found}, but this server knows only up to ${known}: run a newer server`;
}

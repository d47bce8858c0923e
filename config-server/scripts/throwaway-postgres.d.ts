/** A throwaway PostgreSQL cluster in a temp folder, on a loopback port, trusting local connections. */
export interface ThrowawayPostgres {
  port: number;
  /** The URL of a database of this cluster. */
  url(database: string): string;
  /** A new empty database; its URL. */
  createDatabase(): Promise<string>;
  /** Stops the server (fast: connections are cut, committed work is kept). */
  halt(): Promise<void>;
  /** Starts it again on the same port. */
  resume(): Promise<void>;
  /** Stops it at once and removes its folder. */
  stop(): Promise<void>;
}

export function startThrowawayPostgres(): Promise<ThrowawayPostgres>;

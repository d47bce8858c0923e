/**
 * Errors the server reports to an operator, with stable codes. Messages say what went wrong and where (file,
 * variable, port); the CLI adds which flag to change.
 */

export type ConfigServerErrorCode =
  | 'ECS_USAGE'
  | 'ECS_TOKENS_INVALID'
  | 'ECS_DB_OPEN_FAILED'
  | 'ECS_DB_TOO_NEW'
  | 'ECS_DB_NOT_EMPTY'
  | 'ECS_PORT_IN_USE'
  | 'ECS_LISTEN_FAILED';

export class ConfigServerError extends Error {
  constructor(
    readonly code: ConfigServerErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'ConfigServerError';
  }
}

/** An answer to a request that went wrong: its status and a JSON body `{error, ...details}`. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

/** The database cannot be reached now (PostgreSQL down or restarting): the request is answered 503, nothing stored. */
export class DatabaseUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DatabaseUnavailableError';
  }
}

/** Too many writes already wait for the database (it hangs, or cannot keep up): answered 503, nothing stored. */
export class DatabaseBusyError extends Error {
  constructor(readonly waiting: number) {
    super(`${waiting} writes are already waiting for the database`);
    this.name = 'DatabaseBusyError';
  }
}

/** The message of anything thrown, for a log line: core's, so that the server describes errors as the exporter does. */
export { describeError } from '@edge-metrics/core/plugin';

/**
 * Every error core reports to an operator, with a stable code. Messages say what went wrong, where (file,
 * field, plugin, port) and, where one exists, the fix.
 */

export type ErrorCode =
  | 'EME_USAGE'
  | 'EME_CONFIG_READ'
  | 'EME_CONFIG_PARSE'
  | 'EME_CONFIG_INVALID'
  | 'EME_CONFIG_TOO_LARGE'
  | 'EME_CONFIG_WRITE'
  | 'EME_CONFIG_CONFLICT'
  | 'EME_PLUGIN_NOT_INSTALLED'
  | 'EME_PLUGIN_LOAD_FAILED'
  | 'EME_OPTIONS_INVALID'
  | 'EME_PORT_IN_USE'
  | 'EME_LISTEN_FAILED';

export class ExporterError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'ExporterError';
  }
}

/** The message of anything thrown, for a log line. */
export function describeError(error: unknown): string {
  // Not `instanceof Error`: errors made in another realm (a vm context, a worker) are not instances of ours.
  try {
    if (typeof error === 'object' && error !== null && typeof (error as Error).message === 'string') return (error as Error).message;
    return String(error);
  } catch {
    // A plugin's thrown value whose `message` getter throws, or that has no string form (`Object.create(null)`).
    return `an unprintable ${typeof error}`;
  }
}

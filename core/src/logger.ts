import { oneLine } from './log-text';
import type { Logger } from './plugin-api';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

/** Where log lines go; tests pass an array's push. */
export type LogSink = (line: string) => void;

const stderrSink: LogSink = (line) => process.stderr.write(line + '\n');

/**
 * A line-per-event logger for journald: `level: [scope] message`, no time stamp (journald adds one). Messages
 * quote plugins, files and clients, so each is escaped to one line: a `\n` in an error cannot forge a log line.
 * Children share the parent's level and the set of keys that `warnOnce` has already logged.
 */
export function createLogger(
  level: LogLevel = 'info',
  sink: LogSink = stderrSink,
  scope?: string,
  warnedKeys: Set<string> = new Set(),
): Logger & { child(scope: string): ReturnType<typeof createLogger> } {
  const prefix = scope ? `[${scope}] ` : '';
  const log = (at: Exclude<LogLevel, 'silent'>, message: string): void => {
    if (RANK[at] >= RANK[level]) sink(`${at}: ${oneLine(prefix + message)}`);
  };
  return {
    debug: (message) => log('debug', message),
    info: (message) => log('info', message),
    warn: (message) => log('warn', message),
    error: (message) => log('error', message),
    warnOnce(key, message) {
      const scopedKey = `${scope ?? ''}\u0000${key}`;
      if (warnedKeys.has(scopedKey)) return;
      warnedKeys.add(scopedKey);
      log('warn', message);
    },
    child: (childScope) => createLogger(level, sink, scope ? `${scope}/${childScope}` : childScope, warnedKeys),
  };
}

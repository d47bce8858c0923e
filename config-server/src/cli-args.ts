import { isIP } from 'node:net';
import { parseArgs } from 'node:util';
import { ConfigServerError, describeError } from './errors';

export interface RunOptions {
  port: number;
  host: string;
  dbPath: string;
  deviceTokensFile?: string;
  sessionTtlSeconds: number;
  offlineAfterSeconds: number;
  prometheusUrl?: string;
  grafanaUrl?: string;
}

export type CliCommand =
  | { kind: 'help' }
  | { kind: 'version' }
  | { kind: 'run'; options: RunOptions }
  | { kind: 'migrate'; from: string; to: string };

export const USAGE = `Usage: edge-metrics-config-server [options]
       edge-metrics-config-server migrate --from DB --to DB

Central config server for a fleet of Edge Metrics Exporter devices, with its fleet console at /ui/ (sign in
with the admin token, or a device's token to see that device).

Options:
  --port N              TCP port to listen on (default 8080; 0 picks a free one)
  --listen ADDR         address to listen on (default 0.0.0.0)
  --db FILE|URL         SQLite file, created on first start, or a postgres:// URL shared by several servers
                        (default: DATABASE_URL, else ./config-server.db)
  --device-tokens FILE  per-device tokens, one device_id=token a line
  --session-ttl DURATION
                        how long a console sign-in lasts: 90s, 30m, 12h, 7d (default 12h)
  --offline-after SECONDS
                        a device not seen for longer is offline (default 180)
  --prometheus-url URL  Prometheus, for each device's power in the console, e.g. http://127.0.0.1:9090
  --grafana-url URL     Grafana, for links from the console to each device's dashboard
  -h, --help            show this help
  --version             print the version

migrate copies a whole fleet (devices, every version, layers, statuses, rollouts) from one database to an
empty one: SQLite to PostgreSQL or back (DB: a file or a postgres:// URL). Stop the servers first. Console
sessions are not copied: everyone signs in again.

Environment:
  CONFIG_SERVER_TOKEN          admin bearer token; without any token the server is open to all
  CONFIG_SERVER_DEVICE_TOKENS  per-device tokens: edge-01=token1,edge-02=token2
  DATABASE_URL                 the database when --db is not given

Exit status: 0 after SIGTERM/SIGINT, 1 when the database or the port fails, 2 for bad options.
`;

const usageError = (message: string): ConfigServerError => new ConfigServerError('ECS_USAGE', message);

/** Reads the command line; throws ECS_USAGE naming the flag for anything unknown or malformed. */
export function parseCliArgs(argv: readonly string[], env: NodeJS.ProcessEnv = {}): CliCommand {
  if (argv[0] === 'migrate') return parseMigrate(argv.slice(1));
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        port: { type: 'string' },
        listen: { type: 'string' },
        db: { type: 'string' },
        'device-tokens': { type: 'string' },
        'session-ttl': { type: 'string' },
        'offline-after': { type: 'string' },
        'prometheus-url': { type: 'string' },
        'grafana-url': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean' },
      },
    }));
  } catch (error) {
    // node:util's messages run to a second sentence of advice for positionals; the first one says it.
    throw usageError(describeError(error).split('. ')[0]);
  }
  if (values.help) return { kind: 'help' };
  if (values.version) return { kind: 'version' };
  return {
    kind: 'run',
    options: {
      port: parsePort(values.port ?? '8080'),
      host: parseHost(values.listen ?? '0.0.0.0'),
      dbPath: values.db !== undefined ? nonEmpty(values.db, '--db') : nonEmpty(env.DATABASE_URL ?? './config-server.db', 'DATABASE_URL'),
      deviceTokensFile:
        values['device-tokens'] === undefined ? undefined : nonEmpty(values['device-tokens'], '--device-tokens'),
      sessionTtlSeconds: parseDuration(values['session-ttl'] ?? '12h', '--session-ttl'),
      offlineAfterSeconds: parseSeconds(values['offline-after'] ?? '180', '--offline-after'),
      ...(values['prometheus-url'] === undefined ? {} : { prometheusUrl: parseHttpUrl(values['prometheus-url'], '--prometheus-url') }),
      ...(values['grafana-url'] === undefined ? {} : { grafanaUrl: parseHttpUrl(values['grafana-url'], '--grafana-url') }),
    },
  };
}

function parseMigrate(argv: readonly string[]): CliCommand {
  let values;
  try {
    ({ values } = parseArgs({ args: [...argv], strict: true, allowPositionals: false, options: { from: { type: 'string' }, to: { type: 'string' } } }));
  } catch (error) {
    throw usageError(`migrate: ${describeError(error).split('. ')[0]}`);
  }
  if (values.from === undefined || values.to === undefined) throw usageError('migrate needs --from DB and --to DB');
  const from = nonEmpty(values.from, '--from');
  const to = nonEmpty(values.to, '--to');
  if (from === to) throw usageError('migrate: --from and --to name the same database');
  return { kind: 'migrate', from, to };
}

function parsePort(raw: string): number {
  if (!/^\d{1,5}$/.test(raw) || Number(raw) > 65535) {
    throw usageError(`--port must be an integer from 0 to 65535, not ${JSON.stringify(raw)}`);
  }
  return Number(raw);
}

function parseHost(raw: string): string {
  if (isIP(raw) === 0 && !/^[A-Za-z0-9]([A-Za-z0-9.-]{0,252})$/.test(raw)) {
    throw usageError(`--listen must be an IP address or a host name, not ${JSON.stringify(raw)}`);
  }
  return raw;
}

const DURATION_UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400 };
/** A session lasts at least a minute (a shorter one ends before the page has loaded) and at most 30 days. */
const SESSION_TTL_RANGE = { min: 60, max: 30 * 86_400 };

/** `90s`, `30m`, `12h`, `7d` as seconds. */
function parseDuration(raw: string, flag: string): number {
  const match = /^(\d{1,7})([smhd])$/.exec(raw.trim());
  const seconds = match ? Number(match[1]) * DURATION_UNITS[match[2]!]! : NaN;
  if (!(seconds >= SESSION_TTL_RANGE.min && seconds <= SESSION_TTL_RANGE.max)) {
    throw usageError(`${flag} must be a duration from 1m to 30d such as 30m, 12h or 7d, not ${JSON.stringify(raw)}`);
  }
  return seconds;
}

function parseSeconds(raw: string, flag: string): number {
  if (!/^\d{1,7}$/.test(raw) || Number(raw) < 1) throw usageError(`${flag} must be a whole number of seconds from 1, not ${JSON.stringify(raw)}`);
  return Number(raw);
}

function parseHttpUrl(raw: string, flag: string): string {
  let url: URL | undefined;
  try {
    url = new URL(raw);
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    throw usageError(`${flag} must be an http:// or https:// URL, not ${JSON.stringify(raw)}`);
  }
  return raw.replace(/\/+$/, '');
}

function nonEmpty(raw: string, flag: string): string {
  if (raw.trim() === '') throw usageError(`${flag} needs a file name or a postgres:// URL`);
  return raw;
}

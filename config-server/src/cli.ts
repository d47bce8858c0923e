#!/usr/bin/env node
import { readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createLogger, type Logger } from '@edge-metrics/core/plugin';
import { parseCliArgs, USAGE, type CliCommand } from './cli-args';
import { ConfigServerError, describeError } from './errors';
import { copyFleet } from './fleet-copy';
import { isPostgresUrl, redactedUrl } from './postgres-db';
import { createConfigServer, type ConfigServer } from './server';
import { parseDeviceTokens } from './tokens';

const NAME = 'edge-metrics-config-server';

type Hints = Partial<Record<ConfigServerError['code'], string>>;

/** What to add to an error's message so that the operator knows which flag or variable to change. */
const HINTS: Hints = {
  ECS_USAGE: '; see --help',
  ECS_PORT_IN_USE: ': stop the other process or choose another port with --port',
  ECS_LISTEN_FAILED: '; check --listen and --port',
};

/** The same for the database of a server: a file or a URL. */
const DATABASE_HINTS: Record<'file' | 'url', Hints> = {
  file: { ECS_DB_OPEN_FAILED: '; choose the file with --db', ECS_DB_TOO_NEW: '; or choose another file with --db' },
  url: {
    ECS_DB_OPEN_FAILED: '; check the URL given with --db (or DATABASE_URL) and that PostgreSQL is running',
    ECS_DB_TOO_NEW: '; or choose another database with --db',
  },
};

/**
 * One line on stderr; returns the exit status: 2 for bad options, tokens or variables, else 1. `db`: the database
 * the server was given, whose flag a database error names.
 */
function fail(error: unknown, db?: string): number {
  const code = error instanceof ConfigServerError ? error.code : undefined;
  const hints = db === undefined ? HINTS : { ...HINTS, ...DATABASE_HINTS[isPostgresUrl(db) ? 'url' : 'file'] };
  const message = `${describeError(error)}${(code && hints[code]) ?? ''}`.replace(/\s*\n\s*/g, ' ');
  process.stderr.write(`${NAME}: ${message}\n`);
  return code === 'ECS_USAGE' || code === 'ECS_TOKENS_INVALID' ? 2 : 1;
}

/** A database as logs name it: a file's absolute path, a URL without its password. */
function databaseName(db: string): string {
  return isPostgresUrl(db) ? redactedUrl(db) : resolve(db);
}

function packageVersion(): string {
  return (JSON.parse(readFileSync(join(__dirname, '..', 'package.json'), 'utf8')) as { version: string }).version;
}

/** The admin token and the device tokens from the environment and the --device-tokens file. */
function loadTokens(env: NodeJS.ProcessEnv, file: string | undefined, logger: Logger) {
  const adminToken = env.CONFIG_SERVER_TOKEN;
  if (adminToken !== undefined && adminToken.trim() === '') {
    throw new ConfigServerError('ECS_USAGE', 'CONFIG_SERVER_TOKEN is set but empty: give it a token or unset it');
  }
  const deviceTokens = parseDeviceTokens(env.CONFIG_SERVER_DEVICE_TOKENS ?? '', 'CONFIG_SERVER_DEVICE_TOKENS', ',');
  if (file !== undefined) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (error) {
      throw new ConfigServerError('ECS_USAGE', `cannot read --device-tokens ${file}: ${describeError(error)}`);
    }
    if ((statSync(file).mode & 0o077) !== 0) {
      logger.warn(`${file} can be read by other users; chmod 600 ${file}`);
    }
    for (const [deviceId, token] of parseDeviceTokens(text, file, '\n')) {
      if (deviceTokens.has(deviceId)) {
        throw new ConfigServerError('ECS_TOKENS_INVALID', `${deviceId} has a token both in ${file} and in CONFIG_SERVER_DEVICE_TOKENS`);
      }
      deviceTokens.set(deviceId, token);
    }
  }
  return { adminToken, deviceTokens };
}

/** Resolves with the first SIGTERM or SIGINT; a second one gets Node's default: the process ends at once. */
function nextStopSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const onSignal = (signal: NodeJS.Signals): void => {
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
      resolve(signal);
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
}

async function main(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const logger = createLogger('info');
  let command: CliCommand;
  let server: ConfigServer;
  let db: string | undefined;
  try {
    command = parseCliArgs(argv, env);
    if (command.kind === 'help') {
      process.stdout.write(USAGE);
      return 0;
    }
    if (command.kind === 'version') {
      process.stdout.write(`${packageVersion()}\n`);
      return 0;
    }
    if (command.kind === 'migrate') {
      const copied = await copyFleet(command.from, command.to);
      const counts = Object.entries(copied).map(([table, rows]) => `${rows} ${table}`).join(', ');
      logger.info(`copied the fleet from ${databaseName(command.from)} to ${databaseName(command.to)}: ${counts}`);
      return 0;
    }
    const tokens = loadTokens(env, command.options.deviceTokensFile, logger);
    const { dbPath, sessionTtlSeconds, offlineAfterSeconds, prometheusUrl, grafanaUrl } = command.options;
    db = dbPath;
    server = createConfigServer({
      dbPath,
      ...tokens,
      logger,
      sessionTtlSeconds,
      offlineAfterSeconds,
      ...(prometheusUrl === undefined ? {} : { prometheusUrl }),
      ...(grafanaUrl === undefined ? {} : { grafanaUrl }),
    });
  } catch (error) {
    return fail(error, db);
  }
  const { port, host, dbPath } = command.options;
  // Listen for signals before anyone can learn that the server is up, so that none can arrive unhandled.
  const stopSignal = nextStopSignal();
  try {
    const address = await server.listen(port, host);
    const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    logger.info(`listening on http://${shownHost}:${address.port} with the database ${databaseName(dbPath)}`);
  } catch (error) {
    await server.close();
    return fail(error, dbPath);
  }
  const signal = await stopSignal;
  logger.info(`${signal}: closing (a second signal stops at once)`);
  await server.close();
  logger.info('closed');
  return 0;
}

void main(process.argv.slice(2), process.env).then((status) => {
  process.exitCode = status;
});

import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createLogger, listen as listenOn, type Logger } from '@edge-metrics/core/plugin';
import type { Express } from 'express';
import { createApp } from './app';
import { ChangeNotifier } from './change-notifier';
import { PACKAGE_ROOTS, type ConsoleRoots } from './console-assets';
import { SessionManager } from './console-sessions';
import { ConfigServerError, describeError } from './errors';
import { createServerMetrics } from './metrics';
import { RolloutTimer } from './rollout-timer';
import { PostgresDatabase, isPostgresUrl } from './postgres-db';
import { SqliteStore, SqlStore } from './store';
import { Authenticator } from './tokens';

export interface ConfigServerOptions {
  /**
   * A SQLite file, created with its schema when missing, or a `postgres://` (`postgresql://`) URL of a database that
   * several servers may share.
   */
  dbPath: string;
  /** Bearer token of the admin; without it (and without device tokens) the server is open. */
  adminToken?: string;
  /** device_id → bearer token; a device token reads and writes only its own device. */
  deviceTokens?: ReadonlyMap<string, string> | Record<string, string>;
  /** Cap of `?wait=N` on GET /config, in seconds (default 60). */
  maxWaitSeconds?: number;
  /** Largest request body in bytes (default 256 KiB); larger ones get 413. */
  bodyLimitBytes?: number;
  /** Default: core's logger at level info, on stderr. */
  logger?: Logger;
  /** How long a console session lasts, in seconds (default 12 h). */
  sessionTtlSeconds?: number;
  /** A device is online while its last request is at most this many seconds old (default 180). */
  offlineAfterSeconds?: number;
  /** Prometheus's base URL: the console shows each device's power from it. */
  prometheusUrl?: string;
  /** Grafana's base URL: the console links each device to its dashboard there. */
  grafanaUrl?: string;
  /** Where the console's files are (default: the package's). */
  consoleRoots?: ConsoleRoots;
}

export interface ConfigServer {
  readonly app: Express;
  readonly server: Server;
  /** Starts listening (host default 0.0.0.0; port 0 picks a free one) and resolves with the bound address. */
  listen(port: number, host?: string): Promise<AddressInfo>;
  /** Stops listening, answers held long-polls, waits for open requests, closes the database. Safe to call twice. */
  close(): Promise<void>;
}

export const DEFAULT_MAX_WAIT_SECONDS = 60;
export const DEFAULT_BODY_LIMIT_BYTES = 256 * 1024;
export const DEFAULT_SESSION_TTL_SECONDS = 12 * 60 * 60;
export const DEFAULT_OFFLINE_AFTER_SECONDS = 180;
/** How long close() lets open requests finish before cutting their connections. */
const CLOSE_GRACE_MS = 5000;

/**
 * Opens (or creates) a SQLite database and builds the HTTP server; nothing listens until `listen()`, which first
 * connects to a PostgreSQL database and migrates it.
 */
export function createConfigServer(options: ConfigServerOptions): ConfigServer {
  const logger = options.logger ?? createLogger('info');
  const deviceTokens =
    options.deviceTokens instanceof Map ? options.deviceTokens : new Map(Object.entries(options.deviceTokens ?? {}));
  const authenticator = new Authenticator(options.adminToken, deviceTokens);
  const store = isPostgresUrl(options.dbPath)
    ? new SqlStore(new PostgresDatabase(options.dbPath, logger))
    : new SqliteStore(options.dbPath);
  const notifier = new ChangeNotifier();
  const metrics = createServerMetrics(store, notifier);
  // Every write that changes devices' effective configs wakes their long-polls, whichever layer it was.
  store.onEffectiveChange((deviceIds, source) => {
    metrics.versionsCreated.inc({ source }, deviceIds.length);
    deviceIds.forEach((deviceId) => notifier.notify(deviceId));
  });
  const rollouts = new RolloutTimer(store, logger);
  const sessions = new SessionManager(store, authenticator, options.sessionTtlSeconds ?? DEFAULT_SESSION_TTL_SECONDS, logger);
  // Changes written through the other servers on the same database. One of them may have started a rollout: every
  // replica steps it on (the first one due does; the store lets only one step happen), so none depends on the one
  // that started it staying up.
  store.onReplicaChange((deviceIds) => {
    if (deviceIds === 'all') notifier.notifyWaiting();
    else deviceIds.forEach((deviceId) => notifier.notify(deviceId));
    rollouts.start().catch((error: unknown) => logger.warn(`rollouts started by another server: not read (${describeError(error)}); read at the next change`));
  });
  const app = createApp({
    store,
    notifier,
    authenticator,
    metrics,
    rollouts,
    logger,
    maxWaitSeconds: options.maxWaitSeconds ?? DEFAULT_MAX_WAIT_SECONDS,
    bodyLimitBytes: options.bodyLimitBytes ?? DEFAULT_BODY_LIMIT_BYTES,
    offlineAfterSeconds: options.offlineAfterSeconds ?? DEFAULT_OFFLINE_AFTER_SECONDS,
    console: {
      sessions,
      roots: options.consoleRoots ?? PACKAGE_ROOTS,
      ...(options.prometheusUrl === undefined ? {} : { prometheusUrl: options.prometheusUrl }),
      ...(options.grafanaUrl === undefined ? {} : { grafanaUrl: options.grafanaUrl }),
    },
  });
  const server = createServer(app);
  let closing: Promise<void> | undefined;

  const listen = async (port: number, host = '0.0.0.0'): Promise<AddressInfo> => {
    await store.open();
    const address = await listenOn(server, port, host, (inUse, error) =>
      inUse
        ? new ConfigServerError('ECS_PORT_IN_USE', `port ${port} on ${host} is already in use`)
        : new ConfigServerError('ECS_LISTEN_FAILED', `cannot listen on ${host} port ${port}: ${error.message}`),
      (error) => logger.error(`the server on ${host} port ${port}: ${error.message} (kept running)`),
    );
    if (authenticator.open) {
      logger.warn('no token is configured: the server is open, anyone who can reach it can read and change every config');
    }
    // Rollouts that were running when the server stopped step on from where they stood.
    await rollouts.start();
    if (!authenticator.open) sessions.startSweeping();
    return address;
  };

  const shutDown = async (): Promise<void> => {
    if (server.listening) {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      notifier.closeAll();
      const cut = setTimeout(() => server.closeAllConnections(), CLOSE_GRACE_MS);
      await closed;
      clearTimeout(cut);
    }
    rollouts.stop();
    sessions.stop();
    await store.close();
  };

  return {
    app,
    server,
    listen,
    close: () => (closing ??= shutDown()),
  };
}

import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ExporterError, describeError } from '../errors';
import type { Exporter } from '../exporter';
import { listen } from '../listen';
import type { Logger } from '../plugin-api';
import type { ExpressApps } from './app';
import { answerScrape } from './scrape';

export interface Listening {
  /** The ports actually bound (they differ from the config's when it asks for 0). */
  port: number;
  reloadPort: number;
  close(): Promise<void>;
}

const LOOPBACK = /^(127\.|::1$|localhost$)/;

/**
 * Serves `/metrics` on `port` and the management routes on `reload_port`, or both on one listener when the two
 * are equal. A port in use is an ExporterError naming the port and the setting to change.
 */
export async function serve(exporter: Exporter): Promise<Listening> {
  const { port, reload_port: reloadPort, listen_address: address } = exporter.currentConfig;
  const shared = port === reloadPort;
  const apps = expressApps(exporter, shared);
  const toExpress = (which: keyof ExpressApps): RequestListener => (request, response) => {
    apps().then(
      (loaded) => {
        loaded[which](request, response);
      },
      (error) => {
        exporter.logger.error(`${request.method} ${request.url}: ${describeError(error)}`);
        response.writeHead(500).end();
      },
    );
  };
  const metricsRoutes = toExpress('metrics');
  const metricsServer = await serveOn(
    (request, response) => {
      if (!answerScrape(request, response, exporter)) metricsRoutes(request, response);
    },
    port,
    address,
    'port',
    exporter.logger,
  );
  let managementServer = metricsServer;
  if (!shared) {
    try {
      managementServer = await serveOn(toExpress('management'), reloadPort, address, 'reload_port', exporter.logger);
    } catch (error) {
      await close(metricsServer);
      throw error;
    }
  }
  const bound = (server: Server) => (server.address() as AddressInfo).port;
  exporter.logger.info(`serving /metrics on ${address}:${bound(metricsServer)}, management routes on ${address}:${bound(managementServer)}`);
  if (!exporter.managementToken && !LOOPBACK.test(address)) {
    exporter.logger.warn(`the management routes on ${address}:${bound(managementServer)} are open to the network without a token: set management_token (or MANAGEMENT_TOKEN), or listen_address: 127.0.0.1`);
  }
  return {
    port: bound(metricsServer),
    reloadPort: bound(managementServer),
    async close() {
      await Promise.all([...new Set([metricsServer, managementServer])].map(close));
    },
  };
}

/**
 * The express apps (`app.ts`), made on the first request that is not a scrape: express and its dependencies are the
 * largest set of modules the exporter would load (16 MiB of RSS in a bare Node process), and an exporter that
 * Prometheus only scrapes never needs them.
 */
function expressApps(exporter: Exporter, shared: boolean): () => Promise<ExpressApps> {
  let apps: Promise<ExpressApps> | undefined;
  return () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded on first use, see above
    apps ??= Promise.resolve().then(() => (require('./app') as typeof import('./app')).createApps(exporter, shared));
    return apps;
  };
}

/** Where an operator sets each port, strongest first. */
const HOW_TO_SET = {
  port: "--port, EDGE_METRICS_PORT or 'port' in the config",
  reload_port: "--reload-port, EDGE_METRICS_RELOAD_PORT or 'reload_port' in the config",
};

async function serveOn(handler: RequestListener, port: number, address: string, setting: keyof typeof HOW_TO_SET, logger: Logger): Promise<Server> {
  const server = createServer(handler);
  await listen(
    server,
    port,
    address,
    (inUse, error) => {
      if (!inUse) return new ExporterError('EME_LISTEN_FAILED', `cannot listen on ${address}:${port} ('${setting}'): ${describeError(error)}`);
      const hint = port === 9100 ? ' (9100 is also node_exporter\'s default)' : '';
      return new ExporterError('EME_PORT_IN_USE', `port ${port} on ${address} is already in use${hint}: choose a free one with ${HOW_TO_SET[setting]}, or stop the program using it`);
    },
    (error) => logger.error(`the listener on ${address}:${port} ('${setting}'): ${describeError(error)} (kept running)`),
  );
  return server;
}

function close(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

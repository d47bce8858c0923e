#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { loadConfigFile, locateConfig } from './config/load';
import { ExporterError, describeError } from './errors';
import { Exporter } from './exporter';
import { serve } from './http/server';
import { PluginCatalog } from './plugins/catalog';

const VERSION = (require('../package.json') as { version: string }).version;

const HELP = `Usage:
  edge-metrics-exporter [--config FILE] [--port N] [--reload-port N]
                                                   run the exporter
  edge-metrics-exporter --once [--timeout SECONDS] [--config FILE]
                                                   collect once, print the exposition, exit
  edge-metrics-exporter plugins [--json] [--config FILE]
                                                   list the plugins found and whether each is usable

Options:
  -c, --config FILE     the config file (default: $LOCAL_CONFIG_PATH, else ./config.yaml, else an
                        edge-metrics config found by search, else built-in defaults). A file named here
                        or by LOCAL_CONFIG_PATH must exist, unless a config server is configured: then
                        the server's config is saved there.
  -p, --port N          the port of /metrics and /healthz (over $EDGE_METRICS_PORT and 'port' in the config)
      --reload-port N   the port of the management routes (over $EDGE_METRICS_RELOAD_PORT and 'reload_port')
      --once            run one collection cycle, waiting for each collector's first sample, print the
                        Prometheus text exposition to stdout and exit: 0, or 1 when a collector failed.
                        Writes no file and starts no server.
      --timeout SECONDS how long --once waits for first samples (default 10)
      --json            with 'plugins': print JSON
  -h, --help            show this help
  -V, --version         print the version

Environment (an empty value is the same as unset):
  LOCAL_CONFIG_PATH         the config file when --config is not given
  EDGE_METRICS_PORT         the port of /metrics when --port is not given (over 'port' in the config)
  EDGE_METRICS_RELOAD_PORT  the management port when --reload-port is not given (over 'reload_port')
  MANAGEMENT_TOKEN          bearer token for the management routes (config: management_token)
  CONFIG_SERVER_URL         the central config server to follow, or its replicas comma-separated (config: config_server.url)
  CONFIG_TIMEOUT            seconds start-up waits for the config server (default 5)
  CONFIG_SERVER_TOKEN       this device's bearer token at the config server (config: config_server.token)
  DEVICE_ID                 this device's id at the config server (config: device_id; default the hostname)

Signals: SIGHUP reloads the config; SIGTERM and SIGINT stop the collectors and close the servers.
Routes: GET /metrics, GET /healthz on 'port' (9100); POST /reload, GET /metrics/list,
POST /metrics/enable on 'reload_port' (9101).`;

class UsageError extends Error {}

interface Command {
  kind: 'run' | 'once' | 'plugins' | 'help' | 'version';
  config?: string;
  timeoutSeconds: number;
  json: boolean;
  /** `--port` / `--reload-port`, over the environment's and the config's. */
  ports: PortOverrides;
}

export function parseCommand(argv: string[]): Command {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        config: { type: 'string', short: 'c' },
        port: { type: 'string', short: 'p' },
        'reload-port': { type: 'string' },
        once: { type: 'boolean' },
        timeout: { type: 'string' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean', short: 'V' },
      },
    });
  } catch (error) {
    // Node's message goes on to explain `--`; its first sentence is the one an operator needs.
    throw new UsageError(describeError(error).split(/\.( |$)/)[0]!);
  }
  const { values, positionals } = parsed;
  if (positionals.length > 1 || (positionals.length === 1 && positionals[0] !== 'plugins')) {
    throw new UsageError(`unknown command '${positionals.find((word) => word !== 'plugins') ?? positionals[1]}' (the only command is 'plugins')`);
  }
  const timeoutSeconds = values.timeout === undefined ? 10 : Number(values.timeout);
  if (!Number.isFinite(timeoutSeconds) || timeoutSeconds <= 0) throw new UsageError(`--timeout must be a number of seconds above 0, not '${values.timeout}'`);
  if (values.timeout !== undefined && !values.once) throw new UsageError('--timeout goes with --once');
  if (values.json && positionals[0] !== 'plugins') throw new UsageError("--json goes with 'plugins'");
  if (values.once && positionals[0] === 'plugins') throw new UsageError("--once does not go with 'plugins'");
  if (values.config === '') throw new UsageError('--config needs a file name');
  const kind = values.help ? 'help' : values.version ? 'version' : positionals[0] === 'plugins' ? 'plugins' : values.once ? 'once' : 'run';
  const ports = portOverrides({ port: values.port, reload_port: values['reload-port'] }, { port: '--port', reload_port: '--reload-port' });
  if (Object.keys(ports).length > 0 && (kind === 'once' || kind === 'plugins')) throw new UsageError(`--port and --reload-port go with running the exporter, not ${kind === 'once' ? '--once' : "'plugins'"}`);
  return { kind, ...(values.config !== undefined ? { config: values.config } : {}), timeoutSeconds, json: values.json ?? false, ports };
}

type PortOverrides = { port?: number; reload_port?: number };

/** The ports given (by flags, or by the environment), checked; `names` says where each came from, for errors. */
function portOverrides(given: { port?: string | undefined; reload_port?: string | undefined }, names: { port: string; reload_port: string }): PortOverrides {
  const ports: PortOverrides = {};
  for (const key of ['port', 'reload_port'] as const) {
    const text = given[key];
    if (text === undefined || text === '') continue;
    const port = Number(text);
    if (!/^\d+$/.test(text) || port > 65535) throw new UsageError(`${names[key]} must be a port number from 0 to 65535, not '${text}'`);
    ports[key] = port;
  }
  return ports;
}

async function main(argv: string[]): Promise<number> {
  const command = parseCommand(argv);
  switch (command.kind) {
    case 'help':
      process.stdout.write(HELP + '\n');
      return 0;
    case 'version':
      process.stdout.write(VERSION + '\n');
      return 0;
    case 'plugins':
      return listPlugins(command);
    case 'once':
      return collectOnce(command);
    case 'run':
      return run(command);
  }
}

async function listPlugins(command: Command): Promise<number> {
  const located = await locateConfig(command.config, process.env, process.cwd());
  const { config } = await loadConfigFile(located.path);
  const catalog = await PluginCatalog.discover(config.plugin_dirs, process.cwd());
  await catalog.loadAll();
  const rows = catalog.records.map((record) => ({
    package: record.packageName,
    version: record.version,
    status: record.plugin ? 'ok' : `rejected: ${record.problems.join('; ')}`,
    location: record.location,
    deviceTypes: record.plugin?.manifest.deviceTypes ?? [],
    metrics: record.plugin?.manifest.metrics.map((family) => family.name) ?? [],
  }));
  if (command.json) {
    process.stdout.write(JSON.stringify(rows, null, 2) + '\n');
  } else {
    for (const row of rows) {
      process.stdout.write(`${row.package} ${row.version}  ${row.status}\n  location: ${row.location}\n`);
      if (row.deviceTypes.length > 0) process.stdout.write(`  device types: ${row.deviceTypes.join(', ')}\n  metrics: ${row.metrics.join(', ')}\n`);
    }
  }
  return 0;
}

async function collectOnce(command: Command): Promise<number> {
  const exporter = await Exporter.create({ ...(command.config ? { configPath: command.config } : {}), readOnly: true });
  try {
    const { text, failed } = await exporter.collectOnce(command.timeoutSeconds * 1000);
    process.stdout.write(text);
    const notice = exporter.disabledNotice();
    if (notice) exporter.logger.info(notice);
    if (failed.length > 0) exporter.logger.error(`no samples from: ${failed.join(', ')}`);
    return failed.length > 0 ? 1 : 0;
  } finally {
    await exporter.stop();
  }
}

async function run(command: Command): Promise<number> {
  const fromEnv = portOverrides(
    { port: process.env.EDGE_METRICS_PORT, reload_port: process.env.EDGE_METRICS_RELOAD_PORT },
    { port: 'EDGE_METRICS_PORT', reload_port: 'EDGE_METRICS_RELOAD_PORT' },
  );
  const exporter = await Exporter.create({ ...(command.config ? { configPath: command.config } : {}), ports: { ...fromEnv, ...command.ports } });
  const { logger } = exporter;
  // A plugin's stray callback must not take the exporter down with it.
  process.on('uncaughtException', (error) => logger.error(`uncaught exception (kept running): ${error.stack ?? describeError(error)}`));
  process.on('unhandledRejection', (reason) => logger.error(`unhandled rejection (kept running): ${describeError(reason)}`));
  await exporter.start();
  let listening;
  try {
    listening = await serve(exporter);
  } catch (error) {
    await exporter.stop();
    throw error;
  }
  exporter.reportEndpoint(listening.port);
  logger.info(`edge-metrics-exporter ${VERSION} running: device_type ${exporter.deviceType}, collectors ${exporter.collectorNames.join(', ')}, config ${exporter.configSource === 'defaults' ? 'built-in defaults' : exporter.configPath}`);
  process.on('SIGHUP', () => void exporter.reload());
  return new Promise((resolve) => {
    let stopping = false;
    const shutdown = (signal: string) => {
      if (stopping) {
        logger.warn(`${signal} again: exiting without waiting`);
        process.exit(1);
      }
      stopping = true;
      logger.info(`${signal}: stopping`);
      void Promise.all([listening.close(), exporter.stop()]).then(() => resolve(0));
    };
    process.on('SIGTERM', () => shutdown('SIGTERM'));
    process.on('SIGINT', () => shutdown('SIGINT'));
  });
}

// The program: this file run directly, or through the package's bin shim (which checks that dist/ is built).
if (require.main === module || require.main?.filename === require.resolve('../bin/edge-metrics-exporter.js')) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error) => {
      process.stderr.write(`edge-metrics-exporter: ${describeError(error)}${error instanceof UsageError ? " (see 'edge-metrics-exporter --help')" : ''}\n`);
      process.exit(error instanceof UsageError || (error instanceof ExporterError && error.code === 'EME_USAGE') ? 2 : 1);
    },
  );
}

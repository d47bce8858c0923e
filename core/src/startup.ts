import { loadConfigFile, locateConfig, type ConfigSource } from './config/load';
import type { ExporterConfig } from './config/schema';
import { ExporterError, describeError } from './errors';
import { createLogger } from './logger';
import { PluginCatalog } from './plugins/catalog';
import { planCollectors, type CollectorPlan } from './runtime/collectors';
import type { RawConfig } from './sync/client';
import { localOnlyOf } from './sync/merge';
import { syncSettings, type SyncSettings } from './sync/settings';
import { serverStart, type ServerStart } from './sync/start';

type RootLogger = ReturnType<typeof createLogger>;

export interface StartupSettings {
  configPath?: string;
  env: NodeJS.ProcessEnv;
  cwd: string;
  logger?: RootLogger;
  installDir?: string;
}

/** The config an exporter starts with, where it came from, and what start-up learnt on the way. */
export interface StartChoice {
  config: ExporterConfig;
  source: ConfigSource;
  catalog: PluginCatalog;
  plan: CollectorPlan;
  logger: RootLogger;
  /** The local config file (which need not exist), its text and its local-only keys. */
  configPath: string;
  localText: string | undefined;
  localOnly: RawConfig;
  /** With a config server: its settings and what it answered at start; `serverError` says why its config was not used. */
  server?: { settings: SyncSettings; start: ServerStart; serverError?: string };
}

/**
 * Chooses the config to start with: the config server's when one is configured, answers within the timeout and its
 * config can run on this device (its plugins installed), else the local file, else the built-in defaults. Loads the
 * plugins and plans the collectors of the chosen config; throws an ExporterError when no usable config exists.
 */
export async function chooseStartConfig(settings: StartupSettings): Promise<StartChoice> {
  const { env, cwd } = settings;
  const located = await locateConfig(settings.configPath, env, cwd);
  // A local file that cannot be used stops the start even with a config server: without it the device's
  // local-only keys (its management token, its listen address) are unknown, and running without them opens it.
  const localConfig = await loadConfigFile(located.path);
  const sync = syncSettings(env, localConfig.config);
  if (located.namedBy && !located.exists && !sync) {
    throw new ExporterError('EME_USAGE', `${located.path}: no such file (named by ${located.namedBy}); without a config server nothing would create it`);
  }
  const logger = settings.logger ?? createLogger(localConfig.config.log_level);
  if (!located.exists) logger.info(`no config file at ${located.path}: using built-in defaults (changes made through the API create it)`);

  const localOnly = localOnlyOf(localConfig.config);
  const server = sync ? await serverStart(sync, located.path, localOnly, logger) : undefined;
  // The server's config first; when it cannot be used on this device (a plugin not installed), the local file.
  const candidates: Array<{ config: ExporterConfig; source: ConfigSource; where: string }> = [];
  if (server?.config) candidates.push({ config: server.config, source: 'server', where: `config server version ${server.fetched!.version}` });
  candidates.push({ config: localConfig.config, source: localConfig.source, where: located.exists ? located.path : 'built-in defaults' });
  let chosen: { config: ExporterConfig; source: ConfigSource; catalog: PluginCatalog; plan: CollectorPlan } | undefined;
  let serverError: string | undefined;
  for (const candidate of candidates) {
    try {
      const catalog = await PluginCatalog.discover(candidate.config.plugin_dirs, cwd, settings.installDir);
      chosen = { ...candidate, catalog, plan: await planCollectors(candidate.config, catalog, logger, candidate.where) };
      break;
    } catch (error) {
      if (candidate.source !== 'server') throw error;
      serverError = describeError(error);
      logger.error(`${serverError}: fallback to the local config file`);
    }
  }
  if (!chosen) throw new Error('no usable config');
  for (const record of chosen.catalog.records) {
    if (!record.plugin) logger.warn(`plugin ${record.packageName} (${record.location}) rejected: ${record.problems.join('; ')}`);
  }
  return {
    ...chosen,
    logger,
    configPath: located.path,
    localText: localConfig.text,
    localOnly,
    ...(sync && server ? { server: { settings: sync, start: server, ...(serverError !== undefined ? { serverError } : {}) } } : {}),
  };
}

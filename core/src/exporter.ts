import { hostname } from 'node:os';
import { ConfigFile } from './config/file';
import { loadConfigFile, locateConfig, parseYaml, type ConfigSource } from './config/load';
import { parseConfig, type ExporterConfig } from './config/schema';
import { watchFile } from './config/watch';
import { ExporterError, describeError } from './errors';
import { createLogger } from './logger';
import { ExpositionCache, type ExpositionFormat } from './metrics/exposition';
import { SelfMetrics } from './metrics/self-metrics';
import { PluginCatalog } from './plugins/catalog';
import { PushManager } from './push/manager';
import { assembleFamilies, collectFrom, type LabelPairs } from './runtime/collection';
import { planCollectors, type ActiveCollector, type CollectorPlan } from './runtime/collectors';
import { Scheduler } from './runtime/scheduler';
import type { RawConfig } from './sync/client';
import { ConfigSync, type SyncHost } from './sync/config-sync';
import { localOnlyOf, shareable, withLocalOnly } from './sync/merge';
import { LOCAL_ONLY_KEYS, syncSettings } from './sync/settings';
import { serverStart } from './sync/start';
import { withTimeout } from './timeout';

type RootLogger = ReturnType<typeof createLogger>;

export interface ExporterSettings {
  /** `--config`; else `LOCAL_CONFIG_PATH`, else `./config.yaml`, else cosmiconfig's search. */
  configPath?: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  logger?: RootLogger;
  /** Write nothing: no discovered metrics saved, no file watched (`--once`). */
  readOnly?: boolean;
  /** The node_modules folder searched for plugins beside `plugin_dirs`; default: the one core is installed in. */
  installDir?: string;
  /** Ports given on the command line or in the environment: they override every config's. */
  ports?: Partial<Pick<ExporterConfig, 'port' | 'reload_port'>>;
}

export interface ReloadResult {
  ok: boolean;
  source: ConfigSource;
  error?: string;
}

const STOP_TIMEOUT_MS = 5000;
/** How long a stop waits for config writes still queued (API toggles, discoveries) before it gives them up. */
const WRITE_WAIT_MS = 5000;

/**
 * The exporter: the config in force, the plugins, the collectors and their schedule, and the exposition that
 * `/metrics` serves. The HTTP layer and the CLI drive it.
 */
export class Exporter implements SyncHost {
  private readonly self = new SelfMetrics();
  private readonly exposition = new ExpositionCache();
  private readonly scheduler: Scheduler;
  private readonly push: PushManager;
  private readonly configFile: ConfigFile;
  private watcher: { close(): Promise<void> } | undefined;
  private staticLabels: LabelPairs = [];
  private lastResults = new Map<string, number | undefined>();
  private sync: ConfigSync | undefined;
  private applying: Promise<unknown> = Promise.resolve();
  /** Discovered metrics not yet saved to the file (the write failed): saved with the next cycle's discoveries. */
  private readonly unsavedDiscoveries = new Set<string>();
  private savingDiscoveries = false;
  private discoveryError: string | undefined;
  /** The local-only keys of the last local config that was valid: a server's version never goes without them. */
  private localOnly: RawConfig = {};
  /** True while the file's last reload failed: its return to the config in force is then worth a line. */
  private fileRejected = false;

  private constructor(
    private config: ExporterConfig,
    private source: ConfigSource,
    private catalog: PluginCatalog,
    private plan: CollectorPlan,
    configPath: string,
    private readonly settings: Required<Pick<ExporterSettings, 'cwd' | 'env' | 'readOnly' | 'ports'>> & Pick<ExporterSettings, 'installDir'>,
    readonly logger: RootLogger,
  ) {
    this.configFile = new ConfigFile(configPath);
    this.scheduler = new Scheduler(config.interval * 1000, () => this.cycle(), logger);
    this.push = new PushManager(this.self, logger, settings.env);
    this.staticLabels = this.labelsFor(config, plan);
    this.self.setConfigSource(source);
  }

  /**
   * Loads the config (from the config server when one is configured and answers within the timeout, else the local
   * file) and the plugins, and creates the collectors; throws an ExporterError when no usable config exists.
   */
  static async create(settings: ExporterSettings = {}): Promise<Exporter> {
    const cwd = settings.cwd ?? process.cwd();
    const env = settings.env ?? process.env;
    const readOnly = settings.readOnly ?? false;
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
    const catalogFor = (config: ExporterConfig) => PluginCatalog.discover(config.plugin_dirs, cwd, settings.installDir);
    // The server's config first; when it cannot be used on this device (a plugin not installed), the local file.
    const candidates: Array<{ config: ExporterConfig; source: ConfigSource; where: string }> = [];
    if (server?.config) candidates.push({ config: server.config, source: 'server', where: `config server version ${server.fetched!.version}` });
    candidates.push({ config: localConfig.config, source: localConfig.source, where: located.exists ? located.path : 'built-in defaults' });
    let chosen: { config: ExporterConfig; source: ConfigSource; catalog: PluginCatalog; plan: CollectorPlan } | undefined;
    let serverError: string | undefined;
    for (const candidate of candidates) {
      try {
        const catalog = await catalogFor(candidate.config);
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

    const ports = settings.ports ?? {};
    const exporter = new Exporter({ ...chosen.config, ...ports }, chosen.source, chosen.catalog, chosen.plan, located.path, { cwd, env, readOnly, ports, installDir: settings.installDir }, logger);
    exporter.configFile.noteApplied(localConfig.text);
    exporter.localOnly = localOnly;
    // Read-only (`--once`) uses the server's config but keeps no sync going and writes nothing.
    if (sync && server && !readOnly) {
      exporter.sync = new ConfigSync(sync, server.client, server.state, exporter, logger, exporter.self.syncMetrics());
      if (server.reachable) exporter.sync.noteReachable();
      if (server.fetched && !server.skipped) {
        exporter.sync.noteStartVersion(server.fetched, chosen.source === 'server', serverError ?? server.parseError);
        if (chosen.source === 'server') await exporter.saveServerConfig(server.raw!);
      }
    }
    return exporter;
  }

  get currentConfig(): Readonly<ExporterConfig> {
    return this.config;
  }

  get deviceType(): string {
    return this.plan.deviceType;
  }

  get configSource(): ConfigSource {
    return this.source;
  }

  get configPath(): string {
    return this.configFile.path;
  }

  get collectorNames(): string[] {
    return this.plan.collectors.map((active) => active.name);
  }

  /** The bearer token the management routes require, if any (config, else env `MANAGEMENT_TOKEN`). */
  get managementToken(): string | undefined {
    return this.config.management_token ?? (this.settings.env.MANAGEMENT_TOKEN || undefined);
  }

  /** Starts the collectors, the schedule and (unless read-only) the config file watch. */
  async start(): Promise<void> {
    const notice = this.disabledNotice();
    if (notice) this.logger.info(notice);
    const push = this.push.plan(this.config, this.configFile.path);
    await this.startCollectors(this.plan.collectors);
    await this.push.configure(push);
    this.scheduler.start();
    if (!this.settings.readOnly) {
      await this.configFile.removeStaleTemporaries();
      this.watcher = watchFile(this.configFile.path, () => void this.onFileChanged());
    }
    this.sync?.start();
  }

  /** Tells the config server (if any) the port Prometheus scrapes, so that its `/sd` lists this device. */
  reportEndpoint(metricsPort: number): void {
    this.sync?.setEndpoint(metricsPort);
  }

  async stop(): Promise<void> {
    await this.sync?.stop();
    await this.watcher?.close();
    await this.scheduler.stop();
    await this.push.stop();
    await this.stopCollectors(this.plan.collectors);
    // Each write is atomic, so giving up the queue leaves the file as its last complete write; changes still queued
    // were not acknowledged to their callers.
    await withTimeout(this.configFile.idle(), WRITE_WAIT_MS, 'the queued config file writes').catch((error) =>
      this.logger.warn(`${describeError(error)}: stopping without them; ${this.configFile.path} keeps its last complete write`),
    );
  }

  /** The exposition of the last cycle: what a scrape returns. */
  metricsText(format: ExpositionFormat): string {
    return this.exposition.text(format);
  }

  /** The same, as the bytes a scrape sends. */
  metricsBytes(format: ExpositionFormat): Buffer {
    return this.exposition.bytes(format);
  }

  /**
   * For `--once`: runs cycles until every collector has returned samples or failed, or `timeoutMs` is up, then one
   * more an interval after the collectors started when the timeout allows, so that what is measured over time (CPU
   * usage, power integrated into energy) covers an interval as in a running exporter, not the start-up; returns the
   * exposition and the collectors that failed or produced nothing.
   */
  async collectOnce(timeoutMs: number): Promise<{ text: string; failed: string[] }> {
    await this.startCollectors(this.plan.collectors);
    const started = Date.now();
    const deadline = started + timeoutMs;
    const settled = (): boolean => this.plan.collectors.every((active) => active.lastError !== undefined || (this.lastResults.get(active.name) ?? 0) > 0);
    do {
      await this.cycle();
      if (settled()) break;
      await sleep(50);
    } while (Date.now() < deadline);
    const intervalEnd = started + this.config.interval * 1000;
    if (Date.now() < intervalEnd && intervalEnd <= deadline) {
      await sleep(intervalEnd - Date.now());
      await this.cycle();
    }
    const failed = this.plan.collectors.filter((active) => active.lastError !== undefined || !this.lastResults.get(active.name)).map((active) => active.name);
    return { text: this.exposition.text('prometheus'), failed };
  }

  /**
   * The `metrics:` map, with every metric reported so far; beside the old exporter's keys, how many are disabled and,
   * when some are, how to enable them.
   */
  listMetrics(): { metrics: Record<string, boolean>; device_type: string; source: ConfigSource; disabled: number; hint?: string } {
    const hint = this.disabledNotice();
    return { metrics: { ...this.config.metrics }, device_type: this.plan.deviceType, source: this.source, disabled: this.disabledCount(), ...(hint ? { hint } : {}) };
  }

  /**
   * One line saying how many metrics are disabled and how to enable them, or undefined when none is. A minimal config
   * exposes no discovered metric (`new_metrics_default: false`), so this is said at start, on discovery and by `--once`.
   */
  disabledNotice(): string | undefined {
    const disabled = this.disabledCount();
    if (disabled === 0) return undefined;
    const count = disabled === 1 ? '1 metric is' : `${disabled} metrics are`;
    return `${count} disabled and not exposed (new_metrics_default: ${this.config.new_metrics_default}): enable one with POST /metrics/enable {"<name>": true} on the management port (reload_port), or '<name>: true' under 'metrics:' in ${this.configFile.path}; GET /metrics/list lists them`;
  }

  private disabledCount(): number {
    return Object.values(this.config.metrics).filter((enabled) => !enabled).length;
  }

  /**
   * True when this device produces `name`: it is in the `metrics:` map (where every metric a collector reports is
   * added) or a running collector's manifest declares it by its exact name. A name that only fits a pattern family
   * (`jetson_power_{rail}_watts`) counts once reported: a pattern alone would accept any number of made-up names.
   */
  canProduce(name: string): boolean {
    return Object.hasOwn(this.config.metrics, name) || this.plan.collectors.some((active) => active.usable.families.declares(name));
  }

  /**
   * Sets metrics on or off: saved to the config file before it returns (the file is created when there is
   * none), and in force from the next cycle. When the write fails nothing changes and the error is thrown.
   */
  async setMetrics(changes: Readonly<Record<string, boolean>>): Promise<void> {
    const seed = this.source === 'defaults' ? { new_metrics_default: this.config.new_metrics_default } : {};
    await this.configFile.setMetrics(changes, seed);
    Object.assign(this.config.metrics, changes);
    if (this.source === 'defaults') this.setSource('local');
    this.sync?.enqueue(changes);
  }

  /**
   * Re-reads the config: from the config server when one is configured and answers, else from the file. On any
   * error the config in force stays.
   */
  async reload(): Promise<ReloadResult> {
    if (this.sync) {
      const { outcome, error } = await this.sync.refetch();
      if (outcome === 'applied' || outcome === 'unchanged') return this.reloaded(true);
      if (outcome === 'failed') return this.reloaded(false, error);
      this.logger.warn(`config server unavailable for the reload (${error}): fallback to the local config file`);
    }
    return this.reloadFromFile();
  }

  private reloaded(ok: boolean, error?: string): ReloadResult {
    this.self.configReloads.inc({ result: ok ? 'success' : 'failure' });
    return ok ? { ok, source: this.source } : { ok, source: this.source, error: error ?? 'unknown error' };
  }

  /** Re-reads the config file and applies it; on any error the config in force stays. */
  private async reloadFromFile(): Promise<ReloadResult> {
    try {
      await this.serialized(async () => {
        const { config, source, text } = await loadConfigFile(this.configFile.path);
        // A file removed (or moved away) under a config read from it: not a reason to drop to the defaults.
        if (text === undefined && this.source !== 'defaults') {
          throw new ExporterError('EME_CONFIG_READ', `${this.configFile.path}: the file is missing; restore it (the next change made through the API writes it back from the config in force)`);
        }
        // An editor that truncates before it writes, or a tool that crashed while saving: not a new config.
        if (text !== undefined && text.trim() === '') {
          throw new ExporterError('EME_CONFIG_PARSE', `${this.configFile.path}: the file is empty (still being written?); give it at least one key`);
        }
        await this.apply(config, source, this.configFile.path);
        this.configFile.noteApplied(text);
        this.localOnly = localOnlyOf(config);
        this.fileRejected = false;
        this.logger.info(`config reloaded from ${source === 'defaults' ? 'built-in defaults' : this.configFile.path}`);
      });
      return this.reloaded(true);
    } catch (error) {
      this.fileRejected = true;
      const message = describeError(error);
      this.logger.error(`config reload failed, the previous config stays in force: ${message}`);
      return this.reloaded(false, message);
    }
  }

  /** Puts a config from the server in force and saves it to the local file, the fallback for the next start. */
  async applyServerConfig(config: RawConfig, version: number): Promise<void> {
    const raw = shareable(config);
    const where = `config server version ${version}`;
    await this.serialized(async () => this.apply(parseConfig(withLocalOnly(raw, this.localOnly), where), 'server', where));
    this.self.configReloads.inc({ result: 'success' });
    await this.saveServerConfig(raw);
  }

  /** The local config file's content as it stands (empty when there is none or it does not parse). */
  async localConfig(): Promise<RawConfig> {
    try {
      const text = await this.configFile.readText();
      const raw = text === undefined ? {} : parseYaml(text, this.configFile.path);
      return typeof raw === 'object' && raw !== null && !Array.isArray(raw) ? (raw as RawConfig) : {};
    } catch {
      return {};
    }
  }

  currentDeviceType(): string {
    return this.plan.deviceType;
  }

  private async saveServerConfig(raw: RawConfig): Promise<void> {
    await this.configFile
      .replaceWith(raw, LOCAL_ONLY_KEYS)
      .catch((error) => this.logger.error(`the config from the server is in force but was not saved as the local fallback: ${describeError(error)}`));
  }

  private async onFileChanged(): Promise<void> {
    try {
      if (this.configFile.isInForce(await this.configFile.readText())) {
        if (this.fileRejected) this.logger.info(`${this.configFile.path} is valid again: it holds the config in force, which is unchanged`);
        this.fileRejected = false;
        return;
      }
    } catch (error) {
      this.logger.error(describeError(error));
      return;
    }
    await this.reloadFromFile();
  }

  /** Puts a new config in force; collectors are rebuilt only when what they depend on changed. */
  /** Runs config changes one after the other, so that the newest read is the one left in force. */
  private serialized(work: () => Promise<void>): Promise<void> {
    const run = this.applying.then(work);
    this.applying = run.catch(() => undefined);
    return run;
  }

  /**
   * Puts a config in force; collectors are rebuilt only when what they depend on changed. The new collectors, config
   * and labels replace the old in one step, so that no cycle sees a mix of the two.
   */
  private async apply(config: ExporterConfig, source: ConfigSource, where: string): Promise<void> {
    const next = { ...config, ...this.settings.ports };
    const current = this.config;
    const previous = this.plan;
    const push = this.push.plan(next, this.configFile.path);
    if (collectorInputs(next) !== collectorInputs(current)) {
      const catalog = JSON.stringify(next.plugin_dirs) === JSON.stringify(current.plugin_dirs) ? this.catalog : await PluginCatalog.discover(next.plugin_dirs, this.settings.cwd, this.settings.installDir);
      const plan = await planCollectors(next, catalog, this.logger, where);
      await this.startCollectors(plan.collectors);
      this.catalog = catalog;
      this.plan = plan;
    }
    for (const key of ['port', 'reload_port', 'listen_address', 'log_level'] as const) {
      if (next[key] !== current[key]) this.logger.warn(`${key} changed from ${current[key]} to ${next[key]}: this takes effect at the next restart`);
    }
    this.config = next;
    this.staticLabels = this.labelsFor(next, this.plan);
    this.scheduler.setInterval(next.interval * 1000);
    this.setSource(source);
    await this.push.configure(push);
    if (this.plan !== previous) {
      this.self.keepCollectors(this.collectorNames);
      await this.stopCollectors(previous.collectors);
    }
  }

  private setSource(source: ConfigSource): void {
    this.source = source;
    this.self.setConfigSource(source);
  }

  private labelsFor(config: ExporterConfig, plan: CollectorPlan): LabelPairs {
    return [['device_type', plan.deviceType], ['hostname', hostname()], ...Object.entries(config.labels)];
  }

  private async cycle(): Promise<void> {
    const { collectors } = this.plan;
    const timeoutMs = this.config.interval * 1000;
    const collectedAt = Date.now();
    const results = await Promise.all(
      collectors.map(async (active) => ({ active, samples: await collectFrom(active, timeoutMs, this.self, this.logger) })),
    );
    // A reload that replaced the collectors meanwhile: publishing this cycle would mix two configs.
    if (collectors !== this.plan.collectors) return;
    this.lastResults = new Map(results.map(({ active, samples }) => [active.name, samples?.length]));
    const assembled = assembleFamilies(results, this.staticLabels, (name) => this.config.metrics[name] ?? this.config.new_metrics_default, this.self, this.logger);
    this.discover(assembled.names);
    const families = [...assembled.families, ...(await this.self.families(this.staticLabels))];
    this.exposition.update(families);
    this.push.append(families, collectedAt);
  }

  /**
   * Adds metrics seen for the first time to the `metrics:` map with `new_metrics_default`, and saves them. A metric
   * the config server has held for this device and its version left out takes the default without being new: sending
   * it back would make a version of its own after every operator change.
   */
  private discover(names: ReadonlySet<string>): void {
    const fresh: Record<string, boolean> = {};
    for (const name of names) {
      if (Object.hasOwn(this.config.metrics, name)) continue;
      if (this.sync?.serverHad(name)) this.config.metrics[name] = this.config.new_metrics_default;
      else fresh[name] = this.config.new_metrics_default;
    }
    const count = Object.keys(fresh).length;
    if (count > 0) {
      Object.assign(this.config.metrics, fresh);
      this.logger.info(`discovered ${count} new metric${count === 1 ? '' : 's'} (${this.config.new_metrics_default ? 'enabled' : 'disabled'}): ${Object.keys(fresh).join(', ')}`);
      if (this.settings.readOnly) return;
      if (Object.values(fresh).includes(false)) this.logger.info(this.disabledNotice()!);
      this.sync?.enqueue(fresh);
      for (const name of Object.keys(fresh)) this.unsavedDiscoveries.add(name);
    }
    if (this.source !== 'defaults' && this.unsavedDiscoveries.size > 0 && !this.savingDiscoveries) void this.saveDiscoveries();
  }

  private async saveDiscoveries(): Promise<void> {
    this.savingDiscoveries = true;
    const changes = Object.fromEntries([...this.unsavedDiscoveries].map((name) => [name, this.config.metrics[name] ?? this.config.new_metrics_default]));
    try {
      await this.configFile.setMetrics(changes);
      for (const name of Object.keys(changes)) this.unsavedDiscoveries.delete(name);
      if (this.discoveryError !== undefined) this.logger.info('discovered metrics saved to the config file');
      this.discoveryError = undefined;
    } catch (error) {
      const message = describeError(error);
      if (message !== this.discoveryError) this.logger.error(`discovered metrics not saved (retried every cycle): ${message}`);
      this.discoveryError = message;
    } finally {
      this.savingDiscoveries = false;
    }
  }

  private async startCollectors(collectors: readonly ActiveCollector[]): Promise<void> {
    await Promise.all(
      collectors.map(async (active) => {
        try {
          await withTimeout(Promise.resolve(active.collector.start?.()), STOP_TIMEOUT_MS, 'start()');
        } catch (error) {
          active.lastError = `start() failed: ${describeError(error)}`;
          this.logger.error(`collector ${active.name} (${active.usable.record.packageName}) ${active.lastError}`);
        }
      }),
    );
  }

  private async stopCollectors(collectors: readonly ActiveCollector[]): Promise<void> {
    await Promise.all(
      collectors.map((active) =>
        withTimeout(Promise.resolve(active.collector.stop?.()), STOP_TIMEOUT_MS, 'stop()').catch((error) =>
          this.logger.warn(`collector ${active.name}: ${describeError(error)}`),
        ),
      ),
    );
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** What the collectors are built from: when none of it changes, a reload keeps them running. */
function collectorInputs(config: ExporterConfig): string {
  const { device_type, options, collectors, interval, plugin_dirs } = config;
  return JSON.stringify({ device_type, options, collectors, interval, plugin_dirs });
}


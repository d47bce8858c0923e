import { ExporterError, describeError } from '../errors';
import type { createLogger } from '../logger';
import type { SelfMetrics } from '../metrics/self-metrics';
import { PluginCatalog } from '../plugins/catalog';
import type { PushManager } from '../push/manager';
import type { CollectionRuntime } from '../runtime/collection-runtime';
import { planCollectors, type CollectorPlan } from '../runtime/collectors';
import type { RawConfig } from '../sync/client';
import type { ConfigSync, SyncHost } from '../sync/config-sync';
import { localOnlyOf, shareable, withLocalOnly } from '../sync/merge';
import { withTimeout } from '../timeout';
import type { ConfigFile } from './file';
import { DEVICE_ONLY_KEYS, collectorInputs, restartKeysChanged } from './keys';
import { loadConfigFile, parseYaml, type ConfigSource } from './load';
import { parseConfig, type ExporterConfig } from './schema';
import { watchFile } from './watch';

export interface ReloadResult {
  ok: boolean;
  source: ConfigSource;
  error?: string;
}

export interface ControllerSettings {
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** Write nothing: no discovered metrics saved, no file watched (`--once`). */
  readOnly: boolean;
  /** Ports given on the command line or in the environment: they override every config's. */
  ports: Partial<Pick<ExporterConfig, 'port' | 'reload_port'>>;
  /** The node_modules folder searched for plugins beside `plugin_dirs`. */
  installDir?: string;
}

/** How long a stop waits for config writes still queued (API toggles, discoveries) before it gives them up. */
const WRITE_WAIT_MS = 5000;

/**
 * The config in force and every way it changes: file reloads (watched), versions from the config server, metric
 * toggles and discoveries (saved to the file, with retries, and queued for the server). Changes are applied one
 * after the other; a change of what the collectors are built from hands the runtime a new plan.
 */
export class ConfigController implements SyncHost {
  private sync: ConfigSync | undefined;
  private watcher: { close(): Promise<void> } | undefined;
  private applying: Promise<unknown> = Promise.resolve();
  /** Discovered metrics not yet saved to the file (the write failed): saved with the next cycle's discoveries. */
  private readonly unsavedDiscoveries = new Set<string>();
  private savingDiscoveries = false;
  private discoveryError: string | undefined;
  /** True while the file's last reload failed: its return to the config in force is then worth a line. */
  private fileRejected = false;

  constructor(
    private config: ExporterConfig,
    private source: ConfigSource,
    private catalog: PluginCatalog,
    /** The local-only keys of the last local config that was valid: a server's version never goes without them. */
    private localOnly: RawConfig,
    private readonly configFile: ConfigFile,
    private readonly runtime: CollectionRuntime,
    private readonly push: PushManager,
    private readonly settings: ControllerSettings,
    private readonly self: SelfMetrics,
    private readonly logger: ReturnType<typeof createLogger>,
  ) {
    self.setConfigSource(source);
    runtime.onReported((reported) => this.discover(reported));
  }

  get current(): Readonly<ExporterConfig> {
    return this.config;
  }

  get currentSource(): ConfigSource {
    return this.source;
  }

  get path(): string {
    return this.configFile.path;
  }

  /** Follows the config server through `sync` (started with `start`). */
  follow(sync: ConfigSync): void {
    this.sync = sync;
  }

  /** Watches the config file (unless read-only) and starts following the config server. */
  async start(): Promise<void> {
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

  /** Stops following the config server and the file. */
  async stop(): Promise<void> {
    await this.sync?.stop();
    await this.watcher?.close();
  }

  /**
   * Waits for the config writes still queued. Each write is atomic, so giving up the queue leaves the file as its
   * last complete write; changes still queued were not acknowledged to their callers.
   */
  async finishWrites(): Promise<void> {
    await withTimeout(this.configFile.idle(), WRITE_WAIT_MS, 'the queued config file writes').catch((error) =>
      this.logger.warn(`${describeError(error)}: stopping without them; ${this.configFile.path} keeps its last complete write`),
    );
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

  disabledCount(): number {
    return Object.values(this.config.metrics).filter((enabled) => !enabled).length;
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
    await this.sync?.enqueue(changes);
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
    return this.runtime.deviceType;
  }

  /** Saves a config from the server as the local fallback, keeping the file's local-only keys. */
  async saveServerConfig(raw: RawConfig): Promise<void> {
    await this.configFile
      .replaceWith(raw, DEVICE_ONLY_KEYS)
      .catch((error) => this.logger.error(`the config from the server is in force but was not saved as the local fallback: ${describeError(error)}`));
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
    // Receivers that cannot be used (an unreadable secret) refuse the config before anything changes.
    const push = this.push.plan(next, this.configFile.path);
    let plan: CollectorPlan | undefined;
    if (collectorInputs(next) !== collectorInputs(current)) {
      const catalog = JSON.stringify(next.plugin_dirs) === JSON.stringify(current.plugin_dirs) ? this.catalog : await PluginCatalog.discover(next.plugin_dirs, this.settings.cwd, this.settings.installDir);
      plan = await planCollectors(next, catalog, this.logger, where);
      await this.runtime.startCollectors(plan);
      this.catalog = catalog;
    }
    for (const key of restartKeysChanged(current, next)) this.logger.warn(`${describeChange(key, current[key], next[key])}: this takes effect at the next restart`);
    this.config = next;
    const previous = this.runtime.use(next, plan);
    this.setSource(source);
    await this.push.configure(push);
    if (previous) await this.runtime.retire(previous);
  }

  private setSource(source: ConfigSource): void {
    this.source = source;
    this.self.setConfigSource(source);
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
      void this.sync?.enqueue(fresh, 'discovered');
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
}

/** `port changed from 9100 to 9200`; values that are not plain (`config_server`, which holds a token) are not shown. */
function describeChange(key: string, from: unknown, to: unknown): string {
  const plain = (value: unknown) => value === undefined || ['string', 'number', 'boolean'].includes(typeof value);
  return plain(from) && plain(to) ? `${key} changed from ${String(from)} to ${String(to)}` : `${key} changed`;
}

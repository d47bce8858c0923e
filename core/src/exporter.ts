import { ConfigController, type ReloadResult } from './config/controller';
import { ConfigFile } from './config/file';
import type { ConfigSource } from './config/load';
import type { ExporterConfig } from './config/schema';
import type { createLogger } from './logger';
import type { ContentEncoding, ExpositionFormat } from './metrics/exposition';
import { SelfMetrics } from './metrics/self-metrics';
import { PushManager } from './push/manager';
import { CollectionRuntime, type CycleListener } from './runtime/collection-runtime';
import { ConfigSync } from './sync/config-sync';
import { chooseStartConfig } from './startup';

export type { ReloadResult } from './config/controller';

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

/**
 * The exporter as the CLI and the HTTP layer see it: the collection runtime (collectors, schedule, exposition) and
 * the config controller (the config in force and its changes), put together at start.
 */
export class Exporter {
  private constructor(
    private readonly runtime: CollectionRuntime,
    private readonly controller: ConfigController,
    private readonly push: PushManager,
    private readonly env: NodeJS.ProcessEnv,
    readonly logger: RootLogger,
  ) {}

  /**
   * Loads the config (from the config server when one is configured and answers within the timeout, else the local
   * file) and the plugins, and creates the collectors; throws an ExporterError when no usable config exists.
   */
  static async create(settings: ExporterSettings = {}): Promise<Exporter> {
    const cwd = settings.cwd ?? process.cwd();
    const env = settings.env ?? process.env;
    const readOnly = settings.readOnly ?? false;
    const ports = settings.ports ?? {};
    const choice = await chooseStartConfig({ ...settings, env, cwd });
    const { logger, server } = choice;
    const self = new SelfMetrics();
    const config = { ...choice.config, ...ports };
    const runtime = new CollectionRuntime(choice.plan, config, self, logger);
    const configFile = new ConfigFile(choice.configPath);
    configFile.noteApplied(choice.localText);
    const controllerSettings = { cwd, env, readOnly, ports, ...(settings.installDir ? { installDir: settings.installDir } : {}) };
    const push = new PushManager(self, logger, env, (listener) => runtime.onCycle(listener));
    const controller = new ConfigController(config, choice.source, choice.catalog, choice.localOnly, configFile, runtime, push, controllerSettings, self, logger);
    // Read-only (`--once`) uses the server's config but keeps no sync going and writes nothing.
    if (server && !readOnly) {
      const { start } = server;
      const sync = new ConfigSync(server.settings, start.client, start.state, controller, logger, self.syncMetrics());
      controller.follow(sync);
      if (start.reachable) sync.noteReachable();
      if (start.fetched && !start.skipped) {
        sync.noteStartVersion(start.fetched, choice.source === 'server', server.serverError ?? start.parseError);
        if (choice.source === 'server') await controller.saveServerConfig(start.raw!);
      }
    }
    return new Exporter(runtime, controller, push, env, logger);
  }

  get currentConfig(): Readonly<ExporterConfig> {
    return this.controller.current;
  }

  get deviceType(): string {
    return this.runtime.deviceType;
  }

  get configSource(): ConfigSource {
    return this.controller.currentSource;
  }

  get configPath(): string {
    return this.controller.path;
  }

  get collectorNames(): string[] {
    return this.runtime.collectors.map((active) => active.name);
  }

  /** The bearer token the management routes require, if any (config, else env `MANAGEMENT_TOKEN`). */
  get managementToken(): string | undefined {
    return this.controller.current.management_token ?? (this.env.MANAGEMENT_TOKEN || undefined);
  }

  /**
   * Starts the collectors, the schedule, the remote-write receivers and (unless read-only) the config file watch and
   * the config server sync.
   */
  async start(): Promise<void> {
    const notice = this.disabledNotice();
    if (notice) this.logger.info(notice);
    const push = this.push.plan(this.controller.current, this.controller.path);
    await this.runtime.start();
    await this.push.configure(push);
    await this.controller.start();
  }

  /** Tells the config server (if any) the port Prometheus scrapes, so that its `/sd` lists this device. */
  reportEndpoint(metricsPort: number): void {
    this.controller.reportEndpoint(metricsPort);
  }

  async stop(): Promise<void> {
    await this.controller.stop();
    await this.runtime.stop();
    await this.push.stop();
    await this.controller.finishWrites();
  }

  /** Calls `listener` after every collection cycle with the cycle's exposed samples and timestamp. */
  onCycle(listener: CycleListener): () => void {
    return this.runtime.onCycle(listener);
  }

  /** The exposition of the last cycle: what a scrape returns. */
  metricsText(format: ExpositionFormat): Promise<string> {
    return this.runtime.metricsText(format);
  }

  /** The same, as the bytes a scrape sends, gzip-compressed when asked. */
  metricsBytes(format: ExpositionFormat, encoding: ContentEncoding = 'identity'): Promise<Buffer> {
    return this.runtime.metricsBytes(format, encoding);
  }

  /** For `--once`: see CollectionRuntime.collectOnce. */
  collectOnce(timeoutMs: number): Promise<{ text: string; failed: string[] }> {
    return this.runtime.collectOnce(timeoutMs);
  }

  /**
   * The `metrics:` map, with every metric reported so far; beside the old exporter's keys, how many are disabled and,
   * when some are, how to enable them.
   */
  listMetrics(): { metrics: Record<string, boolean>; device_type: string; source: ConfigSource; disabled: number; hint?: string } {
    const hint = this.disabledNotice();
    const disabled = this.controller.disabledCount();
    return { metrics: { ...this.controller.current.metrics }, device_type: this.deviceType, source: this.configSource, disabled, ...(hint ? { hint } : {}) };
  }

  /** One line saying how many metrics are disabled and how to enable them, or undefined when none is. */
  disabledNotice(): string | undefined {
    return this.controller.disabledNotice();
  }

  /**
   * True when this device produces `name`: it is in the `metrics:` map (where every metric a collector reports is
   * added) or a running collector's manifest declares it by its exact name. A name that only fits a pattern family
   * (`jetson_power_{rail}_watts`) counts once reported: a pattern alone would accept any number of made-up names.
   */
  canProduce(name: string): boolean {
    return Object.hasOwn(this.controller.current.metrics, name) || this.runtime.collectors.some((active) => active.usable.families.declares(name));
  }

  /** Sets metrics on or off: see ConfigController.setMetrics. */
  setMetrics(changes: Readonly<Record<string, boolean>>): Promise<void> {
    return this.controller.setMetrics(changes);
  }

  /** Re-reads the config (the server's when there is one, else the file); on any error the config in force stays. */
  reload(): Promise<ReloadResult> {
    return this.controller.reload();
  }
}

import { describeError } from '../errors';
import type { Logger } from '../plugin-api';
import type { ConfigServerClient, DeviceReport, Fetched, RawConfig } from './client';
import { isMetricsMap, mergePending, shareable } from './merge';
import type { SyncSettings } from './settings';
import type { SyncState } from './state';

/** What the sync needs from the exporter. */
export interface SyncHost {
  /** Validates and applies a config from the server and saves it as the local fallback; throws when it cannot. */
  applyServerConfig(config: RawConfig, version: number): Promise<void>;
  /** The local config file's content, to register a device the server does not know. */
  localConfig(): Promise<RawConfig>;
  currentDeviceType(): string;
}

export interface SyncMetrics {
  succeeded(atMs: number): void;
  pending(count: number): void;
}

type ServerVersion = Extract<Fetched, { kind: 'config' | 'unusable' }>;

const MAX_BACKOFF_MS = 30_000;
const PUSH_ATTEMPTS = 5;

/**
 * The start-up fetch: the device's config from the server within the timeout, or undefined (logged as a fallback
 * to the local file) when the server cannot be reached, answers garbage, or does not know the device.
 */
export async function fetchAtStart(client: ConfigServerClient, settings: SyncSettings, logger: Logger): Promise<Fetched | undefined> {
  try {
    const fetched = await client.fetchConfig();
    if (fetched.kind === 'missing') logger.info(`config server ${client.origin} does not know device '${settings.deviceId}' yet: using the local config file, which will be registered`);
    if (fetched.kind === 'unusable') logger.error(`config version ${fetched.version} from the config server cannot be used (${fetched.error}): fallback to the local config file`);
    return fetched;
  } catch (error) {
    logger.warn(`config server ${client.origin} unavailable (${describeError(error)}): fallback to the local config file`);
    return undefined;
  }
}

/**
 * Keeps this device and the config server in step, in one background loop: follows the server's versions by
 * long-poll and applies each (reporting applied or failed), registers the device when the server does not know
 * it, reports its scrape endpoint, and pushes metric toggles made on the device, queued on disk while the server
 * is away and merged key by key onto the server's current version when it is back. Never blocks collection or
 * the API; a failure is logged when it starts or changes, then retried with backoff.
 */
export class ConfigSync {
  private running = false;
  private loop: Promise<void> | undefined;
  private wake: AbortController | undefined;
  private endpoint: DeviceReport | undefined;
  private outcome: DeviceReport | undefined;
  private lastError: string | undefined;
  private readonly serverMetrics: Set<string>;

  constructor(
    private readonly settings: SyncSettings,
    private readonly client: ConfigServerClient,
    private readonly state: SyncState,
    private readonly host: SyncHost,
    private readonly logger: Logger,
    private readonly metrics: SyncMetrics,
  ) {
    metrics.pending(state.pendingCount);
    this.serverMetrics = new Set(state.data.serverMetrics ?? []);
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.wake?.abort();
    await this.loop;
    await this.state.save().catch((error) => this.logger.error(`sync state not saved: ${describeError(error)}`));
  }

  /** Records that the server answered the start-up fetch. */
  noteReachable(): void {
    this.noteSuccess();
  }

  /** Records a version received at start-up, applied (or failed) by the exporter itself. */
  noteStartVersion(fetched: Extract<Fetched, { kind: 'config' }>, applied: boolean, error?: string): void {
    this.received(fetched);
    if (applied) this.state.data.appliedVersion = fetched.version;
    else this.state.data.failedVersion = fetched.version;
    this.outcome = applied ? { version: fetched.version, status: 'applied' } : { version: fetched.version, status: 'failed', error: error ?? 'not applied' };
    void this.persist();
  }

  /** True when `version` failed to apply before and must not be tried again. */
  hasFailed(version: number): boolean {
    return this.state.data.failedVersion === version;
  }

  /**
   * True when the server has held `metric` for this device: missing from the config in force, it was left out by an
   * operator's version (so it stays at `new_metrics_default`), not discovered.
   */
  serverHad(metric: string): boolean {
    return this.serverMetrics.has(metric);
  }

  /**
   * Queues metric toggles made on this device for the server; resolves once the queue is on disk, so that a change
   * acknowledged after it survives a crash of the exporter.
   */
  async enqueue(changes: Readonly<Record<string, boolean>>, kind: 'toggled' | 'discovered' = 'toggled'): Promise<void> {
    const at = Date.now();
    for (const [name, value] of Object.entries(changes)) {
      this.state.data.pending[name] = kind === 'discovered' ? { value, at, discovered: true } : { value, at };
    }
    this.kick();
    await this.persist();
  }

  /** Tells the server where Prometheus reaches this device. */
  setEndpoint(metricsPort: number): void {
    this.endpoint = { metrics_port: metricsPort, device_type: this.host.currentDeviceType() };
    this.kick();
  }

  /**
   * For `POST /reload`: fetches the current version now and applies it when it is new. `unreachable` when the
   * server cannot be asked (the caller falls back to the file).
   */
  async refetch(): Promise<{ outcome: 'applied' | 'unchanged' | 'failed' | 'unreachable'; error?: string }> {
    let fetched: Fetched;
    try {
      fetched = await this.client.fetchConfig();
    } catch (error) {
      this.noteFailure(error);
      return { outcome: 'unreachable', error: describeError(error) };
    }
    this.noteSuccess();
    if (fetched.kind !== 'config' && fetched.kind !== 'unusable') return { outcome: 'unreachable', error: 'the config server has no config for this device' };
    if (fetched.version === this.state.data.appliedVersion) return { outcome: 'unchanged' };
    if (await this.handleVersion(fetched)) return { outcome: 'applied' };
    return { outcome: 'failed', error: this.outcome?.error ?? `config version ${fetched.version} failed to apply before` };
  }

  private kick(): void {
    this.wake?.abort();
  }

  private async run(): Promise<void> {
    let backoffMs = 1000;
    while (this.running) {
      try {
        await this.syncOnce();
        backoffMs = 1000;
      } catch (error) {
        if (!this.running) break;
        this.noteFailure(error);
        await this.sleep(backoffMs);
        backoffMs = Math.min(backoffMs * 2, MAX_BACKOFF_MS);
      }
    }
  }

  private async syncOnce(): Promise<void> {
    // Made before the work below: a kick during it aborts the long-poll at once instead of being missed.
    const wake = new AbortController();
    this.wake = wake;
    if (this.state.pendingCount > 0) await this.pushPending();
    if (this.state.data.receivedVersion !== undefined) await this.sendReports();
    let fetched: Fetched;
    try {
      fetched = await this.client.fetchConfig(this.state.data.receivedVersion, this.settings.waitSeconds, wake.signal);
    } catch (error) {
      if (wake.signal.aborted) return;
      throw error;
    }
    this.noteSuccess();
    if (fetched.kind === 'missing') await this.register();
    else if (fetched.kind === 'config' || fetched.kind === 'unusable') await this.handleVersion(fetched);
  }

  /** Sends the endpoint and the last apply outcome; a server that lost this device makes it register again. */
  private async sendReports(): Promise<void> {
    for (const key of ['endpoint', 'outcome'] as const) {
      const report = this[key];
      if (!report) continue;
      if ((await this.client.report(report)) === 'unknown') {
        this.state.data.receivedVersion = undefined;
        return;
      }
      this.noteSuccess();
      if (this[key] === report) this[key] = undefined;
    }
  }

  /** A device the server does not know: store its local config as version 1 (it is what the device runs). */
  private async register(): Promise<void> {
    const local = shareable(await this.host.localConfig());
    const stored = await this.client.storeConfig(local, 'none');
    if (stored.kind === 'conflict') return;
    this.logger.info(`registered device '${this.settings.deviceId}' with config server ${this.client.origin} (version ${stored.version})`);
    this.state.data.receivedVersion = stored.version;
    this.state.data.appliedVersion = stored.version;
    this.state.data.baseMetrics = isMetricsMap(local.metrics) ? { ...local.metrics } : {};
    this.noteServerMetrics(this.state.data.baseMetrics);
    this.outcome = { version: stored.version, status: 'applied' };
    await this.persist();
  }

  /** Applies a version from the server unless it failed before; returns whether it is now in force. */
  private async handleVersion(fetched: ServerVersion): Promise<boolean> {
    this.received(fetched);
    if (this.hasFailed(fetched.version)) {
      await this.persist();
      return false;
    }
    try {
      if (fetched.kind === 'unusable') throw new Error(fetched.error);
      await this.host.applyServerConfig(fetched.config, fetched.version);
      this.state.data.appliedVersion = fetched.version;
      this.outcome = { version: fetched.version, status: 'applied' };
      this.logger.info(`applied config version ${fetched.version} from the config server`);
      return true;
    } catch (error) {
      const message = describeError(error);
      this.state.data.failedVersion = fetched.version;
      this.outcome = { version: fetched.version, status: 'failed', error: message.slice(0, 4096) };
      this.logger.error(`config version ${fetched.version} from the config server was not applied, the config in force stays: ${message}`);
      return false;
    } finally {
      await this.persist();
    }
  }

  private received(fetched: ServerVersion): void {
    this.state.data.receivedVersion = fetched.version;
    this.state.data.baseMetrics = fetched.kind === 'config' && isMetricsMap(fetched.config.metrics) ? { ...fetched.config.metrics } : {};
    this.noteServerMetrics(this.state.data.baseMetrics);
  }

  private noteServerMetrics(metrics: Readonly<Record<string, boolean>>): void {
    const before = this.serverMetrics.size;
    for (const name of Object.keys(metrics)) this.serverMetrics.add(name);
    if (this.serverMetrics.size !== before) this.state.data.serverMetrics = [...this.serverMetrics];
  }

  /** Merges the queued toggles onto the server's current version and stores the result, retrying on a race. */
  private async pushPending(): Promise<void> {
    const snapshot = { ...this.state.data.pending };
    for (let attempt = 1; attempt <= PUSH_ATTEMPTS; attempt++) {
      const current = await this.client.fetchConfig();
      if (current.kind === 'missing') {
        await this.register();
        continue;
      }
      if (current.kind === 'unusable') throw new Error(`${current.error} (version ${current.version}): local changes are kept until the server has a usable version`);
      if (current.kind !== 'config') continue;
      const merged = mergePending(current.config, current.updatedAt, this.state.data.baseMetrics, snapshot);
      const stored = await this.client.storeConfig(merged, current.version);
      if (stored.kind === 'conflict') continue;
      // The server now holds exactly `merged`: a later merge must not take this device's own values for server changes.
      this.state.data.baseMetrics = isMetricsMap(merged.metrics) ? { ...merged.metrics } : {};
      this.noteServerMetrics(this.state.data.baseMetrics);
      for (const [name, change] of Object.entries(snapshot)) {
        if (this.state.data.pending[name] === change) delete this.state.data.pending[name];
      }
      this.logger.info(`sent ${Object.keys(snapshot).length} metric change(s) to the config server (version ${stored.version})`);
      await this.persist();
      return;
    }
    throw new Error(`the device's config kept changing on the server during ${PUSH_ATTEMPTS} attempts to send local changes`);
  }

  /** Saves the state; the pending gauge follows what is on disk. */
  private async persist(): Promise<void> {
    await this.state.save().catch((error) => this.logger.error(`sync state not saved to ${this.state.path}: ${describeError(error)}`));
    this.metrics.pending(this.state.pendingCount);
  }

  private noteSuccess(): void {
    this.metrics.succeeded(Date.now());
    if (this.lastError !== undefined) this.logger.info(`config server ${this.client.origin} answers again`);
    this.lastError = undefined;
  }

  private noteFailure(error: unknown): void {
    const message = describeError(error);
    if (message !== this.lastError) {
      this.logger.warn(`config server ${this.client.origin}: ${message}; the config in force stays (fallback), local changes are kept and sent when it is back`);
    }
    this.lastError = message;
  }

  private sleep(ms: number): Promise<void> {
    this.wake = new AbortController();
    const signal = this.wake.signal;
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      signal.addEventListener('abort', () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}

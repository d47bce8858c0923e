import { performance } from 'node:perf_hooks';
import Counter from 'prom-client/lib/counter';
import Gauge from 'prom-client/lib/gauge';
import Registry from 'prom-client/lib/registry';
import type { ExpositionFamily, ExpositionType } from './exposition';
import { registerProcessMetrics } from './process-metrics';
import { hasTotalSuffixOnNonCounter } from './promtool-names';

/**
 * The exporter's own metrics (per-collector health, config reloads and source, sync state) and prom-client's
 * process metrics, kept in a private prom-client registry and gathered for the exposition on its first read after a
 * cycle (or at the end of the cycle when something listens to every cycle). What a cycle records about its
 * collections and the event-loop lag is staged and applied when the cycle is published, so that a scrape during the
 * next cycle still reads the values of the last one.
 */
export class SelfMetrics {
  private readonly registry = new Registry();
  private readonly collectorNames = new Set<string>();

  private readonly collectorUp = new Gauge({
    name: 'edge_collector_up',
    help: "1 when the collector's last collection succeeded, 0 when it failed or timed out",
    labelNames: ['collector'],
    registers: [this.registry],
  });
  private readonly collectorDuration = new Gauge({
    name: 'edge_collector_duration_seconds',
    help: "Duration of the collector's last collection",
    labelNames: ['collector'],
    registers: [this.registry],
  });
  private readonly collectorErrors = new Counter({
    name: 'edge_collector_errors_total',
    help: 'Collections that failed or timed out',
    labelNames: ['collector'],
    registers: [this.registry],
  });
  private readonly droppedSamples = new Counter({
    name: 'edge_collector_dropped_samples_total',
    help: 'Samples dropped: not a readable sample, name or labels not declared in the manifest, value not a finite number, a duplicate series, or beyond the per-collector limit',
    labelNames: ['collector'],
    registers: [this.registry],
  });
  readonly configReloads = new Counter({
    name: 'edge_config_reloads_total',
    help: 'Config reloads, by result (success or failure)',
    labelNames: ['result'],
    registers: [this.registry],
  });
  readonly configInfo = new Gauge({
    name: 'edge_config_info',
    help: 'Where the config in force came from (server, local or defaults): 1 for the current source',
    labelNames: ['source'],
    registers: [this.registry],
  });

  private readonly eventLoopLag: Gauge;
  /** What the running cycle recorded, applied by `publishCycle`. */
  private staged: Array<() => void> = [];

  constructor() {
    // prom-client's nodejs_eventloop_lag_{min,max,mean,...} come from a monitorEventLoopDelay histogram that it resets
    // at every read: sampled at a cheap precision and read every cycle, it is mostly empty (min 9.2e9 s, mean NaN),
    // and a fine precision costs more idle CPU than all collection. It is left out (see `registerProcessMetrics`)
    // and the lag measured once per cycle instead.
    registerProcessMetrics(this.registry);
    this.eventLoopLag = new Gauge({
      name: 'nodejs_eventloop_lag_seconds',
      help: 'Event-loop lag, measured once per collection cycle: how long a callback queued with setImmediate waited to run',
      registers: [this.registry],
    });
    this.configReloads.inc({ result: 'success' }, 0);
    this.configReloads.inc({ result: 'failure' }, 0);
  }

  setConfigSource(source: string): void {
    this.configInfo.reset();
    this.configInfo.set({ source }, 1);
  }

  /** Adds the config-sync gauges; only an exporter that follows a config server has them. */
  syncMetrics(): { succeeded(atMs: number): void; pending(count: number): void } {
    const lastSuccess = new Gauge({
      name: 'edge_config_sync_last_success_timestamp_seconds',
      help: 'When the config server last answered (Unix time)',
      registers: [this.registry],
    });
    const pending = new Gauge({
      name: 'edge_config_sync_pending_changes',
      help: 'Metric changes made on this device that the config server has not stored yet',
      registers: [this.registry],
    });
    return {
      succeeded: (atMs) => lastSuccess.set(atMs / 1000),
      pending: (count) => pending.set(count),
    };
  }

  /** Lets a module add its own metrics to this registry (the push path's, per receiver). */
  register<T>(create: (registry: Registry) => T): T {
    return create(this.registry);
  }

  recordCollection(collector: string, ok: boolean, seconds: number): void {
    this.staged.push(() => this.applyCollection(collector, ok ? 1 : 0, ok, seconds));
  }

  /** A collection that found no hardware (`NoDataError`): the collector is down, but nothing failed. */
  recordNoData(collector: string, seconds: number): void {
    this.staged.push(() => this.applyCollection(collector, 0, true, seconds));
  }

  recordDropped(collector: string, count: number): void {
    this.staged.push(() => this.droppedSamples.inc({ collector }, count));
  }

  /** Measures the event-loop lag for this cycle: how long a callback queued now waits to run. */
  async measureEventLoopLag(): Promise<void> {
    const seconds = await eventLoopLagSeconds();
    this.staged.push(() => this.eventLoopLag.set(seconds));
  }

  /** Applies what the cycle recorded, as its exposition is published. */
  publishCycle(): void {
    for (const apply of this.staged) apply();
    this.staged = [];
  }

  /** Forgets what a cycle that will not be published recorded. */
  discardCycle(): void {
    this.staged = [];
  }

  private applyCollection(collector: string, up: number, ok: boolean, seconds: number): void {
    this.collectorNames.add(collector);
    this.collectorUp.set({ collector }, up);
    this.collectorDuration.set({ collector }, seconds);
    this.collectorErrors.inc({ collector }, ok ? 0 : 1);
    this.droppedSamples.inc({ collector }, 0);
  }

  /** Forgets the series of collectors that a reload removed. */
  keepCollectors(names: readonly string[]): void {
    for (const collector of this.collectorNames) {
      if (names.includes(collector)) continue;
      for (const metric of [this.collectorUp, this.collectorDuration, this.collectorErrors, this.droppedSamples]) {
        metric.remove({ collector });
      }
      this.collectorNames.delete(collector);
    }
  }

  /** The current values as exposition families, `labels` first on every sample. */
  async families(labels: ReadonlyArray<readonly [string, string]>): Promise<ExpositionFamily[]> {
    const metrics = await this.registry.getMetricsAsJSON();
    return metrics
      .map((metric) => ({ ...metric, type: String(metric.type) as ExpositionType }))
      .filter((metric) => !hasTotalSuffixOnNonCounter(metric))
      .map((metric) => ({
        name: metric.name,
        help: metric.help,
        type: metric.type,
        samples: metric.values.map((value) => ({
          name: (value as { metricName?: string }).metricName ?? metric.name,
          labels: [
            ...labels,
            ...Object.entries(value.labels).map(([name, labelValue]) => [name, labelText(labelValue)] as const),
          ],
          value: value.value,
        })),
      }));
  }
}

/** How long a callback queued now waits for the event loop to run it. */
function eventLoopLagSeconds(): Promise<number> {
  const queued = performance.now();
  return new Promise((resolve) => setImmediate(() => resolve((performance.now() - queued) / 1000)));
}

function labelText(value: string | number | undefined): string {
  return value === Infinity ? '+Inf' : String(value);
}

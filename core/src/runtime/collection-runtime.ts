import { hostname } from 'node:os';
import type { ExporterConfig } from '../config/schema';
import { describeError } from '../errors';
import { ExpositionCache, type ContentEncoding, type ExpositionFamily, type ExpositionFormat } from '../metrics/exposition';
import type { SelfMetrics } from '../metrics/self-metrics';
import type { Logger } from '../plugin-api';
import { assembleFamilies, collectFrom, lastFailure, startCollector, stopCollector, type LabelPairs } from './collection';
import type { ActiveCollector, CollectorPlan } from './collectors';
import { Scheduler } from './scheduler';

/** How long a collector's `start()` or `stop()` may take. */
const START_STOP_TIMEOUT_MS = 5000;

/**
 * What the config in force says about collection. The runtime reads it at every cycle: a change made to its
 * `metrics` map (a toggle, a discovery) applies from the next cycle.
 */
export type CollectionSettings = Readonly<Pick<ExporterConfig, 'interval' | 'labels' | 'metrics' | 'new_metrics_default'>>;

/** One cycle's result, as `/metrics` serves it from then on. */
export interface CycleRecord {
  /** The exposed families (the collectors' enabled series, then the self-metrics), every static label included. */
  families: readonly ExpositionFamily[];
  /** When the cycle started collecting (ms since the epoch). */
  timestampMs: number;
  /** Every valid metric name the collectors reported, enabled or not. */
  reported: ReadonlySet<string>;
}

/**
 * Called once per published cycle. It must return quickly (queue the work): collection waits for it. A throw or a
 * rejection is logged and does not affect collection or other listeners.
 */
export type CycleListener = (cycle: CycleRecord) => void | Promise<void>;

/** Called once per published cycle with the metric names it reported; the same rules as a CycleListener. */
export type ReportedListener = (reported: ReadonlySet<string>) => void | Promise<void>;

/**
 * The collectors and their schedule: starts and stops them (bounded in time), runs a cycle every `interval` (each
 * collector through `collectFrom`), keeps the exposition that scrapes read, tells cycle listeners, and runs the
 * one-shot collection of `--once`. It knows nothing of config files or servers: the config controller hands it a
 * plan and the settings.
 */
export class CollectionRuntime {
  private readonly exposition = new ExpositionCache();
  private readonly scheduler: Scheduler;
  private readonly listeners = new Set<CycleListener>();
  private readonly reportedListeners = new Set<ReportedListener>();
  private staticLabels: LabelPairs;
  /** How many samples each collector returned in the last published cycle (undefined: it failed). */
  private lastResults = new Map<string, number | undefined>();

  constructor(
    private plan: CollectorPlan,
    private settings: CollectionSettings,
    private readonly self: SelfMetrics,
    private readonly logger: Logger,
  ) {
    this.scheduler = new Scheduler(settings.interval * 1000, () => this.cycle(), logger);
    this.staticLabels = labelsFor(settings, plan);
  }

  get deviceType(): string {
    return this.plan.deviceType;
  }

  get collectors(): readonly ActiveCollector[] {
    return this.plan.collectors;
  }

  /** Starts the collectors, then the schedule. */
  async start(): Promise<void> {
    await this.startCollectors(this.plan);
    this.scheduler.start();
  }

  /** Stops the schedule (waiting for a running cycle), then the collectors. */
  async stop(): Promise<void> {
    await this.scheduler.stop();
    await this.stopCollectors(this.plan);
  }

  /**
   * Subscribes to every published cycle (for a push path: each cycle's samples and timestamp); returns the
   * unsubscribe function.
   */
  onCycle(listener: CycleListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Subscribes to the metric names each published cycle reported (for discovery); returns the unsubscribe function.
   * Unlike `onCycle`, it lets the self-metrics wait for the first scrape after the cycle.
   */
  onReported(listener: ReportedListener): () => void {
    this.reportedListeners.add(listener);
    return () => this.reportedListeners.delete(listener);
  }

  /** Starts the collectors of a plan that is about to replace the one in use (see `use`). */
  async startCollectors(plan: CollectorPlan): Promise<void> {
    await Promise.all(plan.collectors.map((active) => startCollector(active, START_STOP_TIMEOUT_MS, this.logger)));
  }

  /**
   * Puts new settings (and a new plan, its collectors started) in use in one step, so that no cycle sees a mix of
   * the two; returns the plan it replaced, whose collectors the caller retires, or undefined when the plan stays.
   */
  use(settings: CollectionSettings, plan?: CollectorPlan): CollectorPlan | undefined {
    const previous = plan && plan !== this.plan ? this.plan : undefined;
    if (plan) this.plan = plan;
    this.settings = settings;
    this.staticLabels = labelsFor(settings, this.plan);
    this.scheduler.setInterval(settings.interval * 1000);
    return previous;
  }

  /** Stops the collectors of a plan no longer in use and forgets their self-metric series. */
  async retire(previous: CollectorPlan): Promise<void> {
    this.self.keepCollectors(this.plan.collectors.map((active) => active.name));
    await this.stopCollectors(previous);
  }

  /** The exposition of the last cycle: what a scrape returns. */
  metricsText(format: ExpositionFormat): Promise<string> {
    return this.exposition.text(format);
  }

  /** The same, as the bytes a scrape sends, gzip-compressed when asked. */
  metricsBytes(format: ExpositionFormat, encoding: ContentEncoding = 'identity'): Promise<Buffer> {
    return this.exposition.bytes(format, encoding);
  }

  /**
   * For `--once`: runs cycles until every collector has returned samples or failed, or `timeoutMs` is up, then one
   * more an interval after the collectors started when the timeout allows, so that what is measured over time (CPU
   * usage, power integrated into energy) covers an interval as in a running exporter, not the start-up; returns the
   * exposition and the collectors that failed or produced nothing.
   */
  async collectOnce(timeoutMs: number): Promise<{ text: string; failed: string[] }> {
    await this.startCollectors(this.plan);
    const started = Date.now();
    const deadline = started + timeoutMs;
    const settled = (): boolean => this.plan.collectors.every((active) => lastFailure(active) !== undefined || (this.lastResults.get(active.name) ?? 0) > 0);
    do {
      await this.cycle();
      if (settled()) break;
      await sleep(50);
    } while (Date.now() < deadline);
    const intervalEnd = started + this.settings.interval * 1000;
    if (Date.now() < intervalEnd && intervalEnd <= deadline) {
      await sleep(intervalEnd - Date.now());
      await this.cycle();
    }
    const failed = this.plan.collectors.filter((active) => lastFailure(active) !== undefined || !this.lastResults.get(active.name)).map((active) => active.name);
    return { text: await this.exposition.text('prometheus'), failed };
  }

  private async cycle(): Promise<void> {
    const { collectors } = this.plan;
    const timestampMs = Date.now();
    const timeoutMs = this.settings.interval * 1000;
    await this.self.measureEventLoopLag();
    const results = await Promise.all(
      collectors.map(async (active) => ({ active, samples: await collectFrom(active, timeoutMs, this.self, this.logger) })),
    );
    // A reload that replaced the collectors meanwhile: publishing this cycle would mix two configs.
    if (collectors !== this.plan.collectors) return this.self.discardCycle();
    this.lastResults = new Map(results.map(({ active, samples }) => [active.name, samples?.length]));
    const { metrics, new_metrics_default: enabledByDefault } = this.settings;
    const assembled = assembleFamilies(results, this.staticLabels, (name) => metrics[name] ?? enabledByDefault, this.self, this.logger);
    this.self.publishCycle();
    const staticLabels = this.staticLabels;
    if (this.listeners.size === 0) {
      // Nobody needs the self-metrics before a scrape: they are gathered on the first one after this cycle.
      this.exposition.update(assembled.families, () => this.self.families(staticLabels));
    } else {
      const families = [...assembled.families, ...(await this.self.families(staticLabels))];
      if (collectors !== this.plan.collectors) return;
      this.exposition.update(families);
      for (const listener of this.listeners) this.tell(() => listener({ families, timestampMs, reported: assembled.names }));
    }
    for (const listener of this.reportedListeners) this.tell(() => listener(assembled.names));
  }

  /** Runs a listener; a throw or a rejection is logged. */
  private tell(listener: () => void | Promise<void>): void {
    try {
      Promise.resolve(listener()).catch((error) => this.logger.error(`cycle listener failed: ${describeError(error)}`));
    } catch (error) {
      this.logger.error(`cycle listener failed: ${describeError(error)}`);
    }
  }

  private async stopCollectors(plan: CollectorPlan): Promise<void> {
    await Promise.all(plan.collectors.map((active) => stopCollector(active, START_STOP_TIMEOUT_MS, this.logger)));
  }
}

function labelsFor(settings: CollectionSettings, plan: CollectorPlan): LabelPairs {
  return [['device_type', plan.deviceType], ['hostname', hostname()], ...Object.entries(settings.labels)];
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

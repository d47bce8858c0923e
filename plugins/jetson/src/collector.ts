import { EnergyIntegrator, type Collector, type CollectorContext, type Sample } from '@edge-metrics/core/plugin';
import type { JetsonOptions } from './manifest';
import { jetsonSamples } from './metrics';
import { parseTegrastatsLine, TegrastatsLineError } from './tegrastats';
import { TegrastatsProcess } from './tegrastats-process';

/** The interval and staleness an instance runs with, from its options and the collector's interval. */
export function timing(options: JetsonOptions, intervalS: number): { intervalMs: number; staleMs: number } {
  const intervalMs = options.interval_ms ?? Math.max(10, Math.round(intervalS * 1000));
  const staleS = options.sample_stale_s ?? Math.max(5, (5 * intervalMs) / 1000);
  return { intervalMs, staleMs: staleS * 1000 };
}

/**
 * Serves the samples of the latest tegrastats line. `collect()` only reads what the child process last printed,
 * so it never waits on the hardware.
 */
export class JetsonCollector implements Collector {
  private readonly process: TegrastatsProcess;
  private readonly energy: EnergyIntegrator;
  private readonly staleMs: number;
  private latest: { samples: Sample[]; atMs: number } | undefined;

  constructor(
    private readonly options: JetsonOptions,
    private readonly context: CollectorContext,
  ) {
    const { intervalMs, staleMs } = timing(options, context.interval);
    this.staleMs = staleMs;
    // Energy is not integrated across a gap longer than a sample may be old: nothing was measured then.
    this.energy = new EnergyIntegrator(staleMs);
    this.process = new TegrastatsProcess({
      command: options.tegrastats_path,
      intervalMs,
      maxBackoffMs: options.restart_backoff_max_s * 1000,
      logger: context.logger,
      onLine: (line) => this.onLine(line),
    });
  }

  start(): void {
    this.process.start();
  }

  collect(): Sample[] {
    const failure = this.process.failure;
    if (failure) throw new Error(failure);
    const now = performance.now();
    const limit = `sample_stale_s is ${this.staleMs / 1000}`;
    const silentMs = now - Math.max(this.latest?.atMs ?? 0, this.process.runningSinceMs ?? now);
    if (silentMs > this.staleMs) {
      this.process.recycle();
      throw new Error(
        `tegrastats ('${this.options.tegrastats_path}') has printed no usable line for ${seconds(silentMs)} s (${limit}); restarting it`,
      );
    }
    if (!this.latest) return [];
    const ageMs = now - this.latest.atMs;
    if (ageMs > this.staleMs) {
      // Without the age itself, which grows every cycle: a message that stays the same is logged once.
      throw new Error(`the latest tegrastats line is over ${seconds(this.staleMs)} s old (${limit}) and the restarted tegrastats has printed no usable line yet`);
    }
    const { samples } = this.latest;
    return samples.some((sample) => sample.name === 'power_total_watts')
      ? [...samples, { name: 'energy_joules_total', value: this.energy.total }]
      : [...samples];
  }

  stop(): Promise<void> {
    return this.process.stop();
  }

  private onLine(line: string): void {
    if (line.trim() === '') return;
    const atMs = performance.now();
    try {
      const reading = parseTegrastatsLine(line);
      if (reading.unrecognized.length > 0) {
        this.context.logger.warnOnce(
          'unrecognized',
          `tegrastats printed fields this plugin does not know, skipped: ${reading.unrecognized.slice(0, 10).join(' ')}`,
        );
      }
      const samples = jetsonSamples(reading);
      const total = samples.find((sample) => sample.name === 'power_total_watts');
      if (total) this.energy.add(total.value, atMs);
      this.latest = { samples, atMs };
    } catch (error) {
      if (!(error instanceof TegrastatsLineError)) throw error;
      this.context.logger.warnOnce('garbage', `ignored output of '${this.options.tegrastats_path}' that is not tegrastats: ${error.message}`);
    }
  }
}

function seconds(ms: number): string {
  return (ms / 1000).toFixed(1);
}

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describeError, MonotonicCounter, type Collector, type Logger, type Sample } from '@edge-metrics/core/plugin';
import type { NetdevOptions } from './manifest';
import { parseNetDev } from './netdev';

/** The /proc/net/dev columns reported, and the end of the metric name each becomes. */
const COUNTERS = [
  { column: 'bytes', metric: 'bytes_total' },
  { column: 'packets', metric: 'packets_total' },
  { column: 'errs', metric: 'errors_total' },
  { column: 'drop', metric: 'dropped_total' },
] as const;

/**
 * Reads `<proc_root>/net/dev` at every collection. Reading a small procfs file takes microseconds, so there is
 * nothing to start or stop: no `start()`, no `stop()`.
 */
export class NetdevCollector implements Collector {
  /** One counter per series, kept in the instance (never in the module: several instances run at once). */
  private counters = new Map<string, MonotonicCounter>();
  private readonly path: string;
  private readonly reported: (name: string) => boolean;
  /** A 32-bit counter that drops has wrapped; a 64-bit one never wraps in practice, so a drop is a reset. */
  private readonly wrapAt: number | undefined;

  constructor(
    private readonly options: NetdevOptions,
    private readonly logger: Logger,
  ) {
    this.path = join(options.proc_root, 'net', 'dev');
    this.reported = interfaceFilter(options.include, options.exclude);
    this.wrapAt = options.counter_bits === 32 ? 2 ** 32 : undefined;
  }

  async collect(): Promise<Sample[]> {
    const table = parseNetDev(await this.read(), this.path);
    for (const { line, problem } of table.skipped) this.logger.warnOnce(`line ${line}`, `${problem}; skipping it`);
    const interfaces = table.interfaces.filter((counters) => this.reported(counters.interface));
    if (interfaces.length === 0) {
      const present = table.interfaces.map((counters) => counters.interface).join(', ') || 'none';
      this.logger.warnOnce('no-interface', `no interface of ${this.path} passes options.include and options.exclude (interfaces: ${present})`);
    }
    const samples: Sample[] = [];
    const counters = new Map<string, MonotonicCounter>();
    for (const { interface: name, receive, transmit } of interfaces) {
      for (const [direction, columns] of [['receive', receive], ['transmit', transmit]] as const) {
        for (const { column, metric } of COUNTERS) {
          const raw = columns[column];
          if (raw === undefined) continue;
          const metricName = `netdev_${direction}_${metric}`;
          const key = `${metricName}\u0000${name}`;
          const counter = this.counters.get(key) ?? new MonotonicCounter(this.wrapAt);
          counters.set(key, counter);
          samples.push({ name: metricName, value: counter.update(raw), labels: { interface: name } });
        }
      }
    }
    // An interface that went away (a container's veth) takes its counters with it.
    this.counters = counters;
    return samples;
  }

  /** The file's text; a missing or unreadable file is the source being down: an Error that says what to fix. */
  private async read(): Promise<string> {
    try {
      return await readFile(this.path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
        throw new Error(`${this.path} does not exist: procfs is not mounted at '${this.options.proc_root}'; set options.proc_root to where it is`);
      }
      throw new Error(`cannot read ${this.path}: ${describeError(error)}`);
    }
  }
}

/** Whether an interface is reported: it matches an `include` pattern (or there is none) and no `exclude` pattern. */
export function interfaceFilter(include: readonly string[], exclude: readonly string[]): (name: string) => boolean {
  const [included, excluded] = [include.map(globRegExp), exclude.map(globRegExp)];
  return (name) => (included.length === 0 || included.some((pattern) => pattern.test(name))) && !excluded.some((pattern) => pattern.test(name));
}

/** `*` stands for any run of characters; everything else for itself. */
function globRegExp(glob: string): RegExp {
  const literal = (part: string): string => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`^${glob.split('*').map(literal).join('.*')}$`);
}

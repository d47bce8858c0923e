import { performance } from 'node:perf_hooks';
import { describeError } from '../errors';
import type { ExpositionFamily } from '../metrics/exposition';
import type { SelfMetrics } from '../metrics/self-metrics';
import { isCollectorDown, isNoData, type Logger, type Sample } from '../plugin-api';
import { readSample, seriesKey } from '../samples';
import { withTimeout } from '../timeout';
import type { ActiveCollector } from './collectors';

export type LabelPairs = ReadonlyArray<readonly [string, string]>;

/**
 * The most samples one collector may return per collection: beyond it, the excess is dropped (counted, logged
 * once), so that a runaway plugin cannot make every scrape slow and the process huge. A fleet device has tens to
 * hundreds of series.
 */
export const MAX_SAMPLES_PER_COLLECTOR = 10_000;

/**
 * What this module remembers of each collector between cycles. Only the functions below read or write it: they
 * hold all of a collector's timing and success bookkeeping.
 */
interface Health {
  /** The unfinished `collect()` of an earlier cycle, if any: a new one is not started beside it. */
  inFlight?: Promise<unknown>;
  /** The last failure's message, so a failure is logged when it starts or changes, not every cycle. */
  lastError?: string;
}

const healthOf = new WeakMap<ActiveCollector, Health>();

function health(active: ActiveCollector): Health {
  let found = healthOf.get(active);
  if (!found) {
    found = {};
    healthOf.set(active, found);
  }
  return found;
}

/** The collector's last failure (of `start()` or `collect()`), or undefined when its last collection succeeded. */
export function lastFailure(active: ActiveCollector): string | undefined {
  return health(active).lastError;
}

/** Runs a collector's optional `start()`, bounded by `timeoutMs`; a failure is logged and kept as its last failure. */
export async function startCollector(active: ActiveCollector, timeoutMs: number, logger: Logger): Promise<void> {
  try {
    await withTimeout(Promise.resolve(active.collector.start?.()), timeoutMs, 'start()');
  } catch (error) {
    const state = health(active);
    state.lastError = `start() failed: ${describeError(error)}`;
    logger.error(`collector ${active.name} (${active.usable.record.packageName}) ${state.lastError}`);
  }
}

/** Runs a collector's optional `stop()`, bounded by `timeoutMs`; a failure is logged. */
export async function stopCollector(active: ActiveCollector, timeoutMs: number, logger: Logger): Promise<void> {
  await withTimeout(Promise.resolve(active.collector.stop?.()), timeoutMs, 'stop()').catch((error) =>
    logger.warn(`collector ${active.name}: ${describeError(error)}`),
  );
}

/**
 * Runs one collector's `collect()`, isolated: a throw, a timeout or a result that is not an array is a failed
 * collection (logged when the failure starts or changes, counted in the self-metrics), never an exception; the
 * samples a CollectorDownError carries are still returned. A collector whose previous `collect()` is still running
 * is not called again beside it. Returns a copy of the array, at most MAX_SAMPLES_PER_COLLECTOR long.
 */
export async function collectFrom(active: ActiveCollector, timeoutMs: number, self: SelfMetrics, logger: Logger): Promise<Sample[] | undefined> {
  const state = health(active);
  const started = performance.now();
  try {
    if (state.inFlight) throw new Error('the previous collect() has still not returned');
    const pending = Promise.resolve().then(() => active.collector.collect());
    state.inFlight = pending;
    pending.then(
      () => (state.inFlight = undefined),
      () => (state.inFlight = undefined),
    );
    const returned: unknown = await withTimeout(pending, timeoutMs, 'collect()');
    if (!Array.isArray(returned)) throw new Error(`collect() returned ${typeof returned}, not an array of samples`);
    // A copy: an array whose elements are getters or a proxy fails here, as a collection, not later.
    const samples = returned.slice(0, MAX_SAMPLES_PER_COLLECTOR) as Sample[];
    const excess = returned.length - samples.length;
    if (excess > 0) {
      self.recordDropped(active.name, excess);
      logger.warnOnce(
        `${active.name}\u0000sample cap`,
        `collector ${active.name} returned ${returned.length} samples, more than the ${MAX_SAMPLES_PER_COLLECTOR} one collector may return: the rest are dropped (counted in edge_collector_dropped_samples_total)`,
      );
    }
    self.recordCollection(active.name, true, (performance.now() - started) / 1000);
    if (state.lastError !== undefined) logger.info(`collector ${active.name} recovered`);
    state.lastError = undefined;
    return samples;
  } catch (error) {
    const message = describeError(error);
    if (isNoData(error)) {
      // Absent hardware is no data, not a fault: down, logged once, not counted as an error.
      self.recordNoData(active.name, (performance.now() - started) / 1000);
      if (message !== state.lastError) logger.info(`collector ${active.name} (${active.usable.record.packageName}) has no data: ${message}`);
      state.lastError = message;
      return undefined;
    }
    self.recordCollection(active.name, false, (performance.now() - started) / 1000);
    if (message !== state.lastError) logger.error(`collector ${active.name} (${active.usable.record.packageName}) failed: ${message}`);
    state.lastError = message;
    return isCollectorDown(error) ? error.samples.slice(0, MAX_SAMPLES_PER_COLLECTOR) : undefined;
  }
}

export interface Assembled {
  /** The enabled series, grouped in families, in the order collectors reported them. */
  families: ExpositionFamily[];
  /** Every valid metric name reported this cycle, enabled or not. */
  names: Set<string>;
}

/**
 * Checks each collector's samples against its manifest (dropping, with one warning, what it does not declare
 * and any series a collector before it already reported), keeps the enabled ones and adds the static labels.
 */
export function assembleFamilies(
  results: ReadonlyArray<{ active: ActiveCollector; samples: Sample[] | undefined }>,
  staticLabels: LabelPairs,
  isEnabled: (name: string) => boolean,
  self: SelfMetrics,
  logger: Logger,
): Assembled {
  const families = new Map<string, ExpositionFamily>();
  const names = new Set<string>();
  const series = new Set<string>();
  for (const { active, samples } of results) {
    let dropped = 0;
    for (const raw of samples ?? []) {
      const checked = readSample(raw, active.usable.families);
      if (typeof checked === 'string') {
        dropped++;
        logger.warnOnce(`${active.name}\u0000${checked}`, `collector ${active.name}: ${checked}; sample dropped`);
        continue;
      }
      const { sample, family } = checked;
      const key = seriesKey(sample);
      if (series.has(key)) {
        dropped++;
        logger.warnOnce(`${active.name}\u0000duplicate\u0000${key}`, `collector ${active.name}: series ${key} was already reported by an earlier collector; dropped`);
        continue;
      }
      series.add(key);
      names.add(sample.name);
      if (!isEnabled(sample.name)) continue;
      let out = families.get(sample.name);
      if (!out) {
        out = { name: sample.name, help: family.help, type: family.type, samples: [] };
        families.set(sample.name, out);
      }
      out.samples.push({ name: sample.name, labels: withLabels(staticLabels, sample.labels), value: sample.value });
    }
    self.recordDropped(active.name, dropped);
  }
  return { families: [...families.values()], names };
}

/** Static labels then the sample's own; a sample label overrides a static one of the same name. */
function withLabels(staticLabels: LabelPairs, own: Record<string, string> | undefined): LabelPairs {
  if (!own) return staticLabels;
  const entries = Object.entries(own);
  if (entries.length === 0) return staticLabels;
  return [...staticLabels.filter(([name]) => !Object.hasOwn(own, name)), ...entries];
}

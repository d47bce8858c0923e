import { firstSamples } from '../first-samples';
import { createLogger } from '../logger';
import { checkPlugin, resolveOptions } from '../manifest';
import { FamilyIndex } from '../metric-names';
import type { Collector, CollectorContext, CollectorPlugin, Sample } from '../plugin-api';
import { readSample, seriesKey } from '../samples';
import { withTimeout } from '../timeout';

export interface ConformanceOptions {
  /** The collector's options, as a config would give them (the schema's defaults are filled in). */
  options?: Record<string, unknown>;
  /** The device type to create the collector for; default the manifest's first. */
  deviceType?: string;
  /** The collection interval in seconds; default 1. */
  interval?: number;
  /** How long to wait for a collector's first non-empty `collect()`; default 5000 ms. */
  firstSampleTimeoutMs?: number;
}

export interface ConformanceResult {
  /** The samples of the last collection, for the plugin's own assertions. */
  samples: Sample[];
  /** What the collectors logged. */
  logs: string[];
}

/**
 * The plugin conformance kit: checks the manifest and options schema, then runs create → start → collect →
 * stop twice (stop called twice each time), and two instances at once (plugins keep no module-level state).
 * Every sample must belong to a declared family, carry only declared labels, hold a finite value and be
 * unique. Throws an Error listing every problem found.
 */
export async function checkConformance(
  plugin: CollectorPlugin,
  settings: ConformanceOptions = {},
): Promise<ConformanceResult> {
  const fail = (problems: string[]): never => {
    throw new Error(`${plugin?.manifest?.name ?? 'plugin'} is not conformant:\n- ${problems.join('\n- ')}`);
  };
  const problems = checkPlugin(plugin, plugin?.manifest?.name);
  if (problems.length > 0) fail(problems);
  const { manifest } = plugin;
  const schema = manifest.optionsSchema;
  if (schema !== undefined && (schema.type !== 'object' || schema.additionalProperties !== false)) {
    fail(["manifest.optionsSchema must be {type: 'object', additionalProperties: false}, so that a misspelt option is an error"]);
  }
  const logs: string[] = [];
  const context = (name: string): CollectorContext => ({
    deviceType: settings.deviceType ?? manifest.deviceTypes[0]!,
    collectorName: name,
    interval: settings.interval ?? 1,
    logger: createLogger('debug', (line) => logs.push(line), name),
  });
  const options = (): Record<string, unknown> => resolveOptions(manifest, settings.options, 'options');
  const families = new FamilyIndex(manifest.metrics);
  const timeoutMs = settings.firstSampleTimeoutMs ?? 5000;

  if (plugin.detect) {
    const detection = await withTimeout(Promise.resolve(plugin.detect(options(), context('detect'))), 1000, 'detect()');
    if (typeof detection?.found !== 'boolean') fail([`detect() returned ${JSON.stringify(detection)}, not {found: boolean}`]);
  }

  let samples: Sample[] = [];
  for (const round of [1, 2]) {
    const collector = plugin.create(options(), context(`round${round}`));
    samples = await runOnce(collector, timeoutMs);
    const sampleProblems = checkSamples(samples, families);
    if (sampleProblems.length > 0) fail(sampleProblems.map((problem) => `round ${round}: ${problem}`));
  }

  const pair = [plugin.create(options(), context('first')), plugin.create(options(), context('second'))];
  const together = await Promise.all(pair.map((collector) => runOnce(collector, timeoutMs)));
  together.forEach((pairSamples, index) => {
    const pairProblems = checkSamples(pairSamples, families);
    if (pairProblems.length > 0) fail(pairProblems.map((problem) => `instance ${index + 1} of 2: ${problem}`));
  });
  return { samples, logs };
}

async function runOnce(collector: Collector, timeoutMs: number): Promise<Sample[]> {
  if (typeof collector?.collect !== 'function') throw new Error('create() returned no collector with collect()');
  try {
    await collector.start?.();
    return await firstSamples(collector, timeoutMs);
  } finally {
    await collector.stop?.();
    await collector.stop?.();
  }
}

function checkSamples(samples: Sample[], families: FamilyIndex): string[] {
  if (samples.length === 0) return ['collect() returned no sample before the first-sample timeout'];
  const problems: string[] = [];
  const keys = new Set<string>();
  for (const sample of samples) {
    const checked = readSample(sample, families);
    if (typeof checked === 'string') {
      problems.push(checked);
      continue;
    }
    const key = seriesKey(checked.sample);
    if (keys.has(key)) problems.push(`series ${key} appears twice in one collection`);
    keys.add(key);
  }
  return problems;
}

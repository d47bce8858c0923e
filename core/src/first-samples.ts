import type { Collector, Sample } from './plugin-api';

/**
 * Calls `collect()` until it returns samples or `timeoutMs` is up (a collector returns `[]` until its source has
 * produced a first reading); a throw ends the wait with that error.
 */
export async function firstSamples(collector: Collector, timeoutMs: number, pollMs = 25): Promise<Sample[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const samples = await collector.collect();
    if (!Array.isArray(samples)) throw new Error(`collect() returned ${typeof samples}, not an array`);
    if (samples.length > 0 || Date.now() >= deadline) return samples;
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}

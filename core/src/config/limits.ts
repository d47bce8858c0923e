/**
 * Caps on a config, far above what any device needs (a Jetson AGX Orin reports about 150 metrics): they keep a hostile
 * or runaway config (a loop of API toggles, a generated file) from making every parse, write and sync of it slow.
 */

/** Bytes in a config file (the config server's default body limit is the same). */
export const MAX_CONFIG_BYTES = 256 * 1024;
/** Entries in `metrics:` (and names in the old `enabled_metrics:` list). */
export const MAX_METRICS = 5000;
/** Keys and list items in the whole config, at every level. */
export const MAX_CONFIG_ENTRIES = 10_000;

/** The caps that `raw` (a parsed config) exceeds, as sentences naming the field and the limit; empty when within them. */
export function sizeProblems(raw: unknown): string[] {
  const problems: string[] = [];
  const entries = countEntries(raw);
  if (entries > MAX_CONFIG_ENTRIES) problems.push(`${entries} keys and list items in all, more than the limit of ${MAX_CONFIG_ENTRIES}`);
  const { metrics, enabled_metrics: enabledMetrics } = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
  for (const [field, value] of [['metrics', metrics], ['enabled_metrics', enabledMetrics]] as const) {
    const count = typeof value === 'object' && value !== null ? Object.keys(value).length : 0;
    if (count > MAX_METRICS) problems.push(`${field}: ${count} entries, more than the limit of ${MAX_METRICS}`);
  }
  return problems;
}

/** Keys of objects and items of arrays, at every level; counted without recursion so that depth cannot exhaust the stack. */
function countEntries(value: unknown): number {
  let count = 0;
  const pending: unknown[] = [value];
  while (pending.length > 0) {
    const next = pending.pop();
    if (typeof next !== 'object' || next === null) continue;
    for (const child of Object.values(next)) {
      count++;
      pending.push(child);
    }
  }
  return count;
}

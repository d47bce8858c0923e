/**
 * Whether `promtool check metrics` rejects a family for its name: `_total` is for counters, and prom-client's default
 * process metrics include gauges named `nodejs_active_*_total`. Expositions leave such families out.
 */
export function hasTotalSuffixOnNonCounter(family: { name: string; type: unknown }): boolean {
  return String(family.type) !== 'counter' && family.name.endsWith('_total');
}

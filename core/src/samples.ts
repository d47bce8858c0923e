import type { Sample } from './plugin-api';
import type { FamilyIndex } from './metric-names';
import type { MetricFamily } from './plugin-api';

/**
 * Checks one sample against its plugin's families: a declared name, declared label names with string values,
 * a finite number. Returns the family, or the problem as a sentence.
 */
export function checkSample(sample: Sample, families: FamilyIndex): MetricFamily | string {
  if (typeof sample !== 'object' || sample === null || typeof sample.name !== 'string') {
    return `not a sample object: ${JSON.stringify(sample)}`;
  }
  const family = families.find(sample.name);
  if (!family) return `'${sample.name}' matches no metric family of the manifest`;
  if (typeof sample.value !== 'number' || !Number.isFinite(sample.value)) {
    return `'${sample.name}' has a value that is not a finite number: ${String(sample.value)}`;
  }
  const declared = family.labels ?? [];
  for (const [label, value] of Object.entries(sample.labels ?? {})) {
    if (!declared.includes(label)) return `'${sample.name}' carries label '${label}', which its family does not declare`;
    if (typeof value !== 'string') return `'${sample.name}' label '${label}' is not a string`;
  }
  return family;
}

/** The identity of a series: name plus sorted labels. */
export function seriesKey(sample: Sample): string {
  const labels = sample.labels ? Object.entries(sample.labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)) : [];
  return labels.length === 0 ? sample.name : `${sample.name}${JSON.stringify(labels)}`;
}

import { describeError } from './errors';
import type { FamilyIndex } from './metric-names';
import type { MetricFamily, Sample } from './plugin-api';

/**
 * Reads one sample a plugin returned into a plain copy and checks it against its plugin's families: a declared
 * name, declared label names with string values, a finite number. Each property is read once, so a getter cannot
 * answer differently later, and nothing escapes: a sample that cannot be read (a throwing getter, a proxy) is a
 * problem like any other. Returns the copy and its family, or the problem as a sentence.
 */
export function readSample(raw: unknown, families: FamilyIndex): { sample: Sample; family: MetricFamily } | string {
  try {
    if (typeof raw !== 'object' || raw === null) return `not a sample object: ${preview(raw)}`;
    const { name, value, labels } = raw as Record<string, unknown>;
    if (typeof name !== 'string') return `not a sample object (its name is not a string): ${preview(raw)}`;
    const family = families.find(name);
    if (!family) return `'${name}' matches no metric family of the manifest`;
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      return `'${name}' has a value that is not a finite number: ${preview(value)}`;
    }
    if (labels === undefined) return { sample: { name, value }, family };
    if (typeof labels !== 'object' || labels === null) return `'${name}' has labels that are not an object: ${preview(labels)}`;
    const declared = family.labels ?? [];
    const entries = Object.entries(labels);
    for (const [label, labelValue] of entries) {
      if (!declared.includes(label)) return `'${name}' carries label '${label}', which its family does not declare`;
      if (typeof labelValue !== 'string') return `'${name}' label '${label}' is not a string`;
    }
    return { sample: { name, value, labels: Object.fromEntries(entries) as Record<string, string> }, family };
  } catch (error) {
    return `a sample that cannot be read: ${describeError(error)}`;
  }
}

/** A short text of any value for a log line; never throws (BigInt, cycles, throwing getters). */
function preview(value: unknown): string {
  try {
    const text = typeof value === 'bigint' ? `${value}n` : (JSON.stringify(value) ?? String(value));
    return text.length > 100 ? `${text.slice(0, 100)}…` : text;
  } catch {
    return `an unprintable ${typeof value}`;
  }
}

/** The identity of a series: name plus sorted labels. */
export function seriesKey(sample: Sample): string {
  const labels = sample.labels ? Object.entries(sample.labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)) : [];
  return labels.length === 0 ? sample.name : `${sample.name}${JSON.stringify(labels)}`;
}

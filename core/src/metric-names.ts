import type { MetricFamily } from './plugin-api';

export const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;

const PLACEHOLDER = /\{[^{}]*\}/g;

/** True when `name` contains `{placeholder}` parts. */
export function isNamePattern(name: string): boolean {
  return name.includes('{');
}

/** A regular expression matching the concrete names of a family name or pattern. */
export function familyNameRegExp(name: string): RegExp {
  const parts = name.split(PLACEHOLDER).map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  return new RegExp(`^${parts.join('[a-zA-Z0-9_]+')}$`);
}

/** Finds which family of a manifest a concrete metric name belongs to: exact names first, then patterns. */
export class FamilyIndex {
  private readonly exact = new Map<string, MetricFamily>();
  private readonly patterns: Array<{ regexp: RegExp; family: MetricFamily }> = [];

  constructor(families: readonly MetricFamily[]) {
    for (const family of families) {
      if (isNamePattern(family.name)) this.patterns.push({ regexp: familyNameRegExp(family.name), family });
      else this.exact.set(family.name, family);
    }
  }

  /** True when a family has exactly this name (not a pattern that `name` fits). */
  declares(name: string): boolean {
    return this.exact.has(name);
  }

  find(name: string): MetricFamily | undefined {
    const exact = this.exact.get(name);
    if (exact) return exact;
    return this.patterns.find((pattern) => pattern.regexp.test(name))?.family;
  }
}

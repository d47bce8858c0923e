/** Configs as flat key paths (`metrics.power_total_watts`, `collectors[0].type`), for diffs and provenance. */

/** Every leaf of `value` by its path; an empty object or list is a leaf of its own. */
export function flatten(value: unknown, prefix = '', into = new Map<string, unknown>()): Map<string, unknown> {
  if (Array.isArray(value) && value.length > 0) {
    value.forEach((item, index) => flatten(item, `${prefix}[${index}]`, into));
  } else if (typeof value === 'object' && value !== null && !Array.isArray(value) && Object.keys(value).length > 0) {
    for (const [key, inner] of Object.entries(value)) flatten(inner, prefix ? `${prefix}.${key}` : key, into);
  } else if (prefix !== '') {
    into.set(prefix, value);
  }
  return into;
}

/** The keys whose value differs between two configs: added (no `before`), removed (no `after`) or changed. */
export function diff(before: unknown, after: unknown): Array<{ key: string; before?: unknown; after?: unknown }> {
  const old = flatten(before);
  const next = flatten(after);
  const keys = [...new Set([...old.keys(), ...next.keys()])].sort();
  return keys
    .filter((key) => !old.has(key) || !next.has(key) || JSON.stringify(old.get(key)) !== JSON.stringify(next.get(key)))
    .map((key) => ({ key, ...(old.has(key) ? { before: old.get(key) } : {}), ...(next.has(key) ? { after: next.get(key) } : {}) }));
}

/** The layer that set `path`: the provenance entry of the path itself or of the nearest key above it. */
export function layerOf(path: string, provenance: Record<string, string>): string {
  for (let key = path; key !== ''; key = parentPath(key)) {
    const layer = provenance[key];
    if (layer !== undefined) return layer;
  }
  return '—';
}

/** `a.b[2]` → `a.b`, `a.b` → `a`, `a` → ''. */
export function parentPath(path: string): string {
  const cut = Math.max(path.lastIndexOf('.'), path.lastIndexOf('['));
  return cut < 0 ? '' : path.slice(0, cut);
}

/** A value as one short line of text. */
export function showValue(value: unknown): string {
  return value === undefined ? '—' : typeof value === 'string' ? value : JSON.stringify(value);
}

import type { PluginManifest } from '../plugin-api';

export interface ReadmeMetricRow {
  name: string;
  type: string;
  unit: string;
  labels: string[];
}

/**
 * The rows of a plugin README's metrics table, the first table under `## Metrics`:
 * `| \`name\` | type | unit | \`label\`, … | help |` (unit and labels may be empty).
 */
export function readmeMetricRows(readme: string): ReadmeMetricRow[] {
  const start = readme.indexOf('\n## Metrics');
  if (start === -1) return [];
  const end = readme.indexOf('\n## ', start + 1);
  return readme
    .slice(start, end === -1 ? undefined : end)
    .split('\n')
    .filter((line) => line.startsWith('| `'))
    .map((line) => {
      const [name = '', type = '', unit = '', labels = ''] = line.split('|').slice(1).map((cell) => cell.trim());
      return {
        name: name.replace(/`/g, ''),
        type,
        unit,
        labels: labels.split(',').map((label) => label.trim().replace(/`/g, '')).filter(Boolean),
      };
    });
}

/** Where a README's metrics table and the manifest disagree, as sentences; empty when they agree. */
export function readmeMetricProblems(readme: string, manifest: PluginManifest): string[] {
  const rows = new Map(readmeMetricRows(readme).map((row) => [row.name, row]));
  const problems: string[] = [];
  for (const family of manifest.metrics) {
    const row = rows.get(family.name);
    rows.delete(family.name);
    if (!row) {
      problems.push(`${family.name} is in the manifest but not in the README's metrics table`);
      continue;
    }
    const expected = { type: family.type, unit: family.unit ?? '', labels: (family.labels ?? []).join(', ') };
    const actual = { type: row.type, unit: row.unit, labels: row.labels.join(', ') };
    for (const key of ['type', 'unit', 'labels'] as const) {
      if (expected[key] !== actual[key]) problems.push(`${family.name}: the README says ${key} '${actual[key]}', the manifest '${expected[key]}'`);
    }
  }
  for (const name of rows.keys()) problems.push(`${name} is in the README's metrics table but not in the manifest`);
  return problems;
}

export interface ReadmeOptionRow {
  name: string;
  default: string;
}

/** The rows of a plugin README's options table, the first table whose header is `| option | default | … |`. */
export function readmeOptionRows(readme: string): ReadmeOptionRow[] {
  const lines = readme.split('\n');
  const header = lines.findIndex((line) => /^\|\s*option\s*\|\s*default\s*\|/.test(line));
  if (header === -1) return [];
  const rows: ReadmeOptionRow[] = [];
  for (const line of lines.slice(header + 2)) {
    if (!line.startsWith('|')) break;
    const [name = '', value = ''] = line.split('|').slice(1).map((cell) => cell.trim());
    rows.push({ name: name.replace(/`/g, ''), default: value });
  }
  return rows;
}

/**
 * Where a README's options table and the manifest's `optionsSchema` disagree, as sentences: an option missing
 * from either, or a string, number or boolean default that the table does not show as `` `value` `` (`''` for
 * the empty string).
 */
export function readmeOptionProblems(readme: string, manifest: PluginManifest): string[] {
  const properties = (manifest.optionsSchema?.properties ?? {}) as Record<string, { default?: unknown }>;
  const rows = new Map(readmeOptionRows(readme).map((row) => [row.name, row]));
  const problems: string[] = [];
  for (const [name, schema] of Object.entries(properties)) {
    const row = rows.get(name);
    rows.delete(name);
    if (!row) {
      problems.push(`option ${name} is in the manifest's optionsSchema but not in the README's options table`);
      continue;
    }
    const value = schema.default;
    if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') continue;
    const shown = value === '' ? "`''`" : `\`${String(value)}\``;
    if (row.default !== shown) problems.push(`option ${name}: the README says default ${row.default || '(nothing)'}, the manifest ${shown}`);
  }
  for (const name of rows.keys()) problems.push(`option ${name} is in the README's options table but not in the manifest's optionsSchema`);
  return problems;
}

/** Where a plugin README's metrics table or options table disagrees with the manifest; empty when both agree. */
export function readmeProblems(readme: string, manifest: PluginManifest): string[] {
  return [...readmeMetricProblems(readme, manifest), ...readmeOptionProblems(readme, manifest)];
}

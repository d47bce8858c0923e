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

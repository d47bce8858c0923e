import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { manifest } from '../src';

/** The rows of the README's metrics table: | `name` | type | unit | `label`, ... | meaning |. */
function readmeMetrics(): Array<{ name: string; type: string; unit: string; labels: string[] }> {
  const readme = readFileSync(join(__dirname, '..', 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Metrics'), readme.indexOf('### Example output'));
  return section
    .split('\n')
    .filter((line) => line.startsWith('| `'))
    .map((line) => {
      const [name, type, unit, labels] = line.split('|').slice(1).map((cell) => cell.trim());
      return {
        name: name!.replace(/`/g, ''),
        type: type!,
        unit: unit!,
        labels: labels!.split(',').map((label) => label.trim().replace(/`/g, '')).filter(Boolean),
      };
    });
}

describe('README', () => {
  it('has a metrics table that agrees with the manifest', () => {
    const declared = manifest.metrics.map((family) => ({
      name: family.name,
      type: family.type,
      unit: family.unit ?? '',
      labels: family.labels ?? [],
    }));
    expect(readmeMetrics()).toEqual(declared);
  });

  it('documents every option with its default', () => {
    const readme = readFileSync(join(__dirname, '..', 'README.md'), 'utf8');
    const properties = manifest.optionsSchema!.properties as Record<string, { default?: unknown }>;
    for (const [option, schema] of Object.entries(properties)) {
      const row = readme.split('\n').find((line) => line.startsWith(`| \`${option}\` |`));
      expect(row).toBeDefined();
      if (schema.default !== undefined) expect(row).toContain(`| \`${String(schema.default)}\` |`);
    }
  });
});

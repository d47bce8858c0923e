import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { manifest } from '../src';

/** The rows of the README's metrics table: | `name` | type | unit | `label`, ... | help | */
function readmeMetrics(): Array<{ name: string; type: string; unit: string; labels: string[] }> {
  const readme = readFileSync(join(__dirname, '..', 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('\n## Metrics'), readme.indexOf('\n## ', readme.indexOf('\n## Metrics') + 1));
  return section
    .split('\n')
    .filter((line) => line.startsWith('| `'))
    .map((line) => {
      const [name, type, unit, labels] = line.split('|').slice(1).map((cell) => cell.trim());
      return {
        name: name!.replace(/`/g, ''),
        type: type!,
        unit: unit!,
        labels: labels === '' ? [] : labels!.split(',').map((label) => label.trim().replace(/`/g, '')),
      };
    });
}

test("the README's metrics table lists exactly the manifest's families, with their types, units and labels", () => {
  const declared = manifest.metrics.map((family) => ({ name: family.name, type: family.type, unit: family.unit, labels: family.labels ?? [] }));
  expect(readmeMetrics()).toEqual(declared);
});

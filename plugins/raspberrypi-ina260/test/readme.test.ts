import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readmeMetricProblems } from '@edge-metrics/core/testing';
import { manifest } from '../src/manifest';

const readme = readFileSync(join(__dirname, '..', 'README.md'), 'utf8');

/** The rows of the first table after the heading `## <heading>`, as arrays of trimmed cells. */
function tableAfter(heading: string): string[][] {
  const section = readme.split(`\n## ${heading}\n`)[1];
  if (section === undefined) throw new Error(`README.md has no "## ${heading}" section`);
  const lines = section.split('\n');
  const start = lines.findIndex((line) => line.startsWith('|'));
  const end = lines.findIndex((line, index) => index > start && !line.startsWith('|'));
  return lines
    .slice(start + 2, end)
    .map((line) => line.slice(1, -1).split('|').map((cell) => cell.trim()));
}

const unquote = (cell: string): string => cell.replace(/^`|`$/g, '');

describe('README.md agrees with the manifest', () => {
  it('lists every metric family with its type, unit and labels', () => {
    expect(readmeMetricProblems(readme, manifest)).toEqual([]);
  });

  it('lists every option with its default', () => {
    const properties = (manifest.optionsSchema as { properties: Record<string, { default?: unknown }> }).properties;
    const documented = Object.fromEntries(tableAfter('Options').map(([name, defaultCell]) => [unquote(name!), defaultCell!]));
    expect(Object.keys(documented)).toEqual(Object.keys(properties));
    for (const [name, { default: value }] of Object.entries(properties)) {
      if (value === undefined) continue;
      const expected = name === 'sensors' ? '`[{address: 0x40, name: main}]`' : `\`${String(value)}\``;
      expect([name, documented[name]]).toEqual([name, expected]);
    }
  });
});

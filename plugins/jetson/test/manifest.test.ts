import { readdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FamilyIndex } from '@edge-metrics/core';
import { manifest } from '../src';
import { fixture, FIXTURES } from './helpers';

/** The rows of the README's metrics table: name (without backticks), type, unit. */
async function readmeMetrics(): Promise<Array<{ name: string; type: string; unit: string }>> {
  const readme = await readFile(join(__dirname, '..', 'README.md'), 'utf8');
  const table = readme.split('## Metrics')[1]!.split('\n## ')[0]!;
  return table
    .split('\n')
    .filter((row) => row.startsWith('| `'))
    .map((row) => {
      const [name, type, unit] = row.split('|').slice(1, 4).map((cell) => cell.trim());
      return { name: name!.replace(/`/g, ''), type: type!, unit: unit === '' ? '' : unit! };
    });
}

describe('the manifest', () => {
  it('agrees with the metrics table of the README', async () => {
    const declared = manifest.metrics.map((family) => ({ name: family.name, type: family.type, unit: family.unit ?? '' }));
    expect(await readmeMetrics()).toEqual(declared);
  });

  it('declares every metric the recorded lines give', async () => {
    const families = new FamilyIndex(manifest.metrics);
    const cases = readdirSync(FIXTURES, { withFileTypes: true }).filter((entry) => entry.isDirectory());
    for (const { name } of cases) {
      const { expected } = await fixture(name);
      const undeclared = Object.keys(expected).filter((metric) => families.find(metric) === undefined);
      expect([name, undeclared]).toEqual([name, []]);
    }
  });

  it('files per-core clocks under the per-core family, not under the engines', () => {
    expect(new FamilyIndex(manifest.metrics).find('jetson_cpu_core3_freq_mhz')?.name).toBe('jetson_cpu_core{N}_freq_mhz');
  });
});

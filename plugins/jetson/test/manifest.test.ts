import { readdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FamilyIndex } from '@edge-metrics/core';
import { readmeMetricProblems } from '@edge-metrics/core/testing';
import { manifest } from '../src';
import { fixture, FIXTURES } from './helpers';

describe('the manifest', () => {
  it('agrees with the metrics table of the README', async () => {
    const readme = await readFile(join(__dirname, '..', 'README.md'), 'utf8');
    expect(readmeMetricProblems(readme, manifest)).toEqual([]);
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

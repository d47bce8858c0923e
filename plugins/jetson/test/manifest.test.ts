import { readdirSync } from 'node:fs';
import { FamilyIndex } from '@edge-metrics/core/plugin';
import { manifest } from '../src/manifest';
import { fixture, FIXTURES } from './helpers';

describe('the manifest', () => {
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

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readmeOptionRows, readmeProblems } from '@edge-metrics/core/testing';
import { manifest } from '../src/manifest';

const readme = readFileSync(join(__dirname, '..', 'README.md'), 'utf8');

describe('README.md agrees with the manifest', () => {
  it('lists every metric family with its type, unit and labels, and every option with its default', () => {
    expect(readmeProblems(readme, manifest)).toEqual([]);
  });

  it('lists the options in the order of the schema, the sensors list with its default', () => {
    const rows = readmeOptionRows(readme);
    expect(rows.map((row) => row.name)).toEqual(Object.keys(manifest.optionsSchema.properties));
    expect(rows.find((row) => row.name === 'sensors')?.default).toBe('`[{address: 0x40, name: main}]`');
  });
});

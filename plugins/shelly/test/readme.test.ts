import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readmeProblems } from '@edge-metrics/core/testing';
import { manifest } from '../src/manifest';

const readme = readFileSync(join(__dirname, '..', 'README.md'), 'utf8');

describe('README', () => {
  it('has a metrics table and an options table (every option with its default) that agree with the manifest', () => {
    expect(readmeProblems(readme, manifest)).toEqual([]);
  });
});

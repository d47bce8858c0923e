import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readmeMetricProblems } from '@edge-metrics/core/testing';
import { manifest } from '../src';

test("the README's metrics table lists exactly the manifest's families, with their types, units and labels", () => {
  const readme = readFileSync(join(__dirname, '..', 'README.md'), 'utf8');
  expect(readmeMetricProblems(readme, manifest)).toEqual([]);
});

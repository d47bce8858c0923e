import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readmeProblems } from '@edge-metrics/core/testing';
import { manifest } from '../src/manifest';

test("the README's metrics and options tables agree with the manifest", () => {
  const readme = readFileSync(join(__dirname, '..', 'README.md'), 'utf8');
  expect(readmeProblems(readme, manifest)).toEqual([]);
});

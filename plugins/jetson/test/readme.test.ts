import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readmeProblems } from '@edge-metrics/core/testing';
import { manifest } from '../src/manifest';

test("the README's metrics and options tables agree with the manifest", async () => {
  const readme = await readFile(join(__dirname, '..', 'README.md'), 'utf8');
  expect(readmeProblems(readme, manifest)).toEqual([]);
});

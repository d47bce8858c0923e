import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readmeOptionRows, readmeProblems } from '@edge-metrics/core/testing';
import { manifest } from '../src/manifest';

const readme = readFileSync(join(__dirname, '..', 'README.md'), 'utf8');

test("the README's metrics and options tables agree with the manifest: families with their types, units and labels, options with their defaults", () => {
  expect(readmeProblems(readme, manifest)).toEqual([]);
});

test("the README's options table lists the options in the order of the schema", () => {
  expect(readmeOptionRows(readme).map((row) => row.name)).toEqual(Object.keys(manifest.optionsSchema.properties));
});

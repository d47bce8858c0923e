import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readmeMetricProblems } from '@edge-metrics/core/testing';
import { manifest } from '../src';

const readme = readFileSync(join(__dirname, '..', 'README.md'), 'utf8');

test("the README's metrics table lists exactly the manifest's families, with their types, units and labels", () => {
  expect(readmeMetricProblems(readme, manifest)).toEqual([]);
});

test("the README's options table lists exactly the options of the schema", () => {
  const section = readme.slice(readme.indexOf('\n## Options'), readme.indexOf('\n## ', readme.indexOf('\n## Options') + 1));
  const documented = [...section.matchAll(/^\| `([a-z_]+)` \|/gm)].map((match) => match[1]);
  expect(documented).toEqual(Object.keys((manifest.optionsSchema as { properties: object }).properties));
});

import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { FixtureTree } from '@edge-metrics/core/testing';

/** One folder per captured device: its sysfs tree under `sys/` and `expected.json`. */
export const FIXTURES = join(__dirname, 'fixtures');

export const CASES = readdirSync(FIXTURES, { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => entry.name);

/** A copy of the case `test/fixtures/<name>` in a temporary folder (its sysfs at `path('sys')`), or an empty one. */
export function device(name?: string): Promise<FixtureTree> {
  return FixtureTree.create(name === undefined ? undefined : join(FIXTURES, name));
}

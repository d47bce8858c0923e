import { join } from 'node:path';
import { createLogger, type CollectorContext } from '@edge-metrics/core/plugin';
import { FixtureTree } from '@edge-metrics/core/testing';

/** One folder per board: its sysfs tree under `sys/` and `expected.json`. */
export const fixtures = join(__dirname, 'fixtures');

/** A copy of the board `test/fixtures/<name>` (its sysfs at `path('sys')`), or of one without sysfs. */
export function board(name?: string): Promise<FixtureTree> {
  return FixtureTree.create(name === undefined ? undefined : join(fixtures, name));
}

export function testContext(logs: string[]): CollectorContext {
  return { deviceType: 'orangepi', collectorName: 'sysfs', interval: 1, logger: createLogger('debug', (line) => logs.push(line), 'sysfs') };
}

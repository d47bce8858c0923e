import { join } from 'node:path';
import { createLogger, type CollectorContext } from '@edge-metrics/core/plugin';
import { FixtureTree } from '@edge-metrics/core/testing';

/** One folder per machine: its sysfs tree under `sys/`, and `expected.json` where the capture has counters. */
export const fixtures = join(__dirname, 'fixtures');

/** A copy of the machine `test/fixtures/<name>` (its sysfs at `path('sys')`), or of one without sysfs. */
export function machine(name?: string): Promise<FixtureTree> {
  return FixtureTree.create(name === undefined ? undefined : join(fixtures, name));
}

export function testContext(logs: string[]): CollectorContext {
  return { deviceType: 'intel_rapl', collectorName: 'rapl', interval: 1, logger: createLogger('debug', (line) => logs.push(line), 'rapl') };
}

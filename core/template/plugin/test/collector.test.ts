import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createLogger, resolveOptions, type Collector } from '@edge-metrics/core/plugin';
import type { FixtureTree } from '@edge-metrics/core/testing';
import * as plugin from '../src';
import { CASES, device, FIXTURES } from './helpers';

let tree: FixtureTree;
afterEach(() => tree.dispose());

/** A collector as core creates one: the options completed by the schema's defaults. */
function collector(options: Record<string, unknown>): Collector {
  const logger = createLogger('debug', () => {}, 'test');
  return plugin.create(resolveOptions(plugin.manifest, { sysfs_root: tree.path('sys'), ...options }, 'options'), {
    deviceType: plugin.manifest.deviceTypes[0]!,
    collectorName: 'test',
    interval: 1,
    logger,
  });
}

test.each(CASES)('%s: the power the fixture gives', async (name) => {
  const expected = JSON.parse(readFileSync(join(FIXTURES, name, 'expected.json'), 'utf8'));
  tree = await device(name);
  const samples = await collector({ hwmon: expected.hwmon }).collect();
  expect(samples.find((sample) => sample.name === 'power_total_watts')?.value).toBe(expected.watts);
});

test('no chip is no data, not a failure', async () => {
  tree = await device();
  await expect(collector({}).collect()).rejects.toMatchObject({ name: 'NoDataError' });
});

test('a file holding garbage is an error naming the file', async () => {
  tree = await device('ina219-ups-hat');
  await tree.write('sys/class/hwmon/hwmon2/power1_input', 'garbage\n');
  await expect(collector({ hwmon: 'hwmon2' }).collect()).rejects.toThrow(/power1_input holds "garbage"/);
});

import { checkConformance, type FixtureTree } from '@edge-metrics/core/testing';
import * as plugin from '../src';
import { device } from './helpers';

let tree: FixtureTree;
afterEach(() => tree.dispose());

test("passes core's conformance kit on a captured device", async () => {
  tree = await device('ina219-ups-hat');
  const { samples } = await checkConformance(plugin, { options: { sysfs_root: tree.path('sys'), hwmon: 'hwmon2' } });
  expect(samples.find((sample) => sample.name === 'power_total_watts')?.value).toBe(0.176);
});

import { checkConformance, type FixtureTree } from '@edge-metrics/core/testing';
import * as plugin from '../src';
import { board } from './helpers';

let tree: FixtureTree;
afterEach(() => tree.dispose());

test('passes the conformance kit on an INA219 on I2C, its power as the total', async () => {
  tree = await board('ina219-ups-hat');
  const { samples } = await checkConformance(plugin, { options: { sysfs_root: tree.path('sys'), total_sensor: 'ina219/power1' } });
  expect(samples.find((sample) => sample.name === 'power_total_watts')?.value).toBe(0.176);
});

test('passes the conformance kit on an Orange Pi 5 (RK3588S)', async () => {
  tree = await board('orangepi5-rk3588');
  const { samples } = await checkConformance(plugin, { options: { sysfs_root: tree.path('sys') }, deviceType: 'orangepi' });
  expect(samples.find((sample) => sample.name === 'sysfs_temp_celsius' && sample.labels?.zone === 'npu-thermal')?.value).toBe(31.461);
});

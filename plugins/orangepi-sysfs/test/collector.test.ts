import { setTimeout as sleep } from 'node:timers/promises';
import type { Detection, Sample } from '@edge-metrics/core/plugin';
import { asUnprivileged, type FixtureTree } from '@edge-metrics/core/testing';
import * as plugin from '../src';
import type { SysfsOptions } from '../src/manifest';
import { board, testContext } from './helpers';

const INA219 = 'sys/class/hwmon/hwmon2';

function value(samples: Sample[], name: string, labels?: Record<string, string>): number | undefined {
  return samples.find((sample) => sample.name === name && (!labels || JSON.stringify(sample.labels) === JSON.stringify(labels)))?.value;
}

let tree: FixtureTree;
let logs: string[];
beforeEach(() => {
  logs = [];
});
afterEach(() => tree.dispose());

const sysfsRoot = () => tree.path('sys');
/** The options as core passes them: the schema's defaults, the fixture's sysfs, then `options`. */
const optionsWith = (options: Partial<SysfsOptions> = {}): SysfsOptions => ({ sysfs_root: sysfsRoot(), total_sensor: '', include: [], exclude: [], ...options });
const collectorFor = (options: Partial<SysfsOptions> = {}) => plugin.create(optionsWith(options), testContext(logs));

/** The plugin's detect() on the fixture's sysfs, called as core calls it: with the options and a context. */
async function detect(): Promise<Detection> {
  if (!plugin.detect) throw new Error('the plugin exports no detect()');
  return plugin.detect(optionsWith(), testContext(logs));
}

describe('an INA219 on I2C', () => {
  beforeEach(async () => {
    tree = await board('ina219-ups-hat');
  });

  test('the first read gives every channel in SI units, the named total and an energy counter at 0', async () => {
    const samples = await collectorFor({ total_sensor: 'ina219/power1' }).collect();
    expect(samples).toEqual([
      { name: 'sysfs_current_amps', value: -0.04, labels: { sensor: 'ina219/curr1' } },
      { name: 'sysfs_voltage_volts', value: -0.004, labels: { sensor: 'ina219/in0' } },
      { name: 'sysfs_voltage_volts', value: 4.228, labels: { sensor: 'ina219/in1' } },
      { name: 'sysfs_power_watts', value: 0.176, labels: { sensor: 'ina219/power1' } },
      { name: 'power_total_watts', value: 0.176 },
      { name: 'energy_joules_total', value: 0 },
    ]);
    expect(logs).toEqual([]);
  });

  test('energy_joules_total integrates the total power over the real time between reads', async () => {
    const collector = collectorFor({ total_sensor: 'ina219/power1' });
    const firstStart = performance.now();
    await collector.collect();
    const firstEnd = performance.now();
    await tree.write(`${INA219}/power1_input`, '352000\n');
    await sleep(20);
    const secondStart = performance.now();
    const second = await collector.collect();
    const secondEnd = performance.now();
    const averageWatts = (0.176 + 0.352) / 2;
    expect(value(second, 'power_total_watts')).toBe(0.352);
    expect(value(second, 'energy_joules_total')).toBeGreaterThanOrEqual((averageWatts * (secondStart - firstEnd)) / 1000);
    expect(value(second, 'energy_joules_total')).toBeLessThanOrEqual((averageWatts * (secondEnd - firstStart)) / 1000);
  });

  test('without a total_sensor and no input supply there is no power_total_watts nor energy', async () => {
    const samples = await collectorFor().collect();
    expect(samples.map((sample) => sample.name)).not.toContain('power_total_watts');
    expect(samples.map((sample) => sample.name)).not.toContain('energy_joules_total');
  });

  test('a total_sensor that reports no power is said once, with the sensors that do', async () => {
    const collector = collectorFor({ total_sensor: 'ina219/in1' });
    for (let round = 0; round < 3; round++) expect(value(await collector.collect(), 'power_total_watts')).toBeUndefined();
    expect(logs).toEqual(["warn: [sysfs] total_sensor 'ina219/in1' reports no power; sensors with power: ina219/power1"]);
  });

  test('include and exclude choose the exposed series; the total is computed all the same', async () => {
    const samples = await collectorFor({ include: ['ina219/in*'], exclude: ['*/in0'], total_sensor: 'ina219/power1' }).collect();
    expect(samples.map((sample) => [sample.name, sample.labels?.sensor])).toEqual([
      ['sysfs_voltage_volts', 'ina219/in1'],
      ['power_total_watts', undefined],
      ['energy_joules_total', undefined],
    ]);
  });

  test('a channel readable by root only is skipped with one warning; the others are collected', async () => {
    await tree.forbid(`${INA219}/in1_input`);
    const collector = collectorFor();
    for (let round = 0; round < 3; round++) {
      const samples = await asUnprivileged(async () => collector.collect());
      expect(samples.map((sample) => sample.labels?.sensor)).toEqual(['ina219/curr1', 'ina219/in0', 'ina219/power1']);
    }
    expect(logs).toHaveLength(1);
    expect(logs[0]).toMatch(/^warn: \[sysfs\] cannot read .*\/class\/hwmon\/hwmon2\/in1_input: permission denied; skipping it\. Run the exporter as root/);
  });

  test('nothing readable: collect() throws, naming what could not be read', async () => {
    for (const file of ['name', 'in0_input', 'in1_input', 'power1_input', 'curr1_input']) await tree.forbid(`${INA219}/${file}`);
    await expect(asUnprivileged(async () => collectorFor().collect())).rejects.toThrow(
      /no power, voltage or current sensor and no thermal zone under .*Files that could not be read: cannot read .*hwmon2\/\w+: permission denied/,
    );
  });

  test('a channel that is gone at the next read is said once; the others go on', async () => {
    const collector = collectorFor();
    await collector.collect();
    await tree.remove(`${INA219}/in0_input`);
    for (let round = 0; round < 2; round++) {
      expect((await collector.collect()).map((sample) => sample.labels?.sensor)).toEqual(['ina219/curr1', 'ina219/in1', 'ina219/power1']);
    }
    expect(logs).toEqual([
      "warn: [sysfs] the voltage sensor 'ina219/in0' is gone since the last read (unplugged, or its driver unloaded); its series stop until it is back",
    ]);
  });

  test('a listed file that vanishes before it is read is skipped with one warning', async () => {
    // A link whose target is gone: listed in the directory, then ENOENT when read, as an unplugged sensor.
    await tree.remove(`${INA219}/in0_input`);
    await tree.link('in0_input.gone', `${INA219}/in0_input`);
    const collector = collectorFor();
    await collector.collect();
    const samples = await collector.collect();
    expect(samples.some((sample) => sample.labels?.sensor === 'ina219/in0')).toBe(false);
    expect(logs).toEqual([expect.stringMatching(/hwmon2\/in0_input vanished while it was read \(the sensor was unplugged or its driver unloaded\); skipping it$/)]);
  });

  test('a channel holding garbage is skipped with one warning', async () => {
    await tree.write(`${INA219}/curr1_input`, 'garbage\n');
    const collector = collectorFor();
    await collector.collect();
    const samples = await collector.collect();
    expect(samples.map((sample) => sample.labels?.sensor)).toEqual(['ina219/in0', 'ina219/in1', 'ina219/power1']);
    expect(logs).toEqual([expect.stringMatching(/hwmon2\/curr1_input holds "garbage", not a whole number; skipping it$/)]);
  });
});

describe('an Orange Pi 5 (RK3588S)', () => {
  beforeEach(async () => {
    tree = await board('orangepi5-rk3588');
  });

  test('gives the thermal zones and the USB-C supply, and no total: a negotiated contract is not a measurement', async () => {
    const samples = await collectorFor().collect();
    expect(samples.filter((sample) => sample.name === 'sysfs_temp_celsius')).toHaveLength(7);
    expect(value(samples, 'sysfs_temp_celsius', { zone: 'soc-thermal' })).toBe(32.384);
    expect(value(samples, 'sysfs_voltage_volts', { sensor: 'tcpm-source-psy-6-0022' })).toBe(0);
    expect(samples.map((sample) => sample.name)).not.toContain('power_total_watts');
    expect(logs).toEqual([]);
  });

  test('detect() finds the supply; the device tree model makes it an orangepi', async () => {
    await expect(detect()).resolves.toEqual({ found: true, deviceType: 'sysfs', reason: 'sensors: tcpm-source-psy-6-0022' });
    await tree.write('sys/firmware/devicetree/base/model', 'RK3588 OPi 5 Plus\u0000');
    await expect(detect()).resolves.toMatchObject({ found: true, deviceType: 'orangepi' });
  });
});

describe('an Allwinner A20 board running on its AXP209 battery', () => {
  test('the battery reports V, I and V×I; a battery is not the input, so there is no default total', async () => {
    tree = await board('allwinner-a20-axp209-battery');
    const samples = await collectorFor().collect();
    expect(value(samples, 'sysfs_power_watts', { sensor: 'axp20x-battery' })).toBe(3.862 * 0.523);
    expect(samples.map((sample) => sample.name)).not.toContain('power_total_watts');
    const named = await collectorFor({ total_sensor: 'axp20x-battery' }).collect();
    expect(value(named, 'power_total_watts')).toBe(3.862 * 0.523);
  });
});

describe('a machine without sensors', () => {
  beforeEach(async () => {
    tree = await board();
  });

  test('collect() throws saying what is missing and what to check', async () => {
    await expect(collectorFor().collect()).rejects.toThrow(/no power, voltage or current sensor and no thermal zone under .*\/sys\/class .*ina2xx, ina3221/);
  });

  test('it is no data, not a failure: core keeps the collector down without counting an error', async () => {
    await expect(collectorFor().collect()).rejects.toMatchObject({ name: 'NoDataError' });
  });

  test('detect() does not find it', async () => {
    await expect(detect()).resolves.toEqual({
      found: false,
      reason: expect.stringMatching(/^no hwmon power, voltage or current channel and no power supply with voltage and current under /),
    });
  });
});

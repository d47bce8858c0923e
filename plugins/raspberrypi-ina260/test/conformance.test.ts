import { checkConformance, FixtureTree } from '@edge-metrics/core/testing';
import * as plugin from '../src';
import { createRaspberryPiIna260Plugin } from '../src/plugin';
import { EmulatedI2cBus, EmulatedIna260 } from './emulated-ina260';
import { buildSysfs, fixture, writeFakeVcgencmd } from './helpers';

// Child processes and bounded waits on shared machines: a generous per-test limit.
jest.setTimeout(30_000);

let tree: FixtureTree;
let vcgencmd: string;

beforeAll(async () => {
  tree = await FixtureTree.create();
  await buildSysfs(tree, { temp: fixture('thermal-pi4-78880', 'temp'), model: fixture('devicetree-model-pi4', 'model') });
  vcgencmd = await writeFakeVcgencmd(tree, {
    get_throttled: { print: fixture('throttled-pi3bplus-0x80008', 'output.txt') },
    pmic_read_adc: { print: fixture('pmic-pi5-zeus-load', 'output.txt') },
  });
});

afterAll(() => tree.dispose());

describe('conformance kit', () => {
  it('passes with two INA260s on an emulated bus (each instance opens its own bus)', async () => {
    const emulated = createRaspberryPiIna260Plugin(async () => {
      const main = new EmulatedIna260();
      main.measure({ current: 0x1f40, busVoltage: 0x0fa0, power: 0x1388 });
      return new EmulatedI2cBus(new Map([[0x40, main], [0x41, new EmulatedIna260()]]));
    });
    const { samples } = await checkConformance(emulated, {
      options: {
        sensors: [{ address: 0x40, name: 'main' }, { address: '0x41', name: 'usb' }],
        sysfs_root: tree.root,
        vcgencmd_path: vcgencmd,
      },
    });
    expect(samples.map((sample) => sample.name)).toEqual(expect.arrayContaining([
      'ina260_current_amps',
      'ina260_bus_voltage_volts',
      'ina260_power_watts',
      'power_total_watts',
      'energy_joules_total',
      'raspberrypi_temp_soc_celsius',
    ]));
  });

  it('passes as published, on a Raspberry Pi without INA260s', async () => {
    const { samples } = await checkConformance(plugin, {
      options: { sensors: [], sysfs_root: tree.root, vcgencmd_path: vcgencmd },
    });
    expect(samples.some((sample) => sample.name === 'raspberrypi_temp_soc_celsius')).toBe(true);
  });
});

import { readFileSync } from 'node:fs';
import type { Collector } from '@edge-metrics/core/plugin';
import { FixtureTree } from '@edge-metrics/core/testing';
import type { OpenBus } from '../src/i2c-bus';
import { createRaspberryPiIna260Plugin } from '../src/plugin';
import { EmulatedI2cBus, EmulatedIna260, kernelError } from './emulated-ina260';
import {
  buildSysfs,
  collectUntil,
  fixture,
  resolvedOptions,
  testContext,
  valueOf,
  writeFakeVcgencmd,
} from './helpers';

// Child processes and bounded waits on shared machines: a generous per-test limit.
jest.setTimeout(30_000);

let tree: FixtureTree;
let baseOptions: Record<string, unknown>;
const running: Collector[] = [];

beforeAll(async () => {
  tree = await FixtureTree.create();
  await buildSysfs(tree, { temp: fixture('thermal-pi4-78880', 'temp') });
  const vcgencmd = await writeFakeVcgencmd(tree, {
    get_throttled: { print: fixture('throttled-pi3-undervoltage-0x50005', 'output.txt') },
    pmic_read_adc: { print: fixture('pmic-pi5-jfikar', 'output.txt') },
  });
  baseOptions = { sysfs_root: tree.root, vcgencmd_path: vcgencmd };
});

afterEach(async () => {
  for (const collector of running.splice(0)) await collector.stop?.();
});

afterAll(() => tree.dispose());

/** A collector over an emulated bus 1 holding `devices` at their addresses. */
async function startCollector(
  devices: Record<number, EmulatedIna260>,
  options: Record<string, unknown> = {},
  nack: 'EREMOTEIO' | 'ENXIO' = 'EREMOTEIO',
) {
  const buses: EmulatedI2cBus[] = [];
  const openBus: OpenBus = async () => {
    const bus = new EmulatedI2cBus(new Map(Object.entries(devices).map(([address, device]) => [Number(address), device])), nack);
    buses.push(bus);
    return bus;
  };
  const context = testContext();
  const collector = createRaspberryPiIna260Plugin(openBus).create(resolvedOptions({ ...baseOptions, ...options }), context);
  running.push(collector);
  await collector.start?.();
  return { collector, context, buses, collect: async () => collector.collect() };
}

function ina260(values: { current: number; busVoltage: number; power: number }): EmulatedIna260 {
  const device = new EmulatedIna260();
  device.measure(values);
  return device;
}

describe('INA260 readings through an emulated bus', () => {
  it('reports the datasheet conversions of the registers, labelled with the sensor name', async () => {
    // 8000 LSB × 1.25 mA, 9600 LSB × 1.25 mV, 12000 LSB × 10 mW (SBOS656 §8.6.2–8.6.4).
    const { collect } = await startCollector({ 0x40: ina260({ current: 0x1f40, busVoltage: 0x2580, power: 0x2ee0 }) });
    const samples = await collect();
    expect(valueOf(samples, 'ina260_current_amps', { sensor: 'main' })).toBeCloseTo(10, 10);
    expect(valueOf(samples, 'ina260_bus_voltage_volts', { sensor: 'main' })).toBeCloseTo(12, 10);
    expect(valueOf(samples, 'ina260_power_watts', { sensor: 'main' })).toBeCloseTo(120, 10);
    expect(valueOf(samples, 'power_total_watts')).toBeCloseTo(120, 10);
    expect(valueOf(samples, 'energy_joules_total')).toBe(0);
    expect(valueOf(samples, 'raspberrypi_temp_soc_celsius')).toBeCloseTo(78.88, 10);
  });

  it('reports a negative current (IN- to IN+) with the positive power the chip computes', async () => {
    // -2000 LSB is 0xF830 in two's complement: -2.5 A; 2.5 A at 12 V is 30 W, 3000 LSB.
    const { collect } = await startCollector({ 0x40: ina260({ current: 0xf830, busVoltage: 0x2580, power: 0x0bb8 }) });
    const samples = await collect();
    expect(valueOf(samples, 'ina260_current_amps', { sensor: 'main' })).toBeCloseTo(-2.5, 10);
    expect(valueOf(samples, 'ina260_power_watts', { sensor: 'main' })).toBeCloseTo(30, 10);
  });

  it('writes averaging and conversion_time into the configuration register at start', async () => {
    const device = ina260({ current: 0, busVoltage: 0, power: 0 });
    await startCollector({ 0x40: device }, { averaging: 64, conversion_time: 588 });
    // Bits 14:12 as after power-on (110), AVG 011 (64), VBUSCT and ISHCT 011 (588 µs), MODE 111 (continuous).
    expect(device.register(0x00)).toBe(0b0110_011_011_011_111);
  });

  it('configures the defaults (averaging 256, 1.1 ms) when the options leave them out', async () => {
    const device = ina260({ current: 0, busVoltage: 0, power: 0 });
    await startCollector({ 0x40: device });
    expect(device.register(0x00)).toBe(0x6b27);
  });

  it('integrates power_total_watts into energy_joules_total', async () => {
    const { collect } = await startCollector({ 0x40: ina260({ current: 0x1f40, busVoltage: 0x2580, power: 0x2ee0 }) });
    const first = valueOf(await collect(), 'energy_joules_total')!;
    await new Promise((resolve) => setTimeout(resolve, 20));
    const second = valueOf(await collect(), 'energy_joules_total')!;
    expect(first).toBe(0);
    expect(second).toBeGreaterThan(first);
  });

  it('takes power_total_watts from total_sensor', async () => {
    const { collect } = await startCollector(
      {
        0x40: ina260({ current: 0x0320, busVoltage: 0x0fa0, power: 0x0190 }),
        0x45: ina260({ current: 0x0640, busVoltage: 0x0fa0, power: 0x0320 }),
      },
      { sensors: [{ address: 0x40, name: 'pi' }, { address: '0x45', name: 'usb_hub' }], total_sensor: 'usb_hub' },
    );
    const samples = await collect();
    expect(valueOf(samples, 'ina260_power_watts', { sensor: 'pi' })).toBeCloseTo(4, 10);
    expect(valueOf(samples, 'power_total_watts')).toBeCloseTo(8, 10);
  });
});

describe('faults', () => {
  it.each(['EREMOTEIO', 'ENXIO'] as const)(
    'reports a sensor that does not acknowledge (%s) with its bus and address; the other sensors go on',
    async (nack) => {
      const { collect, context } = await startCollector(
        { 0x40: ina260({ current: 0x1f40, busVoltage: 0x2580, power: 0x2ee0 }) },
        { sensors: [{ address: 0x40, name: 'main' }, { address: 0x41, name: 'aux' }] },
        nack,
      );
      const samples = await collect();
      await collect();
      expect(valueOf(samples, 'ina260_power_watts', { sensor: 'main' })).toBeCloseTo(120, 10);
      expect(samples.some((sample) => sample.labels?.sensor === 'aux')).toBe(false);
      const warnings = context.logs.filter((line) => line.includes("INA260 'aux' at 0x41 on /dev/i2c-1"));
      expect(warnings).toEqual([
        expect.stringContaining('no device acknowledges this address: check the wiring'),
      ]);
      expect(warnings[0]).toContain('"i2cdetect -y 1"');
    },
  );

  it('is down, saying where and why, when its only sensor does not acknowledge', async () => {
    const { collect } = await startCollector({});
    await expect(collect()).rejects.toThrow("INA260 'main' at 0x40 on /dev/i2c-1: no device acknowledges this address");
  });

  it('refuses a device that is not an INA260 (an INA226 answers at 0x41) and reads the INA260 beside it', async () => {
    const ina226 = new EmulatedIna260({ manufacturerId: 0x5449, dieId: 0x2260 });
    const { collect, context } = await startCollector(
      { 0x40: ina260({ current: 0x1f40, busVoltage: 0x2580, power: 0x2ee0 }), 0x41: ina226 },
      { sensors: [{ address: 0x40, name: 'main' }, { address: 0x41, name: 'other' }] },
    );
    const samples = await collect();
    expect(valueOf(samples, 'ina260_power_watts', { sensor: 'main' })).toBeCloseTo(120, 10);
    expect(context.logs).toContainEqual(expect.stringContaining(
      "INA260 'other' at 0x41 on /dev/i2c-1: the device there is not an INA260: die ID 0x2260 (register 0xFF)",
    ));
    expect(ina226.register(0x00)).toBe(0x6127);
  });

  it('refuses a device whose manufacturer ID is not TI\'s', async () => {
    const { collect } = await startCollector({ 0x40: new EmulatedIna260({ manufacturerId: 0x0000, dieId: 0x0000 }) });
    await expect(collect()).rejects.toThrow(
      "INA260 'main' at 0x40 on /dev/i2c-1: the device there is not an INA260: manufacturer ID 0x0000 (register 0xFE)",
    );
  });

  it('goes down on an I2C error mid-run and comes back configured after the sensor was reset', async () => {
    const device = ina260({ current: 0x1f40, busVoltage: 0x2580, power: 0x2ee0 });
    const { collect } = await startCollector({ 0x40: device });
    expect(valueOf(await collect(), 'ina260_power_watts', { sensor: 'main' })).toBeCloseTo(120, 10);

    device.fault = kernelError('ETIMEDOUT');
    await expect(collect()).rejects.toThrow("INA260 'main' at 0x40 on /dev/i2c-1: the transfer timed out");

    // The sensor lost power meanwhile: its configuration is back to the power-on value until it is written again.
    device.fault = undefined;
    device.powerOn();
    device.measure({ current: 0x0fa0, busVoltage: 0x2580, power: 0x1770 });
    const samples = await collect();
    expect(valueOf(samples, 'ina260_power_watts', { sensor: 'main' })).toBeCloseTo(60, 10);
    expect(device.register(0x00)).toBe(0x6b27);
  });

  it('names the kernel driver when another driver has claimed the address', async () => {
    const device = ina260({ current: 0, busVoltage: 0, power: 0 });
    device.fault = kernelError('EBUSY');
    const { collect } = await startCollector({ 0x40: device });
    await expect(collect()).rejects.toThrow('a kernel driver has claimed this address (such as ina2xx from a dtoverlay)');
  });

  it('gives up on a hanging bus after read_timeout_ms and does not pile up more transfers until it recovers', async () => {
    const device = ina260({ current: 0x1f40, busVoltage: 0x2580, power: 0x2ee0 });
    const { collect } = await startCollector({ 0x40: device }, { read_timeout_ms: 100 });
    let release = (): void => undefined;
    device.stall = new Promise((resolve) => {
      release = resolve;
    });
    await expect(collect()).rejects.toThrow("INA260 'main' at 0x40 on /dev/i2c-1: no answer within 100 ms (option read_timeout_ms)");
    await expect(collect()).rejects.toThrow('the I2C transfers on /dev/i2c-1 started by an earlier collection have still not finished');

    device.stall = undefined;
    release();
    const samples = await collectUntil(
      () => collect().catch(() => []),
      (result) => valueOf(result, 'ina260_power_watts', { sensor: 'main' }) !== undefined,
    );
    expect(valueOf(samples, 'ina260_power_watts', { sensor: 'main' })).toBeCloseTo(120, 10);
  });
});

describe('a Raspberry Pi 5 without INA260s (sensors: [])', () => {
  it('reports the PMIC rails and their sum as power_total_watts', async () => {
    const expected = JSON.parse(readFileSync(fixture('pmic-pi5-jfikar', 'expected.json'), 'utf8')).expected as Array<{ rail: string; watts: number }>;
    const { collect } = await startCollector({}, { sensors: [] });
    const samples = await collectUntil(collect, (result) => valueOf(result, 'power_total_watts') !== undefined);
    for (const { rail, watts } of expected) {
      expect([rail, valueOf(samples, 'raspberrypi_pmic_rail_watts', { rail })]).toEqual([rail, expect.closeTo(watts, 9)]);
    }
    expect(valueOf(samples, 'power_total_watts')).toBeCloseTo(expected.reduce((sum, rail) => sum + rail.watts, 0), 9);
    expect(samples.some((sample) => sample.name.startsWith('ina260_'))).toBe(false);
  });

  it('opens no I2C bus', async () => {
    const { collect, buses } = await startCollector({}, { sensors: [] });
    await collect();
    expect(buses).toHaveLength(0);
  });
});

describe('options', () => {
  const create = (options: Record<string, unknown>) => () =>
    createRaspberryPiIna260Plugin(async () => new EmulatedI2cBus(new Map())).create(resolvedOptions({ ...baseOptions, ...options }), testContext());

  it('refuses two sensors with one name', () => {
    expect(create({ sensors: [{ address: 0x40, name: 'a' }, { address: 0x41, name: 'a' }] })).toThrow(
      "options.sensors[1]: name 'a' is already used by options.sensors[0]",
    );
  });

  it('refuses two sensors at one address, however it is written', () => {
    expect(create({ sensors: [{ address: 0x40, name: 'a' }, { address: '0x40', name: 'b' }] })).toThrow(
      'options.sensors[1]: address 0x40 is already used by options.sensors[0]',
    );
  });

  it('refuses a total_sensor that names no sensor', () => {
    expect(create({ total_sensor: 'pi' })).toThrow("options.total_sensor: 'pi' names none of options.sensors (main)");
  });

  it('refuses an address outside 0x40 to 0x4F, and a shunt (the INA260 has its own)', () => {
    expect(() => resolvedOptions({ sensors: [{ address: 0x50, name: 'a' }] })).toThrow('options.sensors[0].address');
    expect(() => resolvedOptions({ sensors: [{ address: 0x40, name: 'a', shunt: 0.1 }] })).toThrow("options.sensors[0]: unknown key 'shunt'");
  });

  it('refuses averaging and conversion times that the datasheet does not list', () => {
    expect(() => resolvedOptions({ averaging: 100 })).toThrow('options.averaging: must be one of 1, 4, 16, 64, 128, 256, 512, 1024');
    expect(() => resolvedOptions({ conversion_time: 1000 })).toThrow('options.conversion_time: must be one of 140, 204, 332, 588, 1100, 2116, 4156, 8244');
  });
});

describe('stop()', () => {
  it('closes the bus and is safe to call twice', async () => {
    const { collector, buses, collect } = await startCollector({ 0x40: ina260({ current: 0, busVoltage: 0, power: 0 }) });
    await collect();
    await collector.stop?.();
    await collector.stop?.();
    expect(buses.map((bus) => bus.closed)).toEqual([true]);
  });
});

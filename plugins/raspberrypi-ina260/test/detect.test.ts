import type { Detection } from '@edge-metrics/core/plugin';
import { FixtureTree } from '@edge-metrics/core/testing';
import { createBusOpener, type OpenBus } from '../src/i2c-bus';
import { createRaspberryPiIna260Plugin } from '../src/plugin';
import { EmulatedI2cBus, EmulatedIna260 } from './emulated-ina260';
import { buildSysfs, fixture, resolvedOptions, testContext } from './helpers';

// Child processes and bounded waits on shared machines: a generous per-test limit.
jest.setTimeout(30_000);

/** A bus number that no machine running these tests has: there is no /dev/i2c-37. */
const ABSENT_BUS = 37;

let tree: FixtureTree;

beforeEach(async () => {
  tree = await FixtureTree.create();
});

afterEach(() => tree.dispose());

function emulatedBus(devices: Map<number, EmulatedIna260>): OpenBus {
  return async () => new EmulatedI2cBus(devices);
}

async function detect(openBus: OpenBus, options: Record<string, unknown> = {}): Promise<Detection> {
  const plugin = createRaspberryPiIna260Plugin(openBus);
  if (!plugin.detect) throw new Error('the plugin has no detect()');
  return plugin.detect(resolvedOptions({ sysfs_root: tree.root, ...options }), testContext());
}

describe('detect()', () => {
  it("finds a Raspberry Pi by its device-tree model, even where I2C is not enabled", async () => {
    await buildSysfs(tree, { model: fixture('devicetree-model-pi4', 'model') });
    const detection = await detect(createBusOpener(), { bus: ABSENT_BUS });
    expect(detection).toEqual({
      found: true,
      deviceType: 'raspberrypi',
      reason: expect.stringMatching(/^device-tree model "Raspberry Pi 4 Model B Rev 1.5"; no INA260 answers at 0x40 on \/dev\/i2c-37 \(\/dev\/i2c-37 does not exist/),
    });
  });

  it('finds an INA260 answering at a configured address on another board', async () => {
    const detection = await detect(emulatedBus(new Map([[0x44, new EmulatedIna260()]])), {
      sensors: [{ address: 0x40, name: 'main' }, { address: 0x44, name: 'fan' }],
    });
    expect(detection).toEqual({ found: true, deviceType: 'ina260', reason: "INA260 'fan' at 0x44 on /dev/i2c-1" });
  });

  it('says what it looked for when it finds neither', async () => {
    const detection = await detect(emulatedBus(new Map([[0x40, new EmulatedIna260({ manufacturerId: 0x5449, dieId: 0x2260 })]])));
    expect(detection.found).toBe(false);
    expect(detection.reason).toContain(`no device-tree model at ${tree.root}/firmware/devicetree/base/model`);
    expect(detection.reason).toContain("no INA260 answers at 0x40 on /dev/i2c-1 (INA260 'main' at 0x40 on /dev/i2c-1: the device there is not an INA260");
  });

  it('answers within its bound when the bus hangs', async () => {
    const device = new EmulatedIna260();
    device.stall = new Promise(() => undefined);
    const detection = await detect(emulatedBus(new Map([[0x40, device]])));
    expect(detection).toEqual({ found: false, reason: expect.stringContaining('(no answer within 500 ms)') });
  });

  it('names what a bus threw even when it is not an Error (a native addon may throw a string)', async () => {
    const detection = await detect(async () => {
      // eslint-disable-next-line @typescript-eslint/only-throw-error -- what the test is about
      throw 'EREMOTEIO';
    });
    expect(detection).toEqual({ found: false, reason: expect.stringContaining('no INA260 answers at 0x40 on /dev/i2c-1 (EREMOTEIO)') });
  });

  it('does not throw on options it cannot use', async () => {
    const detection = await detect(emulatedBus(new Map()), { sensors: [{ address: 0x40, name: 'a' }, { address: 0x41, name: 'a' }] });
    expect(detection).toEqual({ found: false, reason: expect.stringContaining("options.sensors[1]: name 'a' is already used") });
  });
});

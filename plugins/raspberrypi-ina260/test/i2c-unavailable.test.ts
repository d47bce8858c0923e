import { FixtureTree } from '@edge-metrics/core/testing';
import { createBusOpener, type LoadI2cBusAddon } from '../src/i2c-bus';
import { createRaspberryPiIna260Plugin } from '../src/plugin';
import { buildSysfs, fixture, resolvedOptions, testContext, valueOf } from './helpers';

// Child processes and bounded waits on shared machines: a generous per-test limit.
jest.setTimeout(30_000);

// On a machine without I2C (like the ones these tests run on: no /dev/i2c-*), or where the i2c-bus addon did not
// build, the package loads, the collector reports down with the reason, and everything else keeps working.

/** A bus number that no machine running these tests has: there is no /dev/i2c-37. */
const ABSENT_BUS = 37;

let tree: FixtureTree;

beforeAll(async () => {
  tree = await FixtureTree.create();
  await buildSysfs(tree, { temp: fixture('thermal-pi4-78880', 'temp') });
});

afterAll(() => tree.dispose());

function options(extra: Record<string, unknown> = {}) {
  return resolvedOptions({ bus: ABSENT_BUS, sysfs_root: tree.root, vcgencmd_path: tree.path('no-vcgencmd'), ...extra });
}

async function collectOnce(load?: LoadI2cBusAddon, extra: Record<string, unknown> = {}) {
  const collector = createRaspberryPiIna260Plugin(createBusOpener(load)).create(options(extra), testContext());
  await collector.start?.();
  try {
    return await collector.collect();
  } finally {
    await collector.stop?.();
  }
}

describe('without I2C', () => {
  it('loads the addon when a bus is first opened, not before', async () => {
    const load = jest.fn<ReturnType<LoadI2cBusAddon>, []>(() => {
      throw new Error('not built');
    });
    const collector = createRaspberryPiIna260Plugin(createBusOpener(load)).create(options(), testContext());
    expect(load).not.toHaveBeenCalled();
    await collector.start?.();
    expect(load).toHaveBeenCalled();
    await collector.stop?.();
  });

  it('is down with the reason and the fix where /dev/i2c-<bus> is absent (the real addon)', async () => {
    const down = collectOnce();
    await expect(down).rejects.toThrow(
      '/dev/i2c-37 does not exist: enable I2C ("sudo raspi-config nonint do_i2c 0", or "dtparam=i2c_arm=on" in /boot/firmware/config.txt, then reboot;',
    );
    await expect(down).rejects.toThrow('(with no INA260 attached, set option sensors to [] to report the Raspberry Pi alone)');
  });

  it('is down telling to install i2c-bus where it is not installed', async () => {
    const notInstalled: LoadI2cBusAddon = () => {
      throw Object.assign(new Error("Cannot find module 'i2c-bus'\nRequire stack:\n- /opt/edge-metrics/node_modules/edge-collector-raspberrypi-ina260/dist/i2c-bus.js"), {
        code: 'MODULE_NOT_FOUND',
      });
    };
    await expect(collectOnce(notInstalled)).rejects.toThrow('i2c-bus is not installed');
    await expect(collectOnce(notInstalled)).rejects.toThrow('"npm install i2c-bus"');
  });

  it('is down telling to rebuild i2c-bus where its native addon did not build', async () => {
    // The error of the `bindings` package (which i2c-bus loads its addon with) when build/Release/i2c.node is missing.
    const notBuilt: LoadI2cBusAddon = () => {
      throw new Error('Could not locate the bindings file. Tried:\n → /opt/edge-metrics/node_modules/i2c-bus/build/i2c.node');
    };
    await expect(collectOnce(notBuilt)).rejects.toThrow(
      'the i2c-bus native addon failed to load (Could not locate the bindings file. Tried:): rebuild it with "npm rebuild i2c-bus"',
    );
  });

  it('keeps reporting the Raspberry Pi itself when no INA260 is configured', async () => {
    const samples = await collectOnce(undefined, { sensors: [] });
    expect(valueOf(samples, 'raspberrypi_temp_soc_celsius')).toBeCloseTo(78.88, 10);
  });
});

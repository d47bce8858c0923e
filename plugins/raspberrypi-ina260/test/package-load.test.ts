// An i2c-bus whose native addon cannot load (as after a failed build): requiring it throws. The package must still
// load, because it requires i2c-bus only when a bus is opened; the collector then reports the failure (see
// i2c-unavailable.test.ts).
jest.mock('i2c-bus', () => {
  throw new Error('i2c-bus must not be loaded when the package loads');
});

import * as plugin from '../src';

describe('loading the package', () => {
  it('exports the plugin without loading the i2c-bus addon', () => {
    expect(plugin.manifest.name).toBe('edge-collector-raspberrypi-ina260');
    expect(typeof plugin.create).toBe('function');
    expect(typeof plugin.detect).toBe('function');
  });
});

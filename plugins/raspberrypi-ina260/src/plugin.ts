import { definePlugin } from '@edge-metrics/core/plugin';
import { Ina260Collector } from './collector';
import { detectHardware } from './detect';
import { createBusOpener, type OpenBus } from './i2c-bus';
import { manifest } from './manifest';

/**
 * The plugin, reading its I2C buses through `openBus`: by default /dev/i2c-<bus> through the i2c-bus addon; tests
 * and other transports pass their own.
 */
export function createRaspberryPiIna260Plugin(openBus: OpenBus = createBusOpener()) {
  return definePlugin({
    manifest,
    create: (options, context) => new Ina260Collector(options, context, openBus),
    detect: (options, context) => detectHardware(options, openBus, context.logger),
  });
}

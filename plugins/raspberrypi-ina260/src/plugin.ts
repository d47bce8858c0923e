import type { CollectorPlugin } from '@edge-metrics/core';
import { Ina260Collector } from './collector';
import { detectHardware } from './detect';
import { createBusOpener, type OpenBus } from './i2c-bus';
import { manifest } from './manifest';
import type { Ina260Options } from './options';

/**
 * The plugin, reading its I2C buses through `openBus`: by default /dev/i2c-<bus> through the i2c-bus addon; tests
 * and other transports pass their own.
 */
export function createRaspberryPiIna260Plugin(
  openBus: OpenBus = createBusOpener(),
): CollectorPlugin & Required<Pick<CollectorPlugin, 'detect'>> {
  return {
    manifest,
    // Core validates the options against manifest.optionsSchema and fills in its defaults before these calls.
    create: (options, context) => new Ina260Collector(options as unknown as Ina260Options, context, openBus),
    detect: (options, context) => detectHardware(options as unknown as Ina260Options, openBus, context.logger),
  };
}

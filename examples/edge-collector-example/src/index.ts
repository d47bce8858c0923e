import type { Collector, CollectorContext } from '@edge-metrics/core';
import { NetdevCollector } from './collector';
import type { NetdevOptions } from './manifest';

export { manifest, type NetdevOptions } from './manifest';
export { NetdevCollector, interfaceFilter } from './collector';
export { parseNetDev, type InterfaceCounters, type NetDevTable } from './netdev';

/**
 * Creates a collector for options that core has validated against `manifest.optionsSchema`. There is no
 * `detect()`: every Linux machine has /proc/net/dev, so `device_type: auto` would pick this add-on over the
 * device's own plugin. It is configured by name, under `collectors:`.
 */
export function create(options: Record<string, unknown>, context: CollectorContext): Collector {
  return new NetdevCollector(options as unknown as NetdevOptions, context.logger);
}

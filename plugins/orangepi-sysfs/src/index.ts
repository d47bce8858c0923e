import type { Collector, CollectorContext } from '@edge-metrics/core';
import { SysfsCollector, type SysfsOptions } from './collector';

export { manifest } from './manifest';
export { detect } from './detect';
export { SysfsCollector, type SysfsOptions } from './collector';
export { classDirs, readSysfs, type ReadFailure, type SysfsSnapshot } from './sysfs';
export {
  parseInteger,
  parseSnapshot,
  type HwmonDevice,
  type Kind,
  type Parsed,
  type PowerSupply,
  type Problem,
  type Reading,
  type Temperature,
  type ThermalZone,
  type Where,
} from './sensors';
export { inputSensor, sensorFilter, sensorPattern } from './total';

/** Creates a collector for options that core has validated against `manifest.optionsSchema`. */
export function create(options: Record<string, unknown>, context: CollectorContext): Collector {
  return new SysfsCollector(options as unknown as SysfsOptions, context);
}

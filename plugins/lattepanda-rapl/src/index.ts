import type { Collector, CollectorContext } from '@edge-metrics/core';
import { RaplCollector, type RaplOptions } from './collector';

export { manifest } from './manifest';
export { detect } from './detect';
export { RaplCollector, type RaplOptions } from './collector';
export { readPowercap, type PowercapSnapshot, type ReadFailure } from './powercap';
export { cpuZones, wholeDeviceZones } from './totals';
export {
  isZoneDir,
  parseMicroUnits,
  parseZones,
  seriesLabels,
  topLevelDir,
  type RaplZone,
  type ZoneFiles,
  type ZoneProblem,
} from './zones';

/** Creates a collector for options that core has validated against `manifest.optionsSchema`. */
export function create(options: Record<string, unknown>, context: CollectorContext): Collector {
  return new RaplCollector(options as unknown as RaplOptions, context);
}

import type { Collector, CollectorContext, Detection } from '@edge-metrics/core';
import { JetsonCollector } from './collector';
import { detectJetson } from './detect';
import type { JetsonOptions } from './manifest';

export { manifest, type JetsonOptions } from './manifest';
export { JetsonCollector, timing } from './collector';
export { detectJetson, deviceTypeFromCompatible, deviceTypeFromModel } from './detect';
export { jetsonSamples, metricPart } from './metrics';
export { parseTegrastatsLine, TegrastatsLineError, type CpuCore, type TegrastatsReading, type UsageAndFrequency } from './tegrastats';

/** Creates a collector for options that core has validated against `manifest.optionsSchema`. */
export function create(options: Record<string, unknown>, context: CollectorContext): Collector {
  return new JetsonCollector(options as unknown as JetsonOptions, context);
}

/** Finds a Jetson for `device_type: auto`. */
export function detect(options: Record<string, unknown>): Promise<Detection> {
  return detectJetson(options as unknown as JetsonOptions);
}

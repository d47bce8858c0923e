import type { Collector, CollectorContext } from '@edge-metrics/core';
import { ShellyCollector } from './collector';
import type { ShellyOptions } from './manifest';

export { manifest, type ShellyOptions } from './manifest';
export { ShellyCollector } from './collector';
export { generationOf, readGen1Status, readGen2Status, type Generation } from './readers';
export {
  digestAuthorization,
  digestResponse,
  parseDigestChallenge,
  type DigestChallenge,
  type DigestRequest,
} from './digest';

/** One collector per Shelly: `collectors: [{type: shelly, name: desk-plug, options: {host: 192.168.1.20}}]`. */
export function create(options: Record<string, unknown>, context: CollectorContext): Collector {
  return new ShellyCollector(options as unknown as ShellyOptions, context);
}

import { join } from 'node:path';
import { describeError, isPermissionFailure, type Detection } from '@edge-metrics/core/plugin';
import type { RaplOptions } from './manifest';
import { describeFailure, noZonesMessage } from './messages';
import { readPowercap } from './powercap';
import { parseZones } from './zones';

/**
 * Finds RAPL for `device_type: auto`: at least one zone whose counter can be read. RAPL is a feature of the
 * CPU, not of the board, so what is found is `intel_rapl`; a LattePanda's config names `lattepanda` itself.
 */
export async function detectRapl({ sysfs_root: root }: RaplOptions): Promise<Detection> {
  try {
    const snapshot = await readPowercap(root);
    if (snapshot.zoneCount === 0) return { found: false, reason: noZonesMessage(snapshot.dir) };
    const { zones } = parseZones(snapshot.files, (dir, file) => join(snapshot.dir, dir, file));
    if (zones.length === 0) {
      const failure = snapshot.failures.find(isPermissionFailure) ?? snapshot.failures[0];
      const why = failure ? describeFailure(failure) : 'their files hold no counters';
      return { found: false, reason: `RAPL zones exist under ${snapshot.dir} but none can be read: ${why}` };
    }
    const names = zones.map((zone) => `${zone.dir} (${zone.zone})`).join(', ');
    return { found: true, deviceType: 'intel_rapl', reason: `RAPL zones readable: ${names}` };
  } catch (error) {
    return { found: false, reason: `cannot list ${join(root, 'class', 'powercap')}: ${describeError(error)}` };
  }
}

/**
 * Which zones add up to the cross-device figures. RAPL zones overlap (a package contains its `core` and
 * `uncore`; `psys` contains everything), so summing every zone would count energy twice.
 */

interface Zone {
  dir: string;
  zone: string;
  topLevel: boolean;
}

const isPackage = (zone: Zone): boolean => zone.topLevel && zone.zone.startsWith('package');

/**
 * The zones whose sum is the whole device: the platform zone `psys` where the machine has one; otherwise
 * every package plus every `dram` zone, because a package's energy does not include its memory.
 */
export function wholeDeviceZones<Z extends Zone>(zones: readonly Z[]): Z[] {
  const psys = zones.filter((zone) => zone.topLevel && zone.zone === 'psys');
  if (psys.length > 0) return psys;
  return zones.filter((zone) => isPackage(zone) || zone.zone === 'dram');
}

/** The zones whose sum is the CPU: each package's `core` subzone, or the package itself where it has none. */
export function cpuZones<Z extends Zone>(zones: readonly Z[]): Z[] {
  return zones
    .filter(isPackage)
    .map((pkg) => zones.find((zone) => zone.zone === 'core' && zone.dir.startsWith(`${pkg.dir}:`)) ?? pkg);
}

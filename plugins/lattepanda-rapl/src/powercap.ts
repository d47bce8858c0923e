import { join } from 'node:path';
import { listSysfsDir, readSysfsFile, type ReadFailure } from '@edge-metrics/core/plugin';
import { isZoneDir, type ZoneFiles } from './zones';

export interface PowercapSnapshot {
  /** `<sysfs_root>/class/powercap`. */
  dir: string;
  /** How many zone directories exist, readable or not. */
  zoneCount: number;
  /** The zones whose name could be read, with the counters that could be read. */
  files: ZoneFiles[];
  /** Every file that could not be read. */
  failures: ReadFailure[];
}

/**
 * Reads `name`, `energy_uj` and `max_energy_range_uj` of every `intel-rapl:N` and `intel-rapl:N:M` entry under
 * `<sysfs_root>/class/powercap` (the kernel links every zone and subzone there). `intel-rapl-mmio:N` is
 * skipped: it is a second interface to the same package counter, and counting it would double the package.
 */
export async function readPowercap(sysfsRoot: string): Promise<PowercapSnapshot> {
  const dir = join(sysfsRoot, 'class', 'powercap');
  const zoneDirs = (await listSysfsDir(dir)).filter(isZoneDir);
  const failures: ReadFailure[] = [];
  const reads = await Promise.all(zoneDirs.map((zoneDir) => readZone(dir, zoneDir, failures)));
  return { dir, zoneCount: zoneDirs.length, files: reads.filter((read) => read !== undefined), failures };
}

async function readZone(dir: string, zoneDir: string, failures: ReadFailure[]): Promise<ZoneFiles | undefined> {
  const read = (file: string): Promise<string | undefined> => readSysfsFile(join(dir, zoneDir, file), failures);
  const [name, energyUj, maxEnergyRangeUj] = await Promise.all([read('name'), read('energy_uj'), read('max_energy_range_uj')]);
  return name === undefined ? undefined : { dir: zoneDir, name, energyUj, maxEnergyRangeUj };
}

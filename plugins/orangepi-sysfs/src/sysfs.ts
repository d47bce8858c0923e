import { readlink } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { listSysfsDir, readSysfsFile, type ReadFailure } from '@edge-metrics/core/plugin';
import type { HwmonDevice, PowerSupply, ThermalZone } from './sensors';

export interface SysfsSnapshot {
  hwmon: HwmonDevice[];
  supplies: PowerSupply[];
  zones: ThermalZone[];
  failures: ReadFailure[];
}

/** The directories the three sensor classes live in. */
export function classDirs(sysfsRoot: string): { hwmon: string; supply: string; zone: string } {
  return {
    hwmon: join(sysfsRoot, 'class', 'hwmon'),
    supply: join(sysfsRoot, 'class', 'power_supply'),
    zone: join(sysfsRoot, 'class', 'thermal'),
  };
}

const HWMON_FILE = /^(name|(in|curr|power)\d+_(input|label))$/;
const SUPPLY_FILE = /^(type|online|voltage_now|current_now|power_now)$/;
const ZONE_FILE = /^(type|temp)$/;

/**
 * Reads the files this plugin uses from `<sysfs_root>/class/{hwmon,power_supply,thermal}`. Only files that are
 * listed are read, so a file a driver does not provide is simply absent, while a listed file that cannot be read
 * (unplugged meanwhile, permission denied, a sensor that answers ENODATA) is reported as a failure.
 */
export async function readSysfs(sysfsRoot: string): Promise<SysfsSnapshot> {
  const dirs = classDirs(sysfsRoot);
  const failures: ReadFailure[] = [];
  const [hwmon, supplies, zones] = await Promise.all([
    readEntries(dirs.hwmon, /^hwmon\d+$/, HWMON_FILE, failures),
    readEntries(dirs.supply, /^[^.]/, SUPPLY_FILE, failures),
    readEntries(dirs.zone, /^thermal_zone\d+$/, ZONE_FILE, failures),
  ]);
  return {
    hwmon: await Promise.all(hwmon.map(async ({ entry, files }) => ({ dir: entry, device: await deviceOf(join(dirs.hwmon, entry)), files }))),
    supplies: supplies.map(({ entry, files }) => ({ name: entry, files })),
    zones: zones.map(({ entry, files }) => ({ dir: entry, files })),
    failures,
  };
}

async function readEntries(
  classDir: string,
  entryPattern: RegExp,
  filePattern: RegExp,
  failures: ReadFailure[],
): Promise<Array<{ entry: string; files: Record<string, string> }>> {
  const entries = (await listSysfsDir(classDir)).filter((entry) => entryPattern.test(entry)).sort(naturally);
  const read = await Promise.all(
    entries.map(async (entry) => {
      // An entry that disappears between the two listings was unplugged: it is simply gone, as is one that
      // holds none of the files this plugin uses.
      const fileNames = (await listSysfsDir(join(classDir, entry))).filter((file) => filePattern.test(file));
      const texts = await Promise.all(fileNames.map((file) => readSysfsFile(join(classDir, entry, file), failures)));
      const files = Object.fromEntries(fileNames.flatMap((file, i) => (texts[i] === undefined ? [] : [[file, texts[i]!]])));
      return { entry, files };
    }),
  );
  return read.filter(({ files }) => Object.keys(files).length > 0);
}

/** The device a hwmon chip belongs to (`1-0040` for an I2C chip), which stays the same across reboots. */
async function deviceOf(hwmonDir: string): Promise<string | undefined> {
  return readlink(join(hwmonDir, 'device')).then(basename, () => undefined);
}

function naturally(a: string, b: string): number {
  return a.localeCompare(b, 'en', { numeric: true });
}

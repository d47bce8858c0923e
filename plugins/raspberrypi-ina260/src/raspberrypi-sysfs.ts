import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseDeviceTreeModel, parseMillidegreesCelsius } from './sysfs-values';

/** The SoC's temperature: on every Raspberry Pi model, thermal zone 0 is the SoC's own sensor. */
export async function readSocTemperatureCelsius(sysfsRoot: string): Promise<number> {
  const path = join(sysfsRoot, 'class', 'thermal', 'thermal_zone0', 'temp');
  return parseMillidegreesCelsius(await readFile(path, 'utf8'), path);
}

export function deviceTreeModelPath(sysfsRoot: string): string {
  return join(sysfsRoot, 'firmware', 'devicetree', 'base', 'model');
}

/** The board's device-tree model (what /proc/device-tree/model shows), or undefined where there is none. */
export async function readDeviceTreeModel(sysfsRoot: string): Promise<string | undefined> {
  try {
    return parseDeviceTreeModel(await readFile(deviceTreeModelPath(sysfsRoot), 'utf8'));
  } catch {
    return undefined;
  }
}

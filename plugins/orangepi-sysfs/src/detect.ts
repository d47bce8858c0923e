import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describeError, type Detection } from '@edge-metrics/core/plugin';
import type { SysfsOptions } from './manifest';
import { parseSnapshot } from './sensors';
import { readSysfs } from './sysfs';

/**
 * Finds sensors for `device_type: auto`: at least one hwmon power, voltage or current channel, or a power
 * supply that reports both voltage and current. The device type is `orangepi` when the device tree's model
 * names an Orange Pi, `sysfs` on any other machine.
 */
export async function detectSensors({ sysfs_root: root }: SysfsOptions): Promise<Detection> {
  try {
    const snapshot = await readSysfs(root);
    const { readings } = parseSnapshot(snapshot, { hwmon: join, supply: join, zone: join });
    const supplies = snapshot.supplies
      .filter((supply) => ['voltage_now', 'current_now'].every((file) => readings.some((reading) => reading.sensor === supply.name && reading.channel === file)))
      .map((supply) => supply.name);
    const channels = readings.filter((reading) => reading.sensor.includes('/')).map((reading) => reading.sensor);
    const found = [...new Set([...channels, ...supplies])];
    if (found.length === 0) {
      return { found: false, reason: `no hwmon power, voltage or current channel and no power supply with voltage and current under ${join(root, 'class')}` };
    }
    return { found: true, deviceType: (await isOrangePi(root)) ? 'orangepi' : 'sysfs', reason: `sensors: ${found.join(', ')}` };
  } catch (error) {
    return { found: false, reason: `cannot read ${join(root, 'class')}: ${describeError(error)}` };
  }
}

/** The device tree's model, e.g. "RK3588 OPi 5 Plus", names the board. */
async function isOrangePi(root: string): Promise<boolean> {
  const model = await readFile(join(root, 'firmware', 'devicetree', 'base', 'model'), 'utf8').catch(() => '');
  return /orange\s?pi|\bopi\b/i.test(model);
}

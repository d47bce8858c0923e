import { describeReadFailure, type ReadFailure } from '@edge-metrics/core/plugin';

const ADVICE = {
  permission: 'skipping it. Run the exporter as root or make the file readable (see the edge-collector-orangepi-sysfs README, section "Permissions")',
  vanished: 'the sensor was unplugged or its driver unloaded',
  other: 'the sensor did not answer',
};

/** What a file that could not be read means, and what to do. */
export function describeFailure(failure: ReadFailure): string {
  return describeReadFailure(failure, ADVICE);
}

/** Why there is nothing to report under the sysfs root, and what to check. */
export function nothingFoundMessage(sysfsRoot: string, failures: readonly ReadFailure[]): string {
  const unreadable = failures.length > 0 ? ` Files that could not be read: ${failures.map(describeFailure).join('; ')}.` : '';
  return (
    `no power, voltage or current sensor and no thermal zone under ${sysfsRoot}/class (hwmon, power_supply, thermal).` +
    ' Most Orange Pi, Rockchip and Allwinner boards have no power meter of their own: an INA219/INA226/INA3221 on ' +
    'I2C needs its kernel driver (ina2xx, ina3221) and a device-tree overlay. In a container, mount the host\'s ' +
    `/sys and point the option sysfs_root at it.${unreadable}`
  );
}

import { createRaspberryPiIna260Plugin } from './plugin';

const plugin = createRaspberryPiIna260Plugin();

export const { manifest, create, detect } = plugin;
export { createRaspberryPiIna260Plugin };
export { createBusOpener, loadI2cBusAddon, type I2cBus, type LoadI2cBusAddon, type OpenBus } from './i2c-bus';
export {
  AVERAGING_COUNTS,
  CONVERSION_TIMES_US,
  decodeBusVoltageVolts,
  decodeCurrentAmps,
  decodePowerWatts,
  encodeConfiguration,
  identificationProblem,
  parseAddress,
  swapBytes,
} from './ina260-registers';
export type { Ina260Options } from './options';
export { isRaspberryPiModel, parseDeviceTreeModel, parseMillidegreesCelsius } from './sysfs-values';
export { parsePmicAdc, parseThrottled, THROTTLED_FLAGS, type PmicRail, type ThrottledFlag } from './vcgencmd-output';

import { describeError, finishesWithin, type Detection, type Logger } from '@edge-metrics/core/plugin';
import { busPath, type OpenBus } from './i2c-bus';
import { encodeConfiguration, hexAddress } from './ina260-registers';
import { Ina260Sensor } from './ina260-sensor';
import type { Ina260Options } from './manifest';
import { sensorSpecs } from './sensor-specs';
import { deviceTreeModelPath, readDeviceTreeModel } from './raspberrypi-sysfs';
import { isRaspberryPiModel } from './sysfs-values';

/** detect() must answer within a second; the I2C probe gets half of it. */
const PROBE_TIMEOUT_MS = 500;

/**
 * Finds the hardware for `device_type: auto`: a Raspberry Pi by its device-tree model (device type raspberrypi),
 * otherwise an INA260 answering at a configured address on /dev/i2c-<bus> (device type ina260). Never throws.
 */
export async function detectHardware(options: Ina260Options, openBus: OpenBus, logger: Logger): Promise<Detection> {
  const [model, ina260] = await Promise.all([readDeviceTreeModel(options.sysfs_root), probeIna260(options, openBus, logger)]);
  if (model !== undefined && isRaspberryPiModel(model)) {
    return { found: true, deviceType: 'raspberrypi', reason: `device-tree model "${model}"; ${ina260.reason}` };
  }
  if (ina260.found) return { found: true, deviceType: 'ina260', reason: ina260.reason };
  const board = model === undefined ? `no device-tree model at ${deviceTreeModelPath(options.sysfs_root)}` : `device-tree model "${model}" is not a Raspberry Pi`;
  return { found: false, reason: `${board}, and ${ina260.reason}` };
}

async function probeIna260(options: Ina260Options, openBus: OpenBus, logger: Logger): Promise<{ found: boolean; reason: string }> {
  let specs;
  try {
    specs = sensorSpecs(options);
  } catch (error) {
    return { found: false, reason: describeError(error) };
  }
  if (specs.length === 0) return { found: false, reason: 'no INA260 is configured (option sensors)' };
  const addresses = specs.map((spec) => hexAddress(spec.address)).join(', ');
  const notFound = (why: string): { found: false; reason: string } => ({
    found: false,
    reason: `no INA260 answers at ${addresses} on ${busPath(options.bus)} (${why})`,
  });
  const configuration = encodeConfiguration(options.averaging, options.conversion_time);
  const found: string[] = [];
  const problems: string[] = [];
  const probe = (async () => {
    const bus = await openBus(options.bus);
    try {
      for (const { name, address } of specs) {
        const sensor = new Ina260Sensor(name, address, options.bus, configuration, logger);
        await sensor.verify(bus).then(
          () => found.push(sensor.location),
          (error: unknown) => problems.push(describeError(error)),
        );
      }
    } finally {
      await bus.close();
    }
  })();
  try {
    if (!(await finishesWithin(probe, PROBE_TIMEOUT_MS))) return notFound(`no answer within ${PROBE_TIMEOUT_MS} ms`);
  } catch (error) {
    return notFound(describeError(error));
  }
  return found.length > 0 ? { found: true, reason: found.join(', ') } : notFound(problems.join('; '));
}

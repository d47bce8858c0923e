import { hexAddress, parseAddress } from './ina260-registers';
import type { Ina260Options } from './manifest';

export interface SensorSpec {
  name: string;
  address: number;
}

/**
 * The sensors with numeric addresses, checked for what the schema cannot say: unique names and addresses, and a
 * total_sensor that names one of them.
 */
export function sensorSpecs(options: Ina260Options): SensorSpec[] {
  const specs = options.sensors.map(({ address, name }, index) => {
    const parsed = parseAddress(address);
    if (parsed === undefined) throw new Error(`options.sensors[${index}].address: ${JSON.stringify(address)} is not an INA260 address (0x40 to 0x4F)`);
    return { name, address: parsed };
  });
  specs.forEach((spec, index) => {
    const earlier = specs.findIndex((other) => other.name === spec.name || other.address === spec.address);
    if (earlier < index) {
      const clash = specs[earlier]!.name === spec.name ? `name '${spec.name}'` : `address ${hexAddress(spec.address)}`;
      throw new Error(`options.sensors[${index}]: ${clash} is already used by options.sensors[${earlier}]`);
    }
  });
  if (options.total_sensor !== undefined && !specs.some((spec) => spec.name === options.total_sensor)) {
    throw new Error(`options.total_sensor: '${options.total_sensor}' names none of options.sensors (${specs.map((spec) => spec.name).join(', ') || 'none configured'})`);
  }
  return specs;
}

import type { PowerSupply, Reading } from './sensors';

/** Power supply types that feed the board, as opposed to a `Battery` or a `UPS` it feeds (sysfs-class-power). */
const INPUT_SUPPLY_TYPE = /^(Mains|USB.*)$/;
/** USB-C port managers (TCPM, UCSI) report the negotiated USB-PD contract, not a measurement. */
const NEGOTIATED_SUPPLY = /^(tcpm|ucsi)-source-psy-/;
/** hwmon labels that name a board's input rail (Jetson's INA3221 `VDD_IN`, an INA238 `VIN`). */
const INPUT_RAIL_LABEL = /^(VDD_IN|VIN)$/i;

/**
 * The sensor whose power is the whole device when the option `total_sensor` is empty: the input power supply,
 * i.e. the one supply of type `Mains` or `USB…` that is online and reports power (directly or as V×I), leaving
 * out the USB-C port managers' supplies, whose values are a negotiated contract rather than a measurement; failing
 * that, the one hwmon channel labelled `VDD_IN` or `VIN`. Where several qualify, none is chosen and they are
 * returned as candidates, so that the operator picks one instead of the exporter guessing.
 */
export function inputSensor(supplies: readonly PowerSupply[], readings: readonly Reading[]): { sensor?: string; candidates: string[] } {
  const powered = new Set(readings.filter((reading) => reading.kind === 'power').map((reading) => reading.sensor));
  const inputs = supplies
    .filter((supply) => INPUT_SUPPLY_TYPE.test((supply.files.type ?? '').trim()))
    .filter((supply) => (supply.files.online ?? '1').trim() !== '0' && !NEGOTIATED_SUPPLY.test(supply.name))
    .map((supply) => supply.name)
    .filter((name) => powered.has(name));
  const candidates =
    inputs.length > 0 ? inputs : [...powered].filter((sensor) => sensor.includes('/') && INPUT_RAIL_LABEL.test(sensor.slice(sensor.indexOf('/') + 1)));
  return candidates.length === 1 ? { sensor: candidates[0]!, candidates } : { candidates };
}

/**
 * A sensor name pattern: `*` stands for any run of characters (`/` included), `?` for one character; the
 * pattern must match the whole name, case-sensitively. `ina219/*` matches every channel of the ina219 chip.
 */
export function sensorPattern(pattern: string): RegExp {
  const body = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${body}$`);
}

/** Whether a sensor's series are exposed: it matches an include pattern (or there is none) and no exclude. */
export function sensorFilter(include: readonly string[], exclude: readonly string[]): (sensor: string) => boolean {
  const [included, excluded] = [include.map(sensorPattern), exclude.map(sensorPattern)];
  return (sensor) =>
    (included.length === 0 || included.some((pattern) => pattern.test(sensor))) && !excluded.some((pattern) => pattern.test(sensor));
}

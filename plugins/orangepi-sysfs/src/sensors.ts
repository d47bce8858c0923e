/**
 * Pure parsing and unit conversion of the sysfs sensor classes: hwmon channels, power supplies and thermal
 * zones, from the text of their files to readings in watts, volts, amperes and degrees Celsius.
 */

export type Kind = 'power' | 'voltage' | 'current';

/** One reading of a power, voltage or current sensor, in SI units. */
export interface Reading {
  kind: Kind;
  /** `<hwmon name>/<label or channel>` or `<supply name>`. */
  sensor: string;
  /**
   * The channel the value comes from (`in1`, `curr1`, `power1`, `voltage_now`, ...), to tell apart equal labels;
   * for power computed as V×I, the power channel the device would have (`power1`, `power_now`).
   */
  channel: string;
  value: number;
}

/** A file whose text is not what the kernel writes there. */
export interface Problem {
  file: string;
  message: string;
}

/** The files of one `/sys/class/hwmon/hwmonN`, by file name: `name`, `in1_input`, `curr1_label`, ... */
export interface HwmonDevice {
  /** The directory name, `hwmonN`. */
  dir: string;
  /** Where the `device` link points (e.g. the I2C device `1-0040`), when there is one. */
  device?: string;
  files: Record<string, string>;
}

/** The files of one `/sys/class/power_supply/<name>`: `type`, `online`, `voltage_now`, `current_now`, `power_now`. */
export interface PowerSupply {
  name: string;
  files: Record<string, string>;
}

/** The files of one `/sys/class/thermal/thermal_zoneN`. */
export interface ThermalZone {
  dir: string;
  files: Record<string, string>;
}

export interface Temperature {
  zone: string;
  celsius: number;
}

/** What one snapshot of the sensor classes gives. */
export interface Parsed {
  readings: Reading[];
  temperatures: Temperature[];
  problems: Problem[];
}

/** Where a file of an entry lives, for messages: `(dir, file) => path`. */
export type Where = (dir: string, file: string) => string;

/** The input channels that hwmon reports, in mV, mA and µW (Documentation/hwmon/sysfs-interface). */
const HWMON_CHANNEL = /^(in|curr|power)(\d+)_input$/;
const HWMON_DIVISOR = { in: 1e3, curr: 1e3, power: 1e6 } as const;
const HWMON_KIND = { in: 'voltage', curr: 'current', power: 'power' } as const;

/** A whole number as sysfs writes it (values may be negative: a discharging current), or undefined. */
export function parseInteger(text: string): number | undefined {
  const trimmed = text.trim();
  const value = Number(trimmed);
  return /^-?\d+$/.test(trimmed) && Number.isSafeInteger(value) ? value : undefined;
}

/**
 * Parses every source of one snapshot. Sensor names are made unique: hwmon chips that share a name are told
 * apart by their device (`ina219@1-0040`, or `ina219@hwmon2` without a device link), equal labels within a chip
 * by their channel (`ina3221/VDD@in2`), thermal zones that share a type by their directory
 * (`acpitz@thermal_zone1`). A power supply's own hwmon mirror (`power_supply_hwmon`, which the kernel names
 * after the supply with `-` turned into `_`) is left out, so that a supply is reported once, under its name.
 */
export function parseSnapshot(
  sources: { hwmon: readonly HwmonDevice[]; supplies: readonly PowerSupply[]; zones: readonly ThermalZone[] },
  where: { hwmon: Where; supply: Where; zone: Where },
): Parsed {
  const problems: Problem[] = [];
  const mirrors = new Set(sources.supplies.map((supply) => supply.name.replace(/-/g, '_')));
  const chips = sources.hwmon.filter((device) => !mirrors.has((device.files.name ?? '').trim()));
  const prefixes = uniqueNames(chips, (device) => (device.files.name ?? '').trim() || device.dir, (device) => device.device ?? device.dir);
  const readings = [
    ...chips.flatMap((device, i) => hwmonReadings(device, prefixes[i]!, where.hwmon, problems)),
    ...sources.supplies.flatMap((supply) => supplyReadings(supply, where.supply, problems)),
  ];
  return { readings: uniqueSensors(readings), temperatures: temperatures(sources.zones, where.zone, problems), problems };
}

/** The readings of one hwmon chip, with power computed as V×I for a channel that has both but no power. */
function hwmonReadings(device: HwmonDevice, prefix: string, where: Where, problems: Problem[]): Reading[] {
  const label = (channel: string): string | undefined => device.files[`${channel}_label`]?.trim() || undefined;
  const readings: Reading[] = [];
  const byChannel = new Map<string, Reading>();
  for (const file of Object.keys(device.files).sort(naturally)) {
    const text = device.files[file]!;
    const match = HWMON_CHANNEL.exec(file);
    if (!match) continue;
    const [, type, index] = match as unknown as [string, keyof typeof HWMON_DIVISOR, string];
    const raw = parseInteger(text);
    if (raw === undefined) {
      problems.push(notANumber(where(device.dir, file), text));
      continue;
    }
    const channel = `${type}${index}`;
    const reading = { kind: HWMON_KIND[type], sensor: `${prefix}/${label(channel) ?? channel}`, channel, value: raw / HWMON_DIVISOR[type] };
    readings.push(reading);
    byChannel.set(channel, reading);
  }
  for (const voltage of readings.filter((reading) => reading.kind === 'voltage')) {
    const index = voltage.channel.slice('in'.length);
    const current = byChannel.get(`curr${index}`);
    if (!current || byChannel.has(`power${index}`)) continue;
    const name = label(`curr${index}`) ?? label(`in${index}`) ?? `power${index}`;
    readings.push({ kind: 'power', sensor: `${prefix}/${name}`, channel: `power${index}`, value: voltage.value * current.value });
  }
  return readings;
}

/** The readings of one power supply (µV, µA, µW), with power computed as V×I where it reports no power. */
function supplyReadings(supply: PowerSupply, where: Where, problems: Problem[]): Reading[] {
  const value = (file: string): number | undefined => {
    const text = supply.files[file];
    if (text === undefined) return undefined;
    const raw = parseInteger(text);
    if (raw === undefined) problems.push(notANumber(where(supply.name, file), text));
    return raw === undefined ? undefined : raw / 1e6;
  };
  const reading = (kind: Kind, channel: string, number: number | undefined): Reading[] =>
    number === undefined ? [] : [{ kind, sensor: supply.name, channel, value: number }];
  const [volts, amps, watts] = [value('voltage_now'), value('current_now'), value('power_now')];
  const computed = watts === undefined && volts !== undefined && amps !== undefined ? volts * amps : undefined;
  return [
    ...reading('voltage', 'voltage_now', volts),
    ...reading('current', 'current_now', amps),
    ...reading('power', 'power_now', watts ?? computed),
  ];
}

function temperatures(zones: readonly ThermalZone[], where: Where, problems: Problem[]): Temperature[] {
  const names = uniqueNames(zones, (zone) => (zone.files.type ?? '').trim() || zone.dir, (zone) => zone.dir);
  return zones.flatMap((zone, i) => {
    if (zone.files.temp === undefined) return [];
    const raw = parseInteger(zone.files.temp);
    if (raw === undefined) {
      problems.push(notANumber(where(zone.dir, 'temp'), zone.files.temp));
      return [];
    }
    return [{ zone: names[i]!, celsius: raw / 1000 }];
  });
}

/**
 * Names the items; where several share a name, each of them gets `@<tag>` appended. A name that still collides
 * (a chip whose own name is another's tagged one, such as `ina219@hwmon1`) gets `#2`, `#3`, ... as well, so that
 * no two series end up with the same labels.
 */
function uniqueNames<T>(items: readonly T[], name: (item: T) => string, tag: (item: T) => string): string[] {
  const names = items.map(name);
  const taken = new Set<string>();
  return names.map((itemName, i) => {
    const tagged = names.indexOf(itemName) !== names.lastIndexOf(itemName) ? `${itemName}@${tag(items[i]!)}` : itemName;
    let unique = tagged;
    for (let n = 2; taken.has(unique); n++) unique = `${tagged}#${n}`;
    taken.add(unique);
    return unique;
  });
}

/** Tells apart readings of one kind that share a sensor name by their channel. */
function uniqueSensors(readings: readonly Reading[]): Reading[] {
  const names = uniqueNames(readings, (reading) => `${reading.kind}\u0000${reading.sensor}`, (reading) => reading.channel);
  return readings.map((reading, i) => ({ ...reading, sensor: names[i]!.slice(reading.kind.length + 1) }));
}

/** `in2_input` before `in10_input`. */
function naturally(a: string, b: string): number {
  return a.localeCompare(b, 'en', { numeric: true });
}

function notANumber(file: string, text: string): Problem {
  return { file, message: `${file} holds ${JSON.stringify(text.trim())}, not a whole number` };
}

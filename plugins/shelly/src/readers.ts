/**
 * Pure readers: a Shelly's JSON answer in, samples out. They never throw and never emit a value that is not a
 * finite number, whatever the device (or something pretending to be one) answers; what they cannot read they
 * leave out. Energy comes out as the device's own counter converted to joules: making it monotonic across device
 * resets is the collector's job, since that needs the previous reading.
 */
import type { Sample } from '@edge-metrics/core/plugin';

/** The two HTTP APIs: Gen1 (`/status`) and Gen2+ RPC (`/rpc/...`, spoken by Gen2, Gen3 and Gen4 devices). */
export type Generation = 1 | 2;

export const ENERGY_METRIC = 'shelly_energy_joules_total';
export const POWER_METRIC = 'shelly_power_watts';

const JOULES_PER_WATT_MINUTE = 60;
const JOULES_PER_WATT_HOUR = 3600;
const PHASES = ['a', 'b', 'c'] as const;

type Json = Record<string, unknown>;

/**
 * The API generation from a `GET /shelly` answer: Gen2+ devices name their generation in `gen` (2, 3, 4, ...),
 * Gen1 devices have no `gen` but a `type` such as `SHPLG-S`. Undefined when the answer is neither.
 */
export function generationOf(info: unknown): Generation | undefined {
  if (!isObject(info)) return undefined;
  if (typeof info.gen === 'number' && info.gen >= 2) return 2;
  if (info.gen === undefined && typeof info.type === 'string') return 1;
  return undefined;
}

/**
 * Reads a Gen1 `GET /status` answer: `relays[N].ison`; plugs' and switches' `meters[N]` (`power` W, `total` in
 * watt-minutes); EM/3EM `emeters[N]` (`power` W, `voltage` V, `current` A, `total` Wh); the device's `temperature`
 * and `overtemperature`, reported on every channel since Gen1 devices have one sensor for all.
 */
export function readGen1Status(status: unknown, plug: string, channels: readonly number[]): Sample[] {
  const samples = new SampleList(plug);
  if (!isObject(status)) return samples.list;
  const temperature = firstNumber(status.temperature, validTemperature(status.tmp));
  for (const channel of channels) {
    const relay = itemAt(status.relays, channel);
    const meter = validMeter(itemAt(status.meters, channel));
    const emeter = validMeter(itemAt(status.emeters, channel));
    if (!relay && !meter && !emeter) continue;
    const labels = { channel: String(channel) };
    samples.add(POWER_METRIC, firstNumber(meter?.power, emeter?.power), labels);
    samples.add('shelly_voltage_volts', emeter?.voltage, labels);
    samples.add('shelly_current_amps', emeter?.current, labels);
    samples.add(
      ENERGY_METRIC,
      firstNumber(scaled(meter?.total, JOULES_PER_WATT_MINUTE), scaled(emeter?.total, JOULES_PER_WATT_HOUR)),
      labels,
    );
    samples.add('shelly_relay_on', flag(relay?.ison), labels);
    samples.add('shelly_temperature_celsius', temperature, labels);
    samples.add('shelly_overtemperature', flag(status.overtemperature), labels);
  }
  return samples.list;
}

/**
 * Reads a Gen2+ `Shelly.GetStatus` answer. Channel N is whichever of these components the device has:
 * `switch:N` (output, apower, voltage, current, aenergy.total Wh, temperature.tC, errors), `pm1:N` (power meter),
 * `em1:N` with `em1data:N` (single-phase energy meter), `em:N` with `emdata:N` (three-phase meter: phases a, b, c
 * and their sum). A channel without a temperature of its own reports the device's internal `temperature:0`.
 */
export function readGen2Status(status: unknown, plug: string, channels: readonly number[]): Sample[] {
  const samples = new SampleList(plug);
  if (!isObject(status)) return samples.list;
  const deviceTemperature = objectAt(status, 'temperature:0')?.tC;
  for (const channel of channels) {
    const relay = objectAt(status, `switch:${channel}`);
    const pm1 = objectAt(status, `pm1:${channel}`);
    const em1 = objectAt(status, `em1:${channel}`);
    const em1data = objectAt(status, `em1data:${channel}`);
    const em = objectAt(status, `em:${channel}`);
    const emdata = objectAt(status, `emdata:${channel}`);
    if (!relay && !pm1 && !em1 && !em) continue;
    const labels = { channel: String(channel) };
    samples.add(POWER_METRIC, firstNumber(relay?.apower, pm1?.apower, em1?.act_power, em?.total_act_power), labels);
    samples.add('shelly_voltage_volts', firstNumber(relay?.voltage, pm1?.voltage, em1?.voltage), labels);
    samples.add('shelly_current_amps', firstNumber(relay?.current, pm1?.current, em1?.current, em?.total_current), labels);
    const wattHours = firstNumber(
      objectAt(relay, 'aenergy')?.total,
      objectAt(pm1, 'aenergy')?.total,
      em1data?.total_act_energy,
      emdata?.total_act,
    );
    samples.add(ENERGY_METRIC, scaled(wattHours, JOULES_PER_WATT_HOUR), labels);
    samples.add('shelly_relay_on', flag(relay?.output), labels);
    samples.add('shelly_temperature_celsius', firstNumber(objectAt(relay, 'temperature')?.tC, deviceTemperature), labels);
    if (relay) samples.add('shelly_overtemperature', flag(Array.isArray(relay.errors) && relay.errors.includes('overtemp')), labels);
    if (em) {
      for (const phase of PHASES) {
        const phaseLabels = { ...labels, phase };
        samples.add(POWER_METRIC, em[`${phase}_act_power`], phaseLabels);
        samples.add('shelly_voltage_volts', em[`${phase}_voltage`], phaseLabels);
        samples.add('shelly_current_amps', em[`${phase}_current`], phaseLabels);
        samples.add(ENERGY_METRIC, scaled(emdata?.[`${phase}_total_act_energy`], JOULES_PER_WATT_HOUR), phaseLabels);
      }
    }
  }
  return samples.list;
}

/** Collects samples labelled with the plug, keeping only finite numbers. */
class SampleList {
  readonly list: Sample[] = [];

  constructor(private readonly plug: string) {}

  add(name: string, value: unknown, labels: Record<string, string>): void {
    if (isFiniteNumber(value)) this.list.push({ name, value, labels: { plug: this.plug, ...labels } });
  }
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isFiniteNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

function objectAt(parent: Json | undefined, key: string): Json | undefined {
  const value = parent?.[key];
  return isObject(value) ? value : undefined;
}

function itemAt(list: unknown, index: number): Json | undefined {
  const item: unknown = Array.isArray(list) ? list[index] : undefined;
  return isObject(item) ? item : undefined;
}

/** A Gen1 meter whose self-check failed (`is_valid: false`) measures nothing worth reporting. */
function validMeter(meter: Json | undefined): Json | undefined {
  return meter?.is_valid === false ? undefined : meter;
}

/** Gen1 `tmp: {tC, is_valid}`, the newer spelling of `temperature`. */
function validTemperature(tmp: unknown): unknown {
  return isObject(tmp) && tmp.is_valid !== false ? tmp.tC : undefined;
}

function firstNumber(...values: unknown[]): number | undefined {
  return values.find(isFiniteNumber) as number | undefined;
}

function scaled(value: unknown, factor: number): number | undefined {
  return isFiniteNumber(value) ? value * factor : undefined;
}

function flag(value: unknown): number | undefined {
  return typeof value === 'boolean' ? Number(value) : undefined;
}

/**
 * The TI INA260's register map and unit conversions (datasheet SBOS656, section 8.6), kept apart from any I/O.
 * Register values here are as the chip holds them: 16-bit, most significant byte first on the wire.
 */

export const REGISTER = {
  configuration: 0x00,
  current: 0x01,
  busVoltage: 0x02,
  power: 0x03,
  manufacturerId: 0xfe,
  dieId: 0xff,
} as const;

/** "TI" in ASCII (SBOS656 §8.6.7). */
export const MANUFACTURER_ID = 0x5449;
/** Die ID bits 15:4 (SBOS656 §8.6.8); bits 3:0 are the die revision. */
export const DEVICE_ID = 0x227;

export const FIRST_ADDRESS = 0x40;
export const LAST_ADDRESS = 0x4f;

/** Averaging counts in AVG bit order (configuration bits 11:9, SBOS656 §8.6.1). */
export const AVERAGING_COUNTS = [1, 4, 16, 64, 128, 256, 512, 1024] as const;
/** Conversion times in microseconds in VBUSCT/ISHCT bit order (configuration bits 8:6 and 5:3). */
export const CONVERSION_TIMES_US = [140, 204, 332, 588, 1100, 2116, 4156, 8244] as const;

export type AveragingCount = (typeof AVERAGING_COUNTS)[number];
export type ConversionTimeUs = (typeof CONVERSION_TIMES_US)[number];

/** Bits 14:12 read 110 after a power-on reset (power-on value 6127h); they are written back unchanged. */
const CONFIGURATION_FIXED_BITS = 0x6000;
/** MODE 111: current and bus voltage, continuous. */
const MODE_CONTINUOUS = 0b111;

/**
 * The LSBs are fixed by the integrated 2 mΩ shunt (SBOS656 §8.6.2–8.6.4). Scaling in milli-units and then dividing
 * by 1000 keeps round readings round (4080 × 1.25 mV is 5.1 V, not 5.1000000000000005 V).
 */
const MILLIAMPS_PER_LSB = 1.25;
const MILLIVOLTS_PER_LSB = 1.25;
const MILLIWATTS_PER_LSB = 10;

/**
 * Linux's SMBus word read (`i2c_smbus_read_word_data`) puts the first byte on the wire in the low byte, but
 * the INA260 sends its registers most significant byte first: swapping turns one into the other, both ways.
 */
export function swapBytes(word: number): number {
  return ((word & 0xff) << 8) | ((word >> 8) & 0xff);
}

/** Current register: two's complement, negative when current flows from IN− to IN+ (SBOS656 §8.5.1). */
export function decodeCurrentAmps(register: number): number {
  const signed = register & 0x8000 ? register - 0x10000 : register;
  return (signed * MILLIAMPS_PER_LSB) / 1000;
}

/** Bus voltage register: unsigned. */
export function decodeBusVoltageVolts(register: number): number {
  return (register * MILLIVOLTS_PER_LSB) / 1000;
}

/** Power register: unsigned, positive even when the current is negative (SBOS656 §8.5.1). */
export function decodePowerWatts(register: number): number {
  return (register * MILLIWATTS_PER_LSB) / 1000;
}

/** The configuration word for continuous measurement with the same conversion time for bus voltage and current. */
export function encodeConfiguration(averaging: AveragingCount, conversionTimeUs: ConversionTimeUs): number {
  const avg = AVERAGING_COUNTS.indexOf(averaging);
  const ct = CONVERSION_TIMES_US.indexOf(conversionTimeUs);
  if (avg < 0) throw new RangeError(`averaging ${averaging} is not one of ${AVERAGING_COUNTS.join(', ')}`);
  if (ct < 0) throw new RangeError(`conversion_time ${conversionTimeUs} µs is not one of ${CONVERSION_TIMES_US.join(', ')}`);
  return CONFIGURATION_FIXED_BITS | (avg << 9) | (ct << 6) | (ct << 3) | MODE_CONTINUOUS;
}

/** Why the identification registers do not belong to an INA260, or undefined when they do. */
export function identificationProblem(manufacturerId: number, dieId: number): string | undefined {
  if (manufacturerId !== MANUFACTURER_ID) {
    return `manufacturer ID ${hex16(manufacturerId)} (register 0xFE), an INA260 reads ${hex16(MANUFACTURER_ID)} ("TI")`;
  }
  if (dieId >> 4 !== DEVICE_ID) {
    return `die ID ${hex16(dieId)} (register 0xFF), an INA260 reads ${hex16(DEVICE_ID << 4)} to ${hex16((DEVICE_ID << 4) | 0xf)}`;
  }
  return undefined;
}

/** Accepts 64 or "0x40" (hex, as i2cdetect prints addresses); returns undefined for anything else. */
export function parseAddress(value: number | string): number | undefined {
  const address = typeof value === 'number' ? value : /^0x[0-9a-f]{1,2}$/i.test(value) ? Number.parseInt(value, 16) : NaN;
  return Number.isInteger(address) && address >= FIRST_ADDRESS && address <= LAST_ADDRESS ? address : undefined;
}

export function hexAddress(address: number): string {
  return `0x${address.toString(16).padStart(2, '0')}`;
}

function hex16(value: number): string {
  return `0x${value.toString(16).padStart(4, '0')}`;
}

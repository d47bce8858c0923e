/**
 * Parsers for the output of Raspberry Pi's `vcgencmd`, kept apart from running it.
 */

/**
 * The bits of `vcgencmd get_throttled`, as documented by Raspberry Pi (documentation/asciidoc/computers/os/
 * graphics-utilities.adoc, "get_throttled"): bits 0–3 are the state now, bits 16–19 whether it happened since boot.
 */
export const THROTTLED_FLAGS = [
  { bit: 0, flag: 'under_voltage_now' },
  { bit: 1, flag: 'arm_frequency_capped_now' },
  { bit: 2, flag: 'throttled_now' },
  { bit: 3, flag: 'soft_temperature_limit_now' },
  { bit: 16, flag: 'under_voltage_occurred' },
  { bit: 17, flag: 'arm_frequency_capped_occurred' },
  { bit: 18, flag: 'throttled_occurred' },
  { bit: 19, flag: 'soft_temperature_limit_occurred' },
] as const;

export type ThrottledFlag = (typeof THROTTLED_FLAGS)[number]['flag'];

/** `throttled=0x50005` → each documented flag, true when its bit is set. */
export function parseThrottled(output: string): Record<ThrottledFlag, boolean> {
  const match = /^throttled=(0x[0-9a-f]+)$/i.exec(output.trim());
  if (!match) throw new Error(`'vcgencmd get_throttled' printed ${JSON.stringify(firstLine(output))}, not throttled=0x<hex>`);
  const bits = Number.parseInt(match[1]!, 16);
  return Object.fromEntries(
    THROTTLED_FLAGS.map(({ bit, flag }) => [flag, (bits & (1 << bit)) !== 0]),
  ) as Record<ThrottledFlag, boolean>;
}

export interface PmicRail {
  /** The PMIC's channel name without its `_A`/`_V` suffix, e.g. `VDD_CORE`. */
  rail: string;
  amps: number;
  volts: number;
  watts: number;
}

/** One reading line of `vcgencmd pmic_read_adc`, e.g. `  VDD_CORE_A current(7)=0.75012000A`. */
const READING = /^\s*(\S+)_([AV])\s+(?:current|volt)\(\d+\)=(\d+(?:\.\d+)?)([AV])\s*$/;

/**
 * The rails of a Raspberry Pi 5's PMIC that report both a current (`<RAIL>_A`) and a voltage (`<RAIL>_V`),
 * paired by name (their channel numbers differ), in the order the PMIC lists their currents. Voltage-only
 * channels (EXT5V, BATT) carry no current and so give no power. Lines that are not readings are skipped, as are
 * numbers too large to be one (they, or the power computed from them, would come out as Infinity).
 */
export function parsePmicAdc(output: string): PmicRail[] {
  const amps = new Map<string, number>();
  const volts = new Map<string, number>();
  for (const line of output.split(/\r?\n|\0/)) {
    const match = READING.exec(line);
    if (!match || match[2] !== match[4]) continue;
    (match[2] === 'A' ? amps : volts).set(match[1]!, Number(match[3]));
  }
  return [...amps].flatMap(([rail, a]) => {
    const v = volts.get(rail);
    return v === undefined || !Number.isFinite(a * v) ? [] : [{ rail, amps: a, volts: v, watts: a * v }];
  });
}

function firstLine(output: string): string {
  return output.trim().split('\n')[0] ?? '';
}

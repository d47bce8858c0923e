/**
 * Parses one line of `tegrastats` output into named readings. Pure: a line in, values out.
 *
 * tegrastats prints space-separated fields whose set and spelling change with every board and JetPack
 * (`POM_5V_IN 1022/1022` on a Nano, `VDD_GPU_SOC 2391mW/2391mW` on an Orin, `cpu@52.968C/52.968C` and
 * `VIN 19780mW/19780mW/19780mW` on JetPack 7). The line is read left to right: at each position the first
 * field rule that matches consumes its text; text no rule knows is skipped one word at a time and reported in
 * `unrecognized`, so that a new field in a future JetPack costs that field only.
 */

export interface UsageAndFrequency {
  usagePercent?: number;
  freqMhz?: number;
}

/** One CPU core as printed: its load and clock, or `off` when the core is powered down. */
export type CpuCore = { usagePercent: number; freqMhz?: number } | 'off';

export interface TegrastatsReading {
  ram?: { usedMb: number; totalMb: number };
  swap?: { usedMb: number; totalMb: number };
  /** In the printed order, `off` cores included, so that core N keeps its number. */
  cpuCores: CpuCore[];
  /** `GR3D_FREQ`, the integrated GPU. */
  gpu?: UsageAndFrequency;
  /** `EMC_FREQ`, the external memory controller. */
  emc?: UsageAndFrequency;
  /** Other engines' clocks by printed name without `_FREQ` (`APE`, `NVDEC`, `NVDLA0`, ...); `off` engines are absent. */
  engineFreqMhz: Map<string, number>;
  /** Temperatures by printed zone (`cpu`, `SOC0`, `tj`, ...); zones reading -256 °C (no reading) are absent. */
  temperaturesCelsius: Map<string, number>;
  /** Each rail's instantaneous power by printed name; `NC` (not connected) rails are absent. */
  railsMilliwatts: Map<string, number>;
  /** Words no rule understood, skipped. */
  unrecognized: string[];
}

/** A line that is not a tegrastats sample: every sample starts with the RAM field. */
export class TegrastatsLineError extends Error {
  override readonly name = 'TegrastatsLineError';
}

/** tegrastats prints -256 °C for a zone it cannot read (e.g. a power-gated GPU on AGX Orin). */
const NO_TEMPERATURE_READING = -256;

const NUMBER = String.raw`-?\d+(?:\.\d+)?`;
/** A clock in MHz, either one value or one per GPC, e.g. `[305,305]`. */
const CLOCK = String.raw`\[[\d,]+\]|\d+(?:\.\d+)?`;
/** A field name such as `VDD_GPU_SOC`, `NVDLA0_FREQ`, `soc012`. */
const NAME = String.raw`[A-Za-z][A-Za-z0-9_]*`;
/** One entry of the CPU list: `12%@1190`, `17%` or `off`. */
const CORE = String.raw`(?:\d+(?:\.\d+)?%(?:@\d+)?|off)`;
const END = String.raw`(?=\s|$)`;
const MEMORY_UNIT_MB: Record<string, number> = { kB: 1 / 1024, KB: 1 / 1024, MB: 1, GB: 1024 };

interface FieldRule {
  pattern: RegExp;
  apply(match: RegExpExecArray, reading: TegrastatsReading): void;
}

/** Anchored patterns, tried in order on the rest of the line; the first that matches consumes its text. */
const FIELD_RULES: FieldRule[] = [
  {
    // RAM 2344/7852MB (lfb 1154x4MB)
    pattern: rule(String.raw`RAM (\d+)\/(\d+)([kKMG]B)(?: ?\(lfb [^)]*\))?`),
    apply: ([, used, total, unit], reading) => {
      reading.ram = { usedMb: megabytes(used!, unit!), totalMb: megabytes(total!, unit!) };
    },
  },
  {
    // SWAP 0/3926MB (cached 0MB)
    pattern: rule(String.raw`SWAP (\d+)\/(\d+)([kKMG]B)(?: ?\(cached [^)]*\))?`),
    apply: ([, used, total, unit], reading) => {
      reading.swap = { usedMb: megabytes(used!, unit!), totalMb: megabytes(total!, unit!) };
    },
  },
  {
    // IRAM 0/252kB(lfb 252kB): memory of the video engines, not reported.
    pattern: rule(String.raw`IRAM \d+\/\d+[kKMG]B ?(?:\(lfb [^)]*\))?`),
    apply: () => undefined,
  },
  {
    // CPU [12%@1190,off,...] or, on old releases, cpu [17%,13%]@408 with one clock for all cores.
    pattern: rule(String.raw`(?:CPU|cpu) \[(${CORE}(?:,${CORE})*)\](?:@(\d+))?`),
    apply: ([, cores, sharedFreq], reading) => {
      reading.cpuCores = cores!.split(',').map((core) => cpuCore(core, sharedFreq));
    },
  },
  {
    // MTS fg 0% bg 0%: Denver's foreground/background load, not reported.
    pattern: rule(String.raw`MTS fg \d+% bg \d+%`),
    apply: () => undefined,
  },
  {
    // VDD_IN 3056/3056, VDD_GPU_SOC 2391mW/2391mW, VIN 87426mW/43713mW/87426mW: instantaneous/average[/max].
    pattern: rule(`(${NAME}) (${NUMBER})(?:mW)?\\/${NUMBER}(?:mW)?(?:\\/${NUMBER}(?:mW)?)?`),
    apply: ([, rail, milliwatts], reading) => {
      if (rail !== 'NC' && !reading.railsMilliwatts.has(rail!)) reading.railsMilliwatts.set(rail!, Number(milliwatts));
    },
  },
  {
    // cpu@45.5C, CV0@-256C, or current/max on JetPack 7: cpu@52.968C/52.968C
    pattern: rule(`(${NAME})@(${NUMBER})C(?:\\/${NUMBER}C)?`),
    apply: ([, zone, celsius], reading) => {
      const value = Number(celsius);
      if (value > NO_TEMPERATURE_READING && !reading.temperaturesCelsius.has(zone!)) {
        reading.temperaturesCelsius.set(zone!, value);
      }
    },
  },
  {
    // GR3D_FREQ 0%@[305,305], EMC_FREQ 4%@1600, GR3D_FREQ 0%, VIC 0%@115
    pattern: rule(`(${NAME}) (${NUMBER})%(?:@(${CLOCK}))?`),
    apply: ([, name, usage, clock], reading) => recordEngine(reading, name!, Number(usage), clock),
  },
  {
    // EMC_FREQ @2133, GR3D_FREQ @[314,314,314], NVDLA0_FREQ @1600, APE 150, VIC_FREQ 729
    pattern: rule(`(${NAME}) @?(${CLOCK})`),
    apply: ([, name, clock], reading) => recordEngine(reading, name!, undefined, clock),
  },
  {
    // NVENC off, PVA0_FREQ off: a powered-down engine has no clock.
    pattern: rule(`${NAME} (?:off|OFF)`),
    apply: () => undefined,
  },
];

/** An optional leading `--timestamp` date, e.g. `11-21-2025 08:49:48 `. */
const TIMESTAMP = /^\d{2}-\d{2}-\d{4} \d{2}:\d{2}:\d{2} /;
const WORD = /^\S+/;

/**
 * Parses one tegrastats line. Throws a `TegrastatsLineError` when the line is not a tegrastats sample (a
 * warning, an error message, binary noise).
 */
export function parseTegrastatsLine(line: string): TegrastatsReading {
  const text = line.trim().replace(/\s+/g, ' ').replace(TIMESTAMP, '');
  const reading: TegrastatsReading = {
    cpuCores: [],
    engineFreqMhz: new Map(),
    temperaturesCelsius: new Map(),
    railsMilliwatts: new Map(),
    unrecognized: [],
  };
  let rest = text;
  while (rest.length > 0) {
    const match = matchField(rest);
    if (match) {
      match.rule.apply(match.groups, reading);
      rest = rest.slice(match.groups[0].length);
    } else {
      const word = WORD.exec(rest)![0];
      reading.unrecognized.push(word);
      rest = rest.slice(word.length);
    }
    rest = rest.trimStart();
  }
  if (!reading.ram) {
    throw new TegrastatsLineError(`not a tegrastats line (it has no RAM field): ${JSON.stringify(line.slice(0, 160))}`);
  }
  return reading;
}

function matchField(rest: string): { rule: FieldRule; groups: RegExpExecArray } | undefined {
  for (const fieldRule of FIELD_RULES) {
    const groups = fieldRule.pattern.exec(rest);
    if (groups) return { rule: fieldRule, groups };
  }
  return undefined;
}

function rule(source: string): RegExp {
  return new RegExp(`^${source}${END}`);
}

function megabytes(value: string, unit: string): number {
  return Number(value) * MEMORY_UNIT_MB[unit]!;
}

function cpuCore(text: string, sharedFreq: string | undefined): CpuCore {
  if (text === 'off') return 'off';
  const [usage, ownFreq] = text.split('@');
  const freq = ownFreq ?? sharedFreq;
  const usagePercent = Number(usage!.slice(0, -1));
  return freq === undefined ? { usagePercent } : { usagePercent, freqMhz: Number(freq) };
}

/** `[407,407]` gives the clock of each GPC; they run together, so the highest is the GPU's clock. */
function clockMhz(clock: string): number {
  return Math.max(...clock.replace(/[[\]]/g, '').split(',').map(Number));
}

function recordEngine(reading: TegrastatsReading, printedName: string, usagePercent: number | undefined, clock?: string): void {
  const name = printedName.replace(/_FREQ$/, '');
  const freqMhz = clock === undefined ? undefined : clockMhz(clock);
  const unit = name === 'GR3D' ? 'gpu' : name === 'EMC' ? 'emc' : undefined;
  if (unit) {
    reading[unit] ??= {
      ...(usagePercent === undefined ? {} : { usagePercent }),
      ...(freqMhz === undefined ? {} : { freqMhz }),
    };
  } else if (freqMhz !== undefined && !reading.engineFreqMhz.has(name)) {
    reading.engineFreqMhz.set(name, freqMhz);
  }
}

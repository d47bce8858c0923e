import type { Sample } from '@edge-metrics/core/plugin';
import type { TegrastatsReading } from './tegrastats';

/**
 * Names the readings of one tegrastats line as the exporter's metrics (the names users of the old exporter
 * query), and derives the cross-device power figures from the board's rails.
 */

/** Rails that measure the module's whole input: Nano (`POM_5V_IN`), TX1/TX2/Xavier NX/Orin NX and Nano (`VDD_IN`), Thor's carrier-board monitor (`VIN`). */
const INPUT_RAILS = ['VDD_IN', 'POM_5V_IN', 'VIN'];

/**
 * Rails that carry the CPU (and only the CPU among CPU and GPU), best first. Boards that print one rail for
 * CPU and GPU together (`VDD_CPU_GPU_CV` on Xavier NX, Orin NX and Orin Nano) have neither figure: that rail
 * cannot be split, and it is exported as `jetson_power_vdd_cpu_gpu_cv_watts` only.
 */
const CPU_RAILS = [
  'VDD_CPU_CV', // AGX Orin: CPU and the CV accelerators (DLA, PVA)
  'VDD_CPU_SOC_MSS', // Thor: CPU, SoC and memory subsystem
  'VDD_CPU', // TX1
  'VDD_SYS_CPU', // TX2
  'POM_5V_CPU', // Nano
  'CPU', // AGX Xavier
];

/** Rails that carry the GPU (and only the GPU among CPU and GPU), best first. */
const GPU_RAILS = [
  'VDD_GPU_SOC', // AGX Orin: GPU and SoC
  'VDD_GPU', // TX1, Thor
  'VDD_SYS_GPU', // TX2
  'POM_5V_GPU', // Nano
  'GPU', // AGX Xavier
];

/** Lower-cases a printed name and turns every character other than a-z0-9 into `_`: `VDD_GPU_SOC` → `vdd_gpu_soc`. */
export function metricPart(printed: string): string {
  return printed.toLowerCase().replace(/[^a-z0-9]/g, '_');
}

/** The samples of one reading, in a stable order, each series once. */
export function jetsonSamples(reading: TegrastatsReading): Sample[] {
  const values = new Map<string, number>();
  const put = (name: string, value: number | undefined): void => {
    if (value !== undefined && Number.isFinite(value) && !values.has(name)) values.set(name, value);
  };

  for (const [rail, milliwatts] of reading.railsMilliwatts) put(`jetson_power_${metricPart(rail)}_watts`, milliwatts / 1000);
  for (const [zone, celsius] of reading.temperaturesCelsius) put(`jetson_temp_${metricPart(zone)}_celsius`, celsius);

  if (reading.ram) {
    put('jetson_ram_used_mb', reading.ram.usedMb);
    put('jetson_ram_total_mb', reading.ram.totalMb);
    if (reading.ram.totalMb > 0) put('jetson_ram_used_percent', (reading.ram.usedMb / reading.ram.totalMb) * 100);
  }
  if (reading.swap) {
    put('jetson_swap_used_mb', reading.swap.usedMb);
    put('jetson_swap_total_mb', reading.swap.totalMb);
  }

  if (reading.cpuCores.length > 0) {
    const online = reading.cpuCores.flatMap((core, index) => (core === 'off' ? [] : [{ ...core, index }]));
    for (const core of online) {
      put(`jetson_cpu_core${core.index}_usage_percent`, core.usagePercent);
      put(`jetson_cpu_core${core.index}_freq_mhz`, core.freqMhz);
    }
    put('jetson_cpu_online_cores', online.length);
    if (online.length > 0) put('jetson_cpu_avg_usage_percent', sum(online.map((core) => core.usagePercent)) / online.length);
  }

  put('jetson_gpu_usage_percent', reading.gpu?.usagePercent);
  put('jetson_gpu_freq_mhz', reading.gpu?.freqMhz);
  put('jetson_emc_usage_percent', reading.emc?.usagePercent);
  put('jetson_emc_freq_mhz', reading.emc?.freqMhz);
  for (const [engine, freqMhz] of reading.engineFreqMhz) put(`jetson_${metricPart(engine)}_freq_mhz`, freqMhz);

  put('power_total_watts', totalMilliwatts(reading.railsMilliwatts) / 1000);
  put('power_cpu_watts', firstRail(reading.railsMilliwatts, CPU_RAILS) / 1000);
  put('power_gpu_watts', firstRail(reading.railsMilliwatts, GPU_RAILS) / 1000);

  return [...values].map(([name, value]) => ({ name, value }));
}

/**
 * The module's input rail where the board prints one; otherwise (AGX Xavier, AGX Orin, Thor without its
 * carrier-board monitor) the sum of the printed rails, which together make up the board's draw.
 */
function totalMilliwatts(rails: ReadonlyMap<string, number>): number {
  const input = firstRail(rails, INPUT_RAILS);
  if (!Number.isNaN(input)) return input;
  return rails.size > 0 ? sum([...rails.values()]) : NaN;
}

/** The first of `candidates` that the board prints, NaN (not exported) when it prints none. */
function firstRail(rails: ReadonlyMap<string, number>, candidates: readonly string[]): number {
  const rail = candidates.find((name) => rails.has(name));
  return rail === undefined ? NaN : rails.get(rail)!;
}

function sum(values: readonly number[]): number {
  return values.reduce((total, value) => total + value, 0);
}

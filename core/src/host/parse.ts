/** Pure parsers for the Linux files the host collector reads. */

/** The `/proc/stat` CPU columns in order, named as node_exporter names its `mode` label (guest time is inside user). */
export const CPU_MODES = ['user', 'nice', 'system', 'idle', 'iowait', 'irq', 'softirq', 'steal'] as const;

/** The unit of `/proc/stat`: USER_HZ, 100 on every Linux architecture Node runs on (node_exporter assumes it too). */
export const JIFFIES_PER_SECOND = 100;

export interface CpuTimes {
  /** Jiffies spent idle (idle + iowait). */
  idle: number;
  /** All jiffies (user + nice + system + idle + iowait + irq + softirq + steal; guest is inside user). */
  total: number;
  /** Jiffies per mode, for the columns the kernel writes. */
  modes: Array<[(typeof CPU_MODES)[number], number]>;
}

/** `/proc/stat` → the aggregate `cpu` line and each `cpuN` line, keyed `all` and `N`. */
export function parseProcStat(text: string): Map<string, CpuTimes> {
  const cpus = new Map<string, CpuTimes>();
  for (const line of text.split('\n')) {
    const match = /^cpu(\d*)\s+(.*)$/.exec(line);
    if (!match) continue;
    const fields = match[2]!.trim().split(/\s+/).slice(0, CPU_MODES.length).map(Number);
    if (fields.length < 4 || fields.some((field) => !Number.isFinite(field))) continue;
    const [, , , idle = 0, iowait = 0] = fields;
    cpus.set(match[1] === '' ? 'all' : match[1]!, {
      idle: idle + iowait,
      total: fields.reduce((a, b) => a + b, 0),
      modes: fields.map((jiffies, index) => [CPU_MODES[index]!, jiffies]),
    });
  }
  return cpus;
}

/** The time between two readings of the `all` line, in seconds: its jiffies count every online core. */
export function cpuSecondsBetween(before: CpuTimes, after: CpuTimes, cores: number): number {
  return cores > 0 ? (after.total - before.total) / JIFFIES_PER_SECOND / cores : 0;
}

/** Busy share between two readings, in percent; undefined when no time has passed. */
export function cpuUsagePercent(before: CpuTimes, after: CpuTimes): number | undefined {
  const total = after.total - before.total;
  if (total <= 0) return undefined;
  const busy = total - (after.idle - before.idle);
  return Math.min(100, Math.max(0, (busy / total) * 100));
}

/** `/proc/meminfo` → bytes per key (`MemTotal: 16318480 kB` → `MemTotal` → 16710123520). */
export function parseMeminfo(text: string): Map<string, number> {
  const values = new Map<string, number>();
  for (const line of text.split('\n')) {
    const match = /^(\w+(?:\(\w+\))?):\s+(\d+)(?:\s+kB)?$/.exec(line.trim());
    if (match) values.set(match[1]!, Number(match[2]) * (line.includes('kB') ? 1024 : 1));
  }
  return values;
}

/** `/proc/loadavg` → the 1, 5 and 15 minute load averages. */
export function parseLoadavg(text: string): [number, number, number] | undefined {
  const fields = text.trim().split(/\s+/).slice(0, 3).map(Number);
  return fields.length === 3 && fields.every(Number.isFinite) ? (fields as [number, number, number]) : undefined;
}

/** A thermal zone's `temp` (millidegrees Celsius) → degrees; undefined for garbage. */
export function parseMillidegrees(text: string): number | undefined {
  const value = Number(text.trim());
  return text.trim() !== '' && Number.isFinite(value) ? value / 1000 : undefined;
}

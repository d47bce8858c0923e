import { readFileSync } from 'node:fs';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { API_VERSION, type Collector, type CollectorPlugin, type PluginManifest, type Sample } from '../plugin-api';
import { JIFFIES_PER_SECOND, cpuSecondsBetween, cpuUsagePercent, parseLoadavg, parseMeminfo, parseMillidegrees, parseProcStat, type CpuTimes } from './parse';

export const HOST_DEVICE_TYPE = 'host';

const manifest: PluginManifest = {
  name: 'edge-collector-host',
  apiVersion: API_VERSION,
  deviceTypes: [HOST_DEVICE_TYPE],
  metrics: [
    { name: 'host_cpu_usage_percent', help: 'CPU busy time over the last interval, all cores', type: 'gauge', unit: 'percent' },
    { name: 'host_cpu_core_usage_percent', help: 'CPU busy time over the last interval, per core', type: 'gauge', unit: 'percent', labels: ['core'] },
    { name: 'host_cpu_seconds_total', help: 'Seconds each core spent in each mode, from /proc/stat', type: 'counter', unit: 'seconds', labels: ['core', 'mode'] },
    { name: 'host_memory_total_bytes', help: 'Total usable memory (MemTotal)', type: 'gauge', unit: 'bytes' },
    { name: 'host_memory_used_bytes', help: 'Memory in use: MemTotal - MemAvailable', type: 'gauge', unit: 'bytes' },
    { name: 'host_memory_used_percent', help: 'Memory in use, percent of MemTotal', type: 'gauge', unit: 'percent' },
    { name: 'host_load1', help: '1-minute load average', type: 'gauge' },
    { name: 'host_load5', help: '5-minute load average', type: 'gauge' },
    { name: 'host_load15', help: '15-minute load average', type: 'gauge' },
    { name: 'host_temp_celsius', help: 'Thermal zone temperature', type: 'gauge', unit: 'celsius', labels: ['zone'] },
  ],
  optionsSchema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      proc_root: { type: 'string', default: '/proc', description: 'Where procfs is mounted' },
      sysfs_root: { type: 'string', default: '/sys', description: 'Where sysfs is mounted' },
    },
  },
};

/**
 * The built-in collector for any Linux machine: CPU usage from /proc/stat, memory from /proc/meminfo, load from
 * /proc/loadavg and temperatures from /sys/class/thermal. `device_type: auto` falls back to it.
 */
export const hostPlugin: CollectorPlugin = {
  manifest,
  create(options, context) {
    return new HostCollector(String(options.proc_root), String(options.sysfs_root), context.interval);
  },
};

class HostCollector implements Collector {
  private previousCpu: Map<string, CpuTimes> | undefined;
  /** The last value of each `host_cpu_seconds_total` series: a counter never goes back (iowait can, per core). */
  private readonly cpuSeconds = new Map<string, number>();

  constructor(
    private readonly procRoot: string,
    private readonly sysfsRoot: string,
    private readonly interval: number,
  ) {}

  start(): Promise<void> {
    this.previousCpu = this.readCpu();
    return Promise.resolve();
  }

  async collect(): Promise<Sample[]> {
    const cpu = this.readCpu();
    const meminfo = parseMeminfo(this.readProc('meminfo'));
    const loadavg = parseLoadavg(this.readProc('loadavg'));
    const temperatures = await this.readTemperatures();
    const samples: Sample[] = [...this.usageSamples(cpu), ...this.secondsSamples(cpu), ...temperatures];
    const total = meminfo.get('MemTotal');
    const available = meminfo.get('MemAvailable') ?? meminfo.get('MemFree');
    if (total !== undefined && available !== undefined && total > 0) {
      samples.push(
        { name: 'host_memory_total_bytes', value: total },
        { name: 'host_memory_used_bytes', value: total - available },
        { name: 'host_memory_used_percent', value: ((total - available) / total) * 100 },
      );
    }
    if (loadavg) {
      samples.push(
        { name: 'host_load1', value: loadavg[0] },
        { name: 'host_load5', value: loadavg[1] },
        { name: 'host_load15', value: loadavg[2] },
      );
    }
    return samples;
  }

  private readCpu(): Map<string, CpuTimes> {
    return parseProcStat(this.readProc('stat'));
  }

  /**
   * The kernel writes a /proc file when it is read, without disk I/O or waiting on a device: read at once, at a tenth
   * of the CPU time of an asynchronous read and its thread-pool round trips. (Thermal zones stay asynchronous: a
   * sensor's driver may wait on its bus.)
   */
  private readProc(name: string): string {
    return readFileSync(join(this.procRoot, name), 'utf8');
  }

  /**
   * Usage since the previous reading, once at least half an interval of CPU time lies between them: a shorter window
   * (the first cycle right after start, a one-shot run) measures a few jiffies of start-up, not the machine. The
   * reading becomes the next baseline only when usage was reported.
   */
  private usageSamples(current: Map<string, CpuTimes>): Sample[] {
    const previous = this.previousCpu;
    const before = previous?.get('all');
    const after = current.get('all');
    const cores = [...current.keys()].filter((cpu) => cpu !== 'all').length;
    if (!previous || !before || !after || cpuSecondsBetween(before, after, cores) < this.interval / 2) {
      this.previousCpu ??= current;
      return [];
    }
    this.previousCpu = current;
    const samples: Sample[] = [];
    for (const [cpu, times] of current) {
      const before = previous.get(cpu);
      const usage = before && cpuUsagePercent(before, times);
      if (usage === undefined) continue;
      samples.push(
        cpu === 'all'
          ? { name: 'host_cpu_usage_percent', value: usage }
          : { name: 'host_cpu_core_usage_percent', value: usage, labels: { core: cpu } },
      );
    }
    return samples;
  }

  /** The cumulative seconds per core and mode, for `rate()` on the server: every busy second counts. */
  private secondsSamples(current: Map<string, CpuTimes>): Sample[] {
    const samples: Sample[] = [];
    for (const [core, times] of current) {
      if (core === 'all') continue;
      for (const [mode, jiffies] of times.modes) {
        const key = `${core}/${mode}`;
        const seconds = Math.max(jiffies / JIFFIES_PER_SECOND, this.cpuSeconds.get(key) ?? 0);
        this.cpuSeconds.set(key, seconds);
        samples.push({ name: 'host_cpu_seconds_total', value: seconds, labels: { core, mode } });
      }
    }
    return samples;
  }

  /** Thermal zones are optional (containers and many VMs have none); a zone that cannot be read is left out. */
  private async readTemperatures(): Promise<Sample[]> {
    const thermal = join(this.sysfsRoot, 'class', 'thermal');
    const zones = (await readdir(thermal).catch(() => [] as string[])).filter((zone) => zone.startsWith('thermal_zone'));
    const readings = await Promise.all(
      zones.map(async (zone) => {
        const [type, temp] = await Promise.all([
          readFile(join(thermal, zone, 'type'), 'utf8').catch(() => zone),
          readFile(join(thermal, zone, 'temp'), 'utf8').catch(() => ''),
        ]);
        return { zone, type: type.trim(), celsius: parseMillidegrees(temp) };
      }),
    );
    const typeCounts = new Map<string, number>();
    for (const { type } of readings) typeCounts.set(type, (typeCounts.get(type) ?? 0) + 1);
    return readings
      .filter((reading) => reading.celsius !== undefined)
      .map(({ zone, type, celsius }) => ({
        name: 'host_temp_celsius',
        value: celsius!,
        // Two zones of one type (two `acpitz`) would be one series: name them by their zone folder too.
        labels: { zone: typeCounts.get(type)! > 1 ? `${type}/${zone}` : type },
      }));
  }
}

import { cp, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { hostPlugin } from '../src/host/plugin';
import type { Sample } from '../src/plugin-api';
import { cpuSecondsBetween, cpuUsagePercent, parseLoadavg, parseMeminfo, parseMillidegrees, parseProcStat } from '../src/host/parse';
import { checkConformance } from '../src/testing';
import { memoryLogger, tempDir } from './helpers';

const FIXTURE = join(__dirname, 'fixtures', 'host', 'debian12-x86_64', 'proc');
/** Two readings 20 ms apart, as a one-shot run used to compare at start-up. */
const STARTUP_FIXTURE = join(__dirname, 'fixtures', 'host', 'debian12-x86_64-startup', 'proc');
const read = (file: string) => readFile(join(FIXTURE, file), 'utf8');

describe('host parsers on real /proc files', () => {
  test('/proc/stat: the aggregate and each CPU, idle including iowait', async () => {
    const cpus = parseProcStat(await read('stat'));
    expect([...cpus.keys()]).toEqual(['all', '0', '1']);
    // cpu  14985 0 3478 203130 168 0 50 11 0 0
    expect(cpus.get('all')).toMatchObject({ idle: 203130 + 168, total: 14985 + 3478 + 203130 + 168 + 50 + 11 });
    // cpu0 3928 0 1516 105350 20 0 20 3 0 0: guest and guest_nice are inside user and nice, so they are not a mode.
    expect(cpus.get('0')!.modes).toEqual([['user', 3928], ['nice', 0], ['system', 1516], ['idle', 105350], ['iowait', 20], ['irq', 0], ['softirq', 20], ['steal', 3]]);
  });

  test('the time between two readings, from the jiffies of every core', async () => {
    const startup = (file: string) => readFile(join(STARTUP_FIXTURE, file), 'utf8').then((text) => parseProcStat(text).get('all')!);
    // cpu  45275 ... → cpu  45279 ...: 4 jiffies on 2 cores at 100 a second.
    expect(cpuSecondsBetween(await startup('stat'), await startup('stat.20ms-later'), 2)).toBeCloseTo(0.02, 10);
  });

  test('CPU usage between two real readings one second apart is a percentage', async () => {
    const before = parseProcStat(await read('stat')).get('all')!;
    const after = parseProcStat(await read('stat.1s-later')).get('all')!;
    const usage = cpuUsagePercent(before, after)!;
    const busy = after.total - before.total - (after.idle - before.idle);
    expect(usage).toBeCloseTo((busy / (after.total - before.total)) * 100, 10);
    expect(cpuUsagePercent(before, before)).toBeUndefined();
  });

  test('/proc/meminfo in bytes', async () => {
    const meminfo = parseMeminfo(await read('meminfo'));
    expect(meminfo.get('MemTotal')).toBe(24684084 * 1024);
    expect(meminfo.get('MemAvailable')).toBe(24271132 * 1024);
    expect(meminfo.get('HugePages_Total')).toBe(0);
  });

  test('/proc/loadavg', async () => {
    expect(parseLoadavg(await read('loadavg'))).toEqual([0.26, 0.15, 0.11]);
    expect(parseLoadavg('garbage')).toBeUndefined();
  });

  test('thermal temp in millidegrees', () => {
    expect(parseMillidegrees('45500\n')).toBe(45.5);
    expect(parseMillidegrees('')).toBeUndefined();
    expect(parseMillidegrees('n/a')).toBeUndefined();
  });
});

describe('host collector', () => {
  let dir: { path: string; cleanup: () => Promise<void> };
  beforeEach(async () => {
    dir = await tempDir();
    await cp(FIXTURE, join(dir.path, 'proc'), { recursive: true });
    for (const [zone, type, temp] of [['thermal_zone0', 'acpitz', '27800'], ['thermal_zone1', 'acpitz', '29800'], ['thermal_zone2', 'x86_pkg_temp', '41000'], ['thermal_zone3', 'broken', 'garbage']]) {
      await mkdir(join(dir.path, 'sys', 'class', 'thermal', zone!), { recursive: true });
      await writeFile(join(dir.path, 'sys', 'class', 'thermal', zone!, 'type'), `${type}\n`);
      await writeFile(join(dir.path, 'sys', 'class', 'thermal', zone!, 'temp'), `${temp}\n`);
    }
  });
  afterEach(() => dir.cleanup());

  const options = () => ({ proc_root: join(dir.path, 'proc'), sysfs_root: join(dir.path, 'sys') });

  const context = (interval: number) => ({ deviceType: 'host', collectorName: 'host', interval, logger: memoryLogger().logger });
  const byName = (samples: Sample[], name: string) => samples.filter((sample) => sample.name === name);

  test('CPU usage once half an interval lies between two readings; memory, load, temperatures and CPU seconds at once', async () => {
    const collector = hostPlugin.create(options(), context(1));
    await collector.start!();
    const first = await collector.collect();
    expect(byName(first, 'host_cpu_usage_percent')).toEqual([]);
    expect(byName(first, 'host_memory_total_bytes')).toHaveLength(1);
    await cp(join(dir.path, 'proc', 'stat.1s-later'), join(dir.path, 'proc', 'stat'));
    const samples = await collector.collect();
    expect(byName(samples, 'host_cpu_usage_percent')).toHaveLength(1);
    expect(byName(samples, 'host_cpu_core_usage_percent').map((sample) => sample.labels)).toEqual([{ core: '0' }, { core: '1' }]);
    expect(byName(samples, 'host_memory_total_bytes')[0]!.value).toBe(24684084 * 1024);
    expect(byName(samples, 'host_memory_used_bytes')[0]!.value).toBe((24684084 - 24271132) * 1024);
    expect(byName(samples, 'host_load15')[0]!.value).toBe(0.11);
    expect(byName(samples, 'host_temp_celsius')).toEqual([
      { name: 'host_temp_celsius', value: 27.8, labels: { zone: 'acpitz/thermal_zone0' } },
      { name: 'host_temp_celsius', value: 29.8, labels: { zone: 'acpitz/thermal_zone1' } },
      { name: 'host_temp_celsius', value: 41, labels: { zone: 'x86_pkg_temp' } },
    ]);
  });

  test('20 ms of start-up gives no CPU usage reading', async () => {
    await cp(join(STARTUP_FIXTURE, 'stat'), join(dir.path, 'proc', 'stat'));
    const collector = hostPlugin.create(options(), context(1));
    await collector.start!();
    await cp(join(STARTUP_FIXTURE, 'stat.20ms-later'), join(dir.path, 'proc', 'stat'));
    expect(byName(await collector.collect(), 'host_cpu_usage_percent')).toEqual([]);
    expect(byName(await collector.collect(), 'host_cpu_core_usage_percent')).toEqual([]);
  });

  test('host_cpu_seconds_total per core and mode in seconds, never going back', async () => {
    const collector = hostPlugin.create(options(), context(1));
    const seconds = (samples: Sample[]) => Object.fromEntries(byName(samples, 'host_cpu_seconds_total').map((sample) => [`${sample.labels!.core}/${sample.labels!.mode}`, sample.value]));
    const first = seconds(await collector.collect());
    // cpu0 3928 0 1516 105350 20 0 20 3 0 0 and cpu1 11057 0 1961 97780 147 0 29 7 0 0, in USER_HZ (100 a second).
    expect(first).toEqual({
      '0/user': 39.28, '0/nice': 0, '0/system': 15.16, '0/idle': 1053.5, '0/iowait': 0.2, '0/irq': 0, '0/softirq': 0.2, '0/steal': 0.03,
      '1/user': 110.57, '1/nice': 0, '1/system': 19.61, '1/idle': 977.8, '1/iowait': 1.47, '1/irq': 0, '1/softirq': 0.29, '1/steal': 0.07,
    });
    await cp(join(dir.path, 'proc', 'stat.1s-later'), join(dir.path, 'proc', 'stat'));
    const later = seconds(await collector.collect());
    expect(later['0/user']).toBe(39.75);
    // The older reading again (per-core iowait can go back in the kernel): the counters keep their highest value.
    await cp(join(FIXTURE, 'stat'), join(dir.path, 'proc', 'stat'));
    expect(seconds(await collector.collect())).toEqual(later);
  });

  test('passes the conformance kit on this machine', async () => {
    const { samples } = await checkConformance(hostPlugin);
    expect(samples.some((sample) => sample.name === 'host_memory_total_bytes')).toBe(true);
  });

  test('a missing /proc is an error that names the file', async () => {
    const collector = hostPlugin.create({ proc_root: join(dir.path, 'nowhere'), sysfs_root: join(dir.path, 'sys') }, { deviceType: 'host', collectorName: 'host', interval: 1, logger: memoryLogger().logger });
    await expect(collector.collect()).rejects.toThrow(`no such file or directory, open '${join(dir.path, 'nowhere')}/`);
  });
});

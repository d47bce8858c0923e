import { cp, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { hostPlugin } from '../src/host/plugin';
import { cpuUsagePercent, parseLoadavg, parseMeminfo, parseMillidegrees, parseProcStat } from '../src/host/parse';
import { checkConformance } from '../src/testing';
import { memoryLogger, tempDir } from './helpers';

const FIXTURE = join(__dirname, 'fixtures', 'host', 'debian12-x86_64', 'proc');
const read = (file: string) => readFile(join(FIXTURE, file), 'utf8');

describe('host parsers on real /proc files', () => {
  test('/proc/stat: the aggregate and each CPU, idle including iowait', async () => {
    const cpus = parseProcStat(await read('stat'));
    expect([...cpus.keys()]).toEqual(['all', '0', '1']);
    // cpu  14985 0 3478 203130 168 0 50 11 0 0
    expect(cpus.get('all')).toEqual({ idle: 203130 + 168, total: 14985 + 3478 + 203130 + 168 + 50 + 11 });
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

  test('reports nothing until the CPU counters move, then usage, memory, load and temperatures', async () => {
    const collector = hostPlugin.create(options(), { deviceType: 'host', collectorName: 'host', interval: 1, logger: memoryLogger().logger });
    await collector.start!();
    expect(await collector.collect()).toEqual([]);
    await cp(join(dir.path, 'proc', 'stat.1s-later'), join(dir.path, 'proc', 'stat'));
    const samples = await collector.collect();
    const byName = (name: string) => samples.filter((sample) => sample.name === name);
    expect(byName('host_cpu_usage_percent')).toHaveLength(1);
    expect(byName('host_cpu_core_usage_percent').map((sample) => sample.labels)).toEqual([{ core: '0' }, { core: '1' }]);
    expect(byName('host_memory_total_bytes')[0]!.value).toBe(24684084 * 1024);
    expect(byName('host_memory_used_bytes')[0]!.value).toBe((24684084 - 24271132) * 1024);
    expect(byName('host_load15')[0]!.value).toBe(0.11);
    expect(byName('host_temp_celsius')).toEqual([
      { name: 'host_temp_celsius', value: 27.8, labels: { zone: 'acpitz/thermal_zone0' } },
      { name: 'host_temp_celsius', value: 29.8, labels: { zone: 'acpitz/thermal_zone1' } },
      { name: 'host_temp_celsius', value: 41, labels: { zone: 'x86_pkg_temp' } },
    ]);
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

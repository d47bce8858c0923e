import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'yaml';
import { ConfigFile } from '../src/config/file';
import { tempDir } from './helpers';

const SEED_CONFIG = `device_type: "jetson_orin"  # Device type
interval: 1                  # Collection interval (seconds)
port: 9100                   # Prometheus metrics port
reload_port: 9101            # Management API port

# Metrics configuration (true: collect, false: don't collect)
# New metrics discovered automatically are added with false (disabled)
metrics:
  jetson_power_vdd_gpu_soc_watts: true
  jetson_temp_gpu_celsius: false
`;

describe('ConfigFile', () => {
  let dir: { path: string; cleanup: () => Promise<void> };
  let path: string;
  beforeEach(async () => {
    dir = await tempDir();
    path = join(dir.path, 'config.yaml');
  });
  afterEach(() => dir.cleanup());

  test("keeps the user's comments and key order, changing only what was asked", async () => {
    await writeFile(path, SEED_CONFIG);
    await new ConfigFile(path).setMetrics({ jetson_temp_gpu_celsius: true, jetson_ram_used_percent: false });
    const text = await readFile(path, 'utf8');
    expect(text).toContain('# Metrics configuration (true: collect, false: don\'t collect)');
    expect(text).toContain('# Collection interval (seconds)');
    expect(text.indexOf('device_type')).toBeLessThan(text.indexOf('interval'));
    expect(parse(text)).toEqual({
      device_type: 'jetson_orin',
      interval: 1,
      port: 9100,
      reload_port: 9101,
      metrics: { jetson_power_vdd_gpu_soc_watts: true, jetson_temp_gpu_celsius: true, jetson_ram_used_percent: false },
    });
  });

  test('keeps the spacing before inline comments, on changed lines too', async () => {
    await writeFile(path, `${SEED_CONFIG}  jetson_cpu_usage_percent: true    # on the fleet dashboard\nlabels:\n  note: "a  #b"  # quoted, not a comment\n`);
    await new ConfigFile(path).setMetrics({ jetson_cpu_usage_percent: false, jetson_ram_used_percent: false });
    const text = await readFile(path, 'utf8');
    expect(text.startsWith(SEED_CONFIG)).toBe(true);
    expect(text).toContain('  jetson_cpu_usage_percent: false   # on the fleet dashboard\n');
    expect(parse(text).labels).toEqual({ note: 'a  #b' });
  });

  test('concurrent changes are serialized: every one of them is in the file', async () => {
    await writeFile(path, SEED_CONFIG);
    const file = new ConfigFile(path);
    const names = Array.from({ length: 40 }, (_, i) => `jetson_cpu_core${i}_usage_percent`);
    await Promise.all(names.map((name, i) => file.setMetrics({ [name]: i % 2 === 0 })));
    const metrics = parse(await readFile(path, 'utf8')).metrics;
    for (const [i, name] of names.entries()) expect(metrics[name]).toBe(i % 2 === 0);
    expect((await readdir(dir.path)).filter((entry) => entry.endsWith('.tmp'))).toEqual([]);
  });

  test('turns an old enabled_metrics list into the metrics map on the first write', async () => {
    await writeFile(path, 'device_type: jetson_orin\nenabled_metrics:\n  - jetson_ram_used_percent\n');
    await new ConfigFile(path).setMetrics({ jetson_gpu_usage_percent: false });
    expect(parse(await readFile(path, 'utf8'))).toEqual({
      device_type: 'jetson_orin',
      metrics: { jetson_ram_used_percent: true, jetson_gpu_usage_percent: false },
    });
  });

  test('creates a missing file with the seed keys first', async () => {
    await new ConfigFile(path).setMetrics({ host_load1: true }, { new_metrics_default: true });
    expect(parse(await readFile(path, 'utf8'))).toEqual({ new_metrics_default: true, metrics: { host_load1: true } });
  });

  test('refuses to write over a file that is not valid YAML, and leaves it as it was', async () => {
    const broken = 'metrics:\n  a: true\n  a: false\n';
    await writeFile(path, broken);
    const file = new ConfigFile(path);
    await expect(file.setMetrics({ b: true })).rejects.toThrow(`${path}: not changed, because the file is not valid YAML`);
    expect(await readFile(path, 'utf8')).toBe(broken);
    await writeFile(path, 'metrics: {}\n');
    await file.setMetrics({ b: true });
    expect(parse(await readFile(path, 'utf8'))).toEqual({ metrics: { b: true } });
  });

  test('a write that cannot happen (its folder is gone) is reported and leaves no temporary file', async () => {
    const file = new ConfigFile(join(dir.path, 'missing-folder', 'config.yaml'));
    await expect(file.setMetrics({ b: true })).rejects.toThrow('cannot write the change');
    expect(await readdir(dir.path)).toEqual([]);
  });

  test('writes a config from the server whose strings start with spaces or hold newlines so that they read back the same', async () => {
    await writeFile(path, SEED_CONFIG);
    const labels = { a: ' \n', b: '  two\nlines ', c: 'x"y\\z' };
    await new ConfigFile(path).replaceWith({ device_type: 'jetson_orin', labels }, []);
    expect(parse(await readFile(path, 'utf8')).labels).toEqual(labels);
  });

  test('a config from the server changes values in place: the comment beside a changed value stays, a type change is written as the new type', async () => {
    await writeFile(path, SEED_CONFIG.replace('interval: 1 ', 'interval: "1"'));
    await new ConfigFile(path).replaceWith({ device_type: 'jetson_orin', interval: 2, port: 9200, reload_port: 9101, metrics: { jetson_power_vdd_gpu_soc_watts: false } }, []);
    const text = await readFile(path, 'utf8');
    expect(text).toMatch(/^port: 9200 +# Prometheus metrics port\n/m);
    expect(parse(text)).toEqual({ device_type: 'jetson_orin', interval: 2, port: 9200, reload_port: 9101, metrics: { jetson_power_vdd_gpu_soc_watts: false } });
  });

  test('removes the temporary files a writer that died left behind, and no one else\'s', async () => {
    await writeFile(path, SEED_CONFIG);
    await writeFile(join(dir.path, '.config.yaml.999999999.1.tmp'), 'half a conf');
    await writeFile(join(dir.path, `.config.yaml.${process.pid}.7.tmp`), 'being written by this process');
    await writeFile(join(dir.path, '.other.yaml.999999999.1.tmp'), 'another file');
    await new ConfigFile(path).removeStaleTemporaries();
    expect((await readdir(dir.path)).sort()).toEqual(['.config.yaml.' + process.pid + '.7.tmp', '.other.yaml.999999999.1.tmp', 'config.yaml'].sort());
  });

  test('refuses to write into a file that exists but is empty (an editor may be writing it)', async () => {
    await writeFile(path, '');
    await expect(new ConfigFile(path).setMetrics({ a: true })).rejects.toThrow(`${path}: not changed, because the file is empty`);
    expect(await readFile(path, 'utf8')).toBe('');
  });

  test('tells its own write over the config in force from an edit that must be reloaded', async () => {
    await writeFile(path, SEED_CONFIG);
    const file = new ConfigFile(path);
    file.noteApplied(await file.readText());
    await file.setMetrics({ a: true });
    expect(file.isInForce(await file.readText())).toBe(true);

    await writeFile(path, SEED_CONFIG.replace('interval: 1', 'interval: 2'));
    expect(file.isInForce(await file.readText())).toBe(false);
    // Written over the edit before it was reloaded: the edit is still not in force.
    await file.setMetrics({ b: true });
    expect(file.isInForce(await file.readText())).toBe(false);
  });
});

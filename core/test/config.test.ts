import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadConfigFile, locateConfig, parseYaml } from '../src/config/load';
import { configProblems, parseConfig } from '../src/config/schema';
import { tempDir } from './helpers';

describe('parseConfig', () => {
  test("the seed's config.yaml is valid and keeps its values", () => {
    const config = parseConfig(
      parseYaml(
        `device_type: "jetson_orin"
interval: 1
port: 9100
reload_port: 9101

# Metrics configuration (true: collect, false: don't collect)
metrics:
  jetson_power_vdd_gpu_soc_watts: true
  jetson_power_vdd_cpu_cv_watts: true
  jetson_temp_cpu_celsius: true
  jetson_temp_gpu_celsius: false
`,
        'config.yaml',
      ),
      'config.yaml',
    );
    expect(config).toMatchObject({
      device_type: 'jetson_orin',
      interval: 1,
      port: 9100,
      reload_port: 9101,
      new_metrics_default: false,
      metrics: { jetson_temp_gpu_celsius: false, jetson_temp_cpu_celsius: true },
    });
  });

  test('applies defaults: auto, 1 s, 9100/9101, all addresses, device_id from the hostname', () => {
    const config = parseConfig({}, 'x');
    expect(config).toMatchObject({ device_type: 'auto', interval: 1, port: 9100, reload_port: 9101, listen_address: '0.0.0.0', collectors: [], labels: {} });
    expect(config.device_id).toMatch(/^[A-Za-z0-9._-]{1,64}$/);
  });

  test('converts the old enabled_metrics list into the metrics map; an explicit metrics entry wins', () => {
    const config = parseConfig({ enabled_metrics: ['jetson_ram_used_percent', 'jetson_gpu_usage_percent'], metrics: { jetson_gpu_usage_percent: false } }, 'x');
    expect(config.metrics).toEqual({ jetson_ram_used_percent: true, jetson_gpu_usage_percent: false });
    expect(config).not.toHaveProperty('enabled_metrics');
  });

  test.each([
    [{ interval: 'fast' }, 'config.yaml: interval: must be a number'],
    [{ interval: 0 }, 'config.yaml: interval: must be > 0'],
    [{ port: 70000 }, 'config.yaml: port: must be <= 65535'],
    [{ metrics: { jetson_gpu_usage_percent: 'yes' } }, 'config.yaml: metrics.jetson_gpu_usage_percent: must be a boolean'],
    [{ metrics: { 'bad-name': true } }, "config.yaml: metrics: key 'bad-name' is not a valid name"],
    [{ labels: { hostname: 'x' } }, "config.yaml: labels: key 'hostname' is reserved"],
    [{ labels: { site: 3 } }, 'config.yaml: labels.site: must be a string'],
    [{ collectors: [{ name: 'plug' }] }, "config.yaml: collectors[0]: missing required key 'type'"],
    [{ collectors: [{ type: 'shelly', option: {} }] }, "config.yaml: collectors[0]: unknown key 'option'"],
    [{ intervall: 1 }, "config.yaml: unknown key 'intervall'"],
    [{ device_id: '../etc' }, 'config.yaml: device_id: "../etc" does not match'],
    [['a'], 'config.yaml: must be an object'],
  ])('an invalid config names the field: %j', (raw, message) => {
    expect(() => parseConfig(raw, 'config.yaml')).toThrow(message);
  });

  test('configProblems lists every problem and leaves its input as it was', () => {
    const raw = { port: 'x', interval: -1 };
    expect(configProblems(raw).sort()).toEqual(['interval: must be > 0', 'port: must be an integer']);
    expect(raw).toEqual({ port: 'x', interval: -1 });
    expect(configProblems({ device_type: 'jetson_orin' })).toEqual([]);
  });
});

describe('locating and loading the config file', () => {
  let dir: { path: string; cleanup: () => Promise<void> };
  beforeEach(async () => {
    dir = await tempDir();
  });
  afterEach(() => dir.cleanup());

  test('--config, then LOCAL_CONFIG_PATH, then ./config.yaml', async () => {
    await writeFile(join(dir.path, 'config.yaml'), 'interval: 2\n');
    await writeFile(join(dir.path, 'other.yaml'), 'interval: 3\n');
    expect(await locateConfig('other.yaml', { LOCAL_CONFIG_PATH: 'config.yaml' }, dir.path)).toEqual({ path: join(dir.path, 'other.yaml'), exists: true, namedBy: '--config' });
    expect(await locateConfig(undefined, { LOCAL_CONFIG_PATH: 'other.yaml' }, dir.path)).toEqual({ path: join(dir.path, 'other.yaml'), exists: true, namedBy: 'LOCAL_CONFIG_PATH' });
    expect(await locateConfig(undefined, {}, dir.path)).toEqual({ path: join(dir.path, 'config.yaml'), exists: true });
  });

  test('an empty LOCAL_CONFIG_PATH is unset; a named file that is missing is not searched for elsewhere', async () => {
    await writeFile(join(dir.path, 'config.yaml'), 'interval: 2\n');
    expect(await locateConfig(undefined, { LOCAL_CONFIG_PATH: '' }, dir.path)).toEqual({ path: join(dir.path, 'config.yaml'), exists: true });
    await writeFile(join(dir.path, '.edge-metricsrc.yaml'), 'interval: 4\n');
    expect(await locateConfig('typo.yaml', {}, dir.path)).toEqual({ path: join(dir.path, 'typo.yaml'), exists: false, namedBy: '--config' });
  });

  test("without those, cosmiconfig's search finds an edge-metrics config", async () => {
    await writeFile(join(dir.path, '.edge-metricsrc.yaml'), 'interval: 4\n');
    const located = await locateConfig(undefined, {}, dir.path);
    expect(located).toEqual({ path: join(dir.path, '.edge-metricsrc.yaml'), exists: true });
    expect((await loadConfigFile(located.path)).config.interval).toBe(4);
  });

  test('with no file at all: built-in defaults that enable every discovered metric', async () => {
    const located = await locateConfig(undefined, {}, dir.path);
    expect(located.exists).toBe(false);
    const loaded = await loadConfigFile(located.path);
    expect(loaded.source).toBe('defaults');
    expect(loaded.config.new_metrics_default).toBe(true);
  });

  test('a YAML syntax error names the file, line and column', async () => {
    const path = join(dir.path, 'config.yaml');
    await writeFile(path, 'interval: 1\nmetrics:\n  a: true\n  a: false\n');
    await expect(loadConfigFile(path)).rejects.toThrow(`${path}:4:3: not valid YAML: Map keys must be unique`);
  });

  test('an unreadable config (a folder in its place) is a clear error', async () => {
    const path = join(dir.path, 'config.yaml');
    await mkdir(path);
    await expect(loadConfigFile(path)).rejects.toMatchObject({ code: 'EME_CONFIG_READ', message: expect.stringContaining(`${path}: cannot read: EISDIR`) });
  });
});

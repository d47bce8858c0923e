import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { Exporter } from '../src/exporter';
import type { CycleRecord } from '../src/runtime/collection-runtime';
import { exporterSandbox, memoryLogger, pluginSource, seriesValue, waitFor, writePackage, type ExporterSandbox } from './helpers';

describe('Exporter', () => {
  let sandbox: ExporterSandbox;
  let exporter: Exporter | undefined;
  let configPath: string;
  const log = memoryLogger();

  beforeEach(async () => {
    log.lines.length = 0;
    sandbox = await exporterSandbox(
      {
        'edge-collector-good': pluginSource('edge-collector-good', 'good', 'good'),
        'edge-collector-flaky': pluginSource('edge-collector-flaky', 'flaky', 'flaky', "throw new Error('sensor at 0x40 did not answer');"),
        'edge-collector-hangs': pluginSource('edge-collector-hangs', 'hangs', 'hangs', 'return new Promise(() => {});'),
        'edge-collector-wobbly': pluginSource('edge-collector-wobbly', 'wobbly', 'wobbly', "if (calls >= 2) throw new Error('gone'); return [];"),
        // Its second collect() leaves a mark beside its index.js, then holds the cycle for a second.
        'edge-collector-slow': pluginSource(
          'edge-collector-slow',
          'slow',
          'slow',
          "if (calls === 2) { require('fs').writeFileSync(require('path').join(__dirname, 'second-cycle'), ''); return new Promise((resolve) => setTimeout(() => resolve([]), 1000)); } return [];",
        ),
        'edge-collector-sloppy': pluginSource(
          'edge-collector-sloppy',
          'sloppy',
          'sloppy',
          "return [{ name: 'sloppy_power_watts', value: 2, labels: { sensor: 'a' } }, { name: 'undeclared_thing', value: 1 }, { name: 'sloppy_power_watts', value: Infinity, labels: { sensor: 'b' } }, { name: 'good_power_watts', value: 9, labels: { sensor: 'main' } }];",
        ),
      },
      log.logger,
    );
    configPath = sandbox.configPath;
  });

  afterEach(async () => {
    exporter = undefined;
    await sandbox.stop();
  });

  async function start(config: string): Promise<Exporter> {
    exporter = await sandbox.start(config);
    return exporter;
  }

  const text = () => exporter!.metricsText('prometheus');
  const labels = (extra = '') => `device_type="good",hostname="${hostname()}"${extra}`;

  test('a scrape during a cycle reads the self-metrics of the last published cycle, not those of the running one', async () => {
    await start('device_type: wobbly\ninterval: 2\ncollectors:\n  - type: slow\n');
    // The second cycle has recorded wobbly's failure and is held by slow: nothing read the first cycle's exposition.
    await waitFor(() => existsSync(join(sandbox.installDir, 'edge-collector-slow', 'second-cycle')), 'the second cycle');
    const during = await text();
    const wobbly = `device_type="wobbly",hostname="${hostname()}",collector="wobbly"`;
    expect(seriesValue(during, `edge_collector_up{${wobbly}}`)).toBe(1);
    expect(seriesValue(during, `edge_collector_errors_total{${wobbly}}`)).toBe(0);
    await waitFor(async () => seriesValue(await text(), `edge_collector_errors_total{${wobbly}}`) === 1, 'the second cycle published');
  });

  test('a throwing and a hanging collector are isolated: the good one is served, the others reported down, each failure logged once', async () => {
    await start(`device_type: good
interval: 0.2
new_metrics_default: true
collectors:
  - type: flaky
  - type: hangs
`);
    await waitFor(async () => (seriesValue(await text(), `edge_collector_errors_total{${labels(',collector="hangs"')}}`) ?? 0) >= 2, 'the hanging collector to time out twice');
    expect(seriesValue(await text(), `good_power_watts{${labels(',sensor="main"')}}`)).toBe(1.5);
    expect(seriesValue(await text(), `edge_collector_up{${labels(',collector="good"')}}`)).toBe(1);
    expect(seriesValue(await text(), `edge_collector_up{${labels(',collector="flaky"')}}`)).toBe(0);
    expect(seriesValue(await text(), `edge_collector_up{${labels(',collector="hangs"')}}`)).toBe(0);
    expect(seriesValue(await text(), `edge_collector_errors_total{${labels(',collector="flaky"')}}`)).toBeGreaterThanOrEqual(2);
    expect(log.lines.filter((line) => line.includes('sensor at 0x40 did not answer'))).toEqual([
      'error: collector flaky (edge-collector-flaky) failed: sensor at 0x40 did not answer',
    ]);
    expect(log.lines).toContain('error: collector hangs (edge-collector-hangs) failed: collect() did not finish within 200 ms');
    expect(log.lines).toContain('error: collector hangs (edge-collector-hangs) failed: the previous collect() has still not returned');
  });

  test('drops samples its manifest does not declare, non-finite values and series another collector already reported, warning once', async () => {
    await start(`device_type: good
interval: 0.2
new_metrics_default: true
collectors:
  - type: sloppy
`);
    await waitFor(async () => (seriesValue(await text(), `edge_collector_dropped_samples_total{${labels(',collector="sloppy"')}}`) ?? 0) >= 6, 'two cycles of dropped samples');
    expect(seriesValue(await text(), `sloppy_power_watts{${labels(',sensor="a"')}}`)).toBe(2);
    expect(await text()).not.toContain('undeclared_thing');
    expect(await text()).not.toContain('sensor="b"');
    expect((await text()).split('\n').filter((line) => line.startsWith('good_power_watts'))).toEqual([`good_power_watts{${labels(',sensor="main"')}} 1.5`]);
    expect(log.lines.filter((line) => line.includes('undeclared_thing'))).toEqual([
      "warn: collector sloppy: 'undeclared_thing' matches no metric family of the manifest; sample dropped",
    ]);
  });

  test('auto-discovery: new metrics are added to the file as disabled and not served until enabled', async () => {
    await start(`# my exporter
device_type: good   # the device
interval: 0.2
labels:
  site: lab
metrics:
  good_power_watts: false
`);
    await waitFor(async () => parse(await readFile(configPath, 'utf8')).metrics.energy_joules_total === undefined && (await text()).includes('edge_collector_up'), 'a first cycle');
    expect(await text()).not.toContain('good_power_watts{');
    await exporter!.setMetrics({ good_power_watts: true });
    const file = await readFile(configPath, 'utf8');
    expect(file).toContain('# my exporter');
    expect(file).toContain('device_type: good   # the device');
    expect(parse(file).metrics).toEqual({ good_power_watts: true });
    await waitFor(async () => (await text()).includes('good_power_watts{'), 'the enabled metric to be served');
    expect(seriesValue(await text(), `good_power_watts{${labels(',site="lab",sensor="main"')}}`)).toBe(1.5);
    expect(exporter!.listMetrics()).toEqual({ metrics: { good_power_watts: true }, device_type: 'good', source: 'local', disabled: 0 });
  });

  test('discovers metrics with new_metrics_default and saves them to the file', async () => {
    const sourceWithRails = pluginSource('edge-collector-rails', 'rails', 'rails', "return [{ name: 'rails_rail_vdd_in_watts', value: 5 }, { name: 'rails_rail_vdd_gpu_watts', value: 1 }];");
    await writePackage(join(sandbox.path, 'node_modules'), 'edge-collector-rails', { 'index.js': sourceWithRails });
    await start('device_type: rails\ninterval: 0.2\n');
    await waitFor(async () => parse(await readFile(configPath, 'utf8')).metrics, 'the discovered metrics in the file');
    expect(parse(await readFile(configPath, 'utf8')).metrics).toEqual({ rails_rail_vdd_in_watts: false, rails_rail_vdd_gpu_watts: false });
    expect(log.lines).toContain('info: discovered 2 new metrics (disabled): rails_rail_vdd_in_watts, rails_rail_vdd_gpu_watts');
    expect(await text()).not.toContain('rails_rail_vdd_in_watts{');
  });

  test('hot reload: a valid edit applies without a restart; an invalid edit is reported and the last good config stays', async () => {
    await start('device_type: good\ninterval: 0.2\nnew_metrics_default: true\nlabels:\n  site: lab\n');
    await waitFor(async () => (await text()).includes('site="lab"'), 'the first cycle');
    await writeFile(configPath, 'device_type: good\ninterval: 0.2\nnew_metrics_default: true\nlabels:\n  site: field\n');
    await waitFor(async () => (await text()).includes('site="field"'), 'the edited label to be served');
    expect(seriesValue(await text(), `edge_config_reloads_total{${labels(',site="field",result="success"')}}`)).toBe(1);

    await writeFile(configPath, 'device_type: good\ninterval: [\n');
    await waitFor(() => log.lines.some((line) => line.startsWith('error: config reload failed')), 'the failed reload to be logged');
    await waitFor(async () => seriesValue(await text(), `edge_config_reloads_total{${labels(',site="field",result="failure"')}}`) === 1, 'the failure count');
    expect(exporter!.currentConfig.labels).toEqual({ site: 'field' });
    expect(await text()).toContain('good_power_watts{');
  });

  test('a broken file fixed back to the config in force is logged as valid again', async () => {
    await start('device_type: good\ninterval: 0.2\nlabels:\n  site: lab\n');
    const inForce = await waitFor(async () => {
      const text = await readFile(configPath, 'utf8');
      return text.includes('good_power_watts: false') && text;
    }, 'the discovered metric to be saved');
    await writeFile(configPath, 'device_type: good\ninterval: [\n');
    await waitFor(() => log.lines.some((line) => line.startsWith('error: config reload failed')), 'the failed reload to be logged');
    await writeFile(configPath, inForce);
    await waitFor(() => log.lines.at(-1) === `info: ${configPath} is valid again: it holds the config in force, which is unchanged`, 'the fixed file to be logged');
  });

  test('a change of log_level warns that it takes effect at the next restart, like a port', async () => {
    await start('device_type: good\ninterval: 0.2\nlog_level: info\n');
    await writeFile(configPath, 'device_type: good\ninterval: 0.2\nlog_level: debug\n');
    await waitFor(() => log.lines.includes('warn: log_level changed from info to debug: this takes effect at the next restart'), 'the restart warning');
  });

  test('a change of device_id or config_server warns that it takes effect at the next restart, without showing the token', async () => {
    await start('device_type: good\ninterval: 0.2\ndevice_id: edge-01\n');
    await writeFile(configPath, 'device_type: good\ninterval: 0.2\ndevice_id: edge-02\nconfig_server:\n  url: http://127.0.0.1:1\n  token: s3cret\n');
    await waitFor(() => log.lines.includes('warn: config_server changed: this takes effect at the next restart'), 'the config_server warning');
    expect(log.lines).toContain('warn: device_id changed from edge-01 to edge-02: this takes effect at the next restart');
    expect(log.lines.join('\n')).not.toContain('s3cret');
  });

  test("cycle listeners get each cycle's exposed samples and its time; one that fails changes nothing", async () => {
    const before = Date.now();
    await start('device_type: good\ninterval: 0.2\nnew_metrics_default: true\n');
    const cycles: CycleRecord[] = [];
    exporter!.onCycle(() => {
      throw new Error('listener broke');
    });
    exporter!.onCycle(() => Promise.reject(new Error('async listener broke')));
    const unsubscribe = exporter!.onCycle((cycle) => void cycles.push(cycle));
    await waitFor(() => cycles.length >= 3, 'three cycles');
    const power = cycles.map((cycle) => cycle.families.find((family) => family.name === 'good_power_watts')?.samples[0]);
    expect(power).toEqual(cycles.map(() => ({ name: 'good_power_watts', labels: expect.arrayContaining([['sensor', 'main'], ['device_type', 'good']]), value: 1.5 })));
    expect(cycles.every((cycle) => cycle.families.some((family) => family.name === 'edge_collector_up'))).toBe(true);
    const times = cycles.map((cycle) => cycle.timestampMs);
    expect(times[0]).toBeGreaterThanOrEqual(before);
    expect(times.every((time, index) => index === 0 || time > times[index - 1]!)).toBe(true);
    expect(log.lines).toEqual(expect.arrayContaining(['error: cycle listener failed: listener broke', 'error: cycle listener failed: async listener broke']));
    expect(await text()).toContain('good_power_watts{');

    unsubscribe();
    const seen = cycles.length;
    let later = 0;
    exporter!.onCycle(() => void later++);
    await waitFor(() => later >= 2, 'two more cycles');
    expect(cycles.length).toBe(seen);
  });

  test("its own writes do not trigger a reload", async () => {
    await start('device_type: good\ninterval: 0.2\nmetrics: {}\n');
    await exporter!.setMetrics({ good_power_watts: true });
    await new Promise((resolve) => setTimeout(resolve, 800));
    expect(log.lines.filter((line) => line.includes('config reloaded'))).toEqual([]);
  });

  test('a reload that changes the device type swaps the collectors; the old ones are stopped', async () => {
    await start('device_type: good\ninterval: 0.2\nnew_metrics_default: true\n');
    await waitFor(async () => (await text()).includes('good_power_watts{'), 'the good collector');
    await writeFile(configPath, 'device_type: sloppy\ninterval: 0.2\nnew_metrics_default: true\n');
    expect(await exporter!.reload()).toEqual({ ok: true, source: 'local' });
    await waitFor(async () => (await text()).includes('sloppy_power_watts{'), 'the new collector');
    expect(exporter!.collectorNames).toEqual(['sloppy']);
    expect(await text()).not.toContain('collector="good"');
  });

  test('a reload naming a device type nobody serves keeps the running config and says what to install', async () => {
    await start('device_type: good\ninterval: 0.2\n');
    await writeFile(configPath, 'device_type: shelly\n');
    const result = await exporter!.reload();
    expect(result.ok).toBe(false);
    expect(result.error).toContain("no installed plugin serves device type 'shelly'; install it with: npm install edge-collector-shelly");
    expect(exporter!.collectorNames).toEqual(['good']);
  });

  test('invalid plugin options at start name the plugin and the field', async () => {
    await writeFile(configPath, 'device_type: good\noptions:\n  scale: big\n');
    await expect(Exporter.create({ configPath, cwd: sandbox.path, env: {}, logger: log.logger, installDir: sandbox.installDir })).rejects.toThrow(
      `invalid options for edge-collector-good: ${configPath}: options.scale: must be a number`,
    );
  });
});

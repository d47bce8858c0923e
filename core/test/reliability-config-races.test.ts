import { writeFileSync } from 'node:fs';
import { chmod, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'yaml';
import { ConfigFile } from '../src/config/file';
import { ExporterError } from '../src/errors';
import { Exporter } from '../src/exporter';
import { asUnprivileged } from '../src/testing';
import { exporterSandbox, memoryLogger, pluginSource, tempDir, waitFor, type ExporterSandbox } from './helpers';

/**
 * Races between the exporter's writes, reloads and hand edits of config.yaml, and what a write does to the
 * file's permissions.
 */

/** A plugin serving `deviceType` whose collector's start() and stop() take `start_ms` and `stop_ms` (options). */
function slowPlugin(name: string, deviceType: string, prefix: string): string {
  return `
exports.manifest = {
  name: ${JSON.stringify(name)},
  apiVersion: 1,
  deviceTypes: [${JSON.stringify(deviceType)}],
  metrics: [{ name: '${prefix}_power_watts', help: 'Power', type: 'gauge', unit: 'watts' }],
  optionsSchema: { type: 'object', additionalProperties: false, properties: {
    start_ms: { type: 'number', default: 0 }, stop_ms: { type: 'number', default: 0 }, variant: { type: 'number', default: 1 } } },
};
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
exports.create = (options) => ({
  start: () => sleep(options.start_ms),
  stop: () => sleep(options.stop_ms),
  collect: () => [{ name: '${prefix}_power_watts', value: 1 }],
});
`;
}

describe('races around config.yaml', () => {
  let sandbox: ExporterSandbox;
  // The exporter a test starts by itself, outside the sandbox.
  let exporter: Exporter | undefined;
  let configPath: string;
  const log = memoryLogger();

  beforeEach(async () => {
    log.lines.length = 0;
    sandbox = await exporterSandbox(
      {
        'edge-collector-good': pluginSource('edge-collector-good', 'good', 'good'),
        'edge-collector-slowa': slowPlugin('edge-collector-slowa', 'slowa', 'slowa'),
        'edge-collector-slowb': slowPlugin('edge-collector-slowb', 'slowb', 'slowb'),
      },
      log.logger,
    );
    configPath = sandbox.configPath;
  });

  afterEach(async () => {
    await exporter?.stop();
    exporter = undefined;
    await sandbox.stop();
  });

  const start = (config: string): Promise<Exporter> => sandbox.start(config);

  test('two reloads that overlap: the newer file wins, even when the older one takes longer to apply', async () => {
    const config = (options: string, rest = '') => `device_type: slowa\ninterval: 0.1\nmetrics:\n  slowa_power_watts: true\noptions:\n${options}${rest}`;
    const running = await start(config('  variant: 1\n  start_ms: 800\n'));
    // Needs the collectors rebuilt (slow); then, while that runs, an edit back to the options in force (fast).
    await writeFile(configPath, config('  variant: 2\n  start_ms: 800\n'));
    const slow = running.reload();
    await new Promise((resolve) => setTimeout(resolve, 100));
    await writeFile(configPath, config('  variant: 1\n  start_ms: 800\n', 'labels:\n  final: "yes"\n'));
    expect((await running.reload()).ok).toBe(true);
    expect((await slow).ok).toBe(true);
    await waitFor(() => running.currentConfig.labels.final === 'yes', 'the last edit to be in force', 3000);
    expect(running.currentConfig.options).toEqual({ variant: 1, start_ms: 800 });
  });

  test('while a reload swaps the collectors, no scrape shows the new collectors with the old labels', async () => {
    const running = await start('device_type: slowa\ninterval: 0.02\nnew_metrics_default: true\noptions:\n  stop_ms: 500\nlabels:\n  generation: a\n');
    await waitFor(async () => (await running.metricsText('prometheus')).includes('slowa_power_watts{'), 'a first cycle');
    await writeFile(configPath, 'device_type: slowb\ninterval: 0.02\nnew_metrics_default: true\nlabels:\n  generation: b\n');
    const mixed = new Set<string>();
    const reload = running.reload();
    let done = false;
    void reload.then(() => (done = true));
    while (!done) {
      for (const line of (await running.metricsText('prometheus')).split('\n')) {
        const ownPlugin = /^(slowa|slowb)_power_watts\{/.exec(line)?.[1];
        if (ownPlugin && !line.includes(`device_type="${ownPlugin}"`)) mixed.add(line);
        if (ownPlugin && !line.includes(`generation="${ownPlugin.slice(-1)}"`)) mixed.add(line);
      }
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    expect((await reload).ok).toBe(true);
    expect([...mixed]).toEqual([]);
  });

  test('a metric discovered while the file cannot be written is saved once it can', async () => {
    await chmod(sandbox.path, 0o755);
    const configDir = join(sandbox.path, 'etc');
    await mkdir(configDir);
    configPath = join(configDir, 'config.yaml');
    await writeFile(configPath, 'device_type: good\ninterval: 0.1\n');
    await chmod(configDir, 0o555);
    try {
      await asUnprivileged(async () => {
        exporter = await Exporter.create({ configPath, cwd: sandbox.path, env: {}, logger: log.logger, installDir: sandbox.installDir });
        await exporter.start();
        await waitFor(() => log.lines.some((line) => line.includes('discovered metrics not saved')), 'the failed save to be logged');
      });
    } finally {
      await chmod(configDir, 0o755);
    }
    expect(exporter!.listMetrics().metrics.good_power_watts).toBe(false);
    await waitFor(async () => parse(await readFile(configPath, 'utf8')).metrics?.good_power_watts === false, 'the discovered metric to be saved', 3000);
  });
});

describe('what a write does to the file', () => {
  let dir: { path: string; cleanup: () => Promise<void> };
  let path: string;
  beforeEach(async () => {
    dir = await tempDir();
    path = join(dir.path, 'config.yaml');
  });
  afterEach(() => dir.cleanup());

  test('a config readable by its owner only (it may hold management_token) stays so after a change', async () => {
    await writeFile(path, 'device_type: good\nmanagement_token: "s3cret-token"\n', { mode: 0o600 });
    await chmod(path, 0o600);
    await new ConfigFile(path).setMetrics({ good_power_watts: true });
    expect((await stat(path)).mode & 0o777).toBe(0o600);
  });

  test('a read-only config.yaml (no write permission) is reported and not replaced', async () => {
    const text = 'device_type: good\nmetrics:\n  good_power_watts: true\n';
    await writeFile(path, text);
    await chmod(path, 0o444);
    const error = await new ConfigFile(path).setMetrics({ good_power_watts: false }).then(() => undefined, (thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(ExporterError);
    expect((error as ExporterError).code).toBe('EME_CONFIG_WRITE');
    expect((error as ExporterError).message).toContain(path);
    expect(await readFile(path, 'utf8')).toBe(text);
    expect((await stat(path)).mode & 0o777).toBe(0o444);
  });

  test('a file that another writer changes during every attempt is left to that writer, with a conflict error', async () => {
    await writeFile(path, 'device_type: good\n');
    let attempts = 0;
    const error = await new ConfigFile(path)
      .edit((document) => {
        attempts += 1;
        // The other writer lands between the exporter's read of the file and its rename over it.
        writeFileSync(path, `device_type: good\ninterval: ${attempts}\n`);
        document.set('interval', 99);
      })
      .then(() => undefined, (thrown: unknown) => thrown);
    expect(error).toMatchObject({
      code: 'EME_CONFIG_CONFLICT',
      message: `${path}: not changed, because the file kept changing while the change was being written; try again`,
    });
    expect(attempts).toBeGreaterThan(1);
    expect(await readFile(path, 'utf8')).toBe(`device_type: good\ninterval: ${attempts}\n`);
  });
});

import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Exporter } from '../src/exporter';
import { memoryLogger, pluginSource, tempDir, waitFor, writePackage } from './helpers';

/**
 * config.yaml found empty by a reload: what an editor that truncates and then writes leaves for a moment, or a
 * tool that crashed while saving. The empty file is no new config: the one in force stays, and nothing is
 * written into the file meanwhile.
 */
describe('a reload that finds config.yaml empty', () => {
  let dir: { path: string; cleanup: () => Promise<void> };
  let exporter: Exporter | undefined;
  const log = memoryLogger();

  beforeEach(async () => {
    dir = await tempDir();
    await writePackage(join(dir.path, 'node_modules'), 'edge-collector-good', { 'index.js': pluginSource('edge-collector-good', 'good', 'good') });
  });

  afterEach(async () => {
    await exporter?.stop();
    exporter = undefined;
    await dir.cleanup();
  });

  test('keeps the config in force, says so, and writes nothing into the file', async () => {
    const configPath = join(dir.path, 'config.yaml');
    await writeFile(configPath, 'device_type: good\ninterval: 0.1\nmetrics:\n  good_power_watts: true\n');
    exporter = await Exporter.create({ configPath, cwd: dir.path, env: {}, logger: log.logger, installDir: join(dir.path, 'node_modules') });
    await exporter.start();
    await waitFor(async () => (await exporter!.metricsText('prometheus')).includes('good_power_watts{'), 'a first cycle');

    await writeFile(configPath, '');
    const result = await exporter.reload();
    expect(result.ok).toBe(false);
    expect(result.error).toContain(`${configPath}`);
    expect(result.error).toContain('empty');
    expect(exporter.deviceType).toBe('good');
    expect(exporter.currentConfig.metrics).toEqual({ good_power_watts: true });
    // A few cycles later: still served, and the file left for the editor to finish.
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(await exporter.metricsText('prometheus')).toContain('good_power_watts{');
    expect(await readFile(configPath, 'utf8')).toBe('');
  });
});

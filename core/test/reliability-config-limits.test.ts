import { spawn, spawnSync } from 'node:child_process';
import { constants } from 'node:fs';
import { open, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigFile } from '../src/config/file';
import { MAX_CONFIG_BYTES, MAX_CONFIG_ENTRIES, MAX_METRICS } from '../src/config/limits';
import { parseYaml } from '../src/config/load';
import { tempDir, waitFor } from './helpers';

/**
 * A config grown by a hostile or runaway client: parsing stays linear, what can grow is capped with an error naming
 * the limit, scrapes are answered meanwhile, and a stop does not wait forever for queued writes.
 */

const CLI = join(__dirname, '..', 'dist', 'cli.js');
const BASE = 'device_type: host\ninterval: 1\nport: 0\nreload_port: 0\nlisten_address: 127.0.0.1\n';

/** A `metrics:` map of `count` entries with short names, so that many fit under the size limit. */
function metricsMap(count: number, prefix = 'm'): string {
  return `metrics:\n${Array.from({ length: count }, (_, i) => `  ${prefix}${i.toString(36)}: false\n`).join('')}`;
}

describe('parsing', () => {
  test('a 40,000-key mapping is parsed, and a key it repeats is still reported with its line and column', () => {
    const text = metricsMap(40_000);
    expect(Object.keys((parseYaml(text, 'big.yaml') as { metrics: object }).metrics)).toHaveLength(40_000);
    expect(() => parseYaml(`${text}  m7: true\n`, 'big.yaml')).toThrow(
      'big.yaml:40002:3: not valid YAML: Map keys must be unique (key "m7" appears twice in one mapping)',
    );
  });

  test('repeated keys are found in nested mappings and in mappings inside lists', () => {
    expect(() => parseYaml('options:\n  a: 1\n  b: {x: 1, x: 2}\n', 'c.yaml')).toThrow('c.yaml:3:13: not valid YAML: Map keys must be unique (key "x"');
    expect(() => parseYaml('collectors:\n  - type: a\n    type: b\n', 'c.yaml')).toThrow('c.yaml:3:5: not valid YAML: Map keys must be unique (key "type"');
    // `1` and `"1"` load as the same key.
    expect(() => parseYaml('labels:\n  1: a\n  "1": b\n', 'c.yaml')).toThrow('c.yaml:3:3: not valid YAML: Map keys must be unique (key "1"');
  });
});

describe('the config file writer', () => {
  let dir: { path: string; cleanup: () => Promise<void> };
  beforeEach(async () => {
    dir = await tempDir();
  });
  afterEach(() => dir.cleanup());

  test(`refuses to grow metrics past ${MAX_METRICS} entries, and leaves the file as it was`, async () => {
    const path = join(dir.path, 'config.yaml');
    const text = BASE + metricsMap(MAX_METRICS);
    await writeFile(path, text);
    const file = new ConfigFile(path);
    await expect(file.setMetrics({ one_more: true })).rejects.toMatchObject({
      code: 'EME_CONFIG_TOO_LARGE',
      message: `${path}: not changed, because the config would exceed a limit: metrics: ${MAX_METRICS + 1} entries, more than the limit of ${MAX_METRICS}`,
    });
    expect(await readFile(path, 'utf8')).toBe(text);
    // Entries already there can still be switched.
    await file.setMetrics({ m0: true });
    expect(await readFile(path, 'utf8')).toContain('  m0: true\n');
  });

  test('refuses to edit a file larger than a config may be', async () => {
    const path = join(dir.path, 'config.yaml');
    await writeFile(path, `${BASE}# ${'x'.repeat(MAX_CONFIG_BYTES)}\n`);
    await expect(new ConfigFile(path).setMetrics({ a: true })).rejects.toThrow(
      `${path}: the file is ${MAX_CONFIG_BYTES + BASE.length + 3} bytes, more than the limit of ${MAX_CONFIG_BYTES} bytes for a config`,
    );
  });
});

describe('a running exporter given an oversized config', () => {
  let dir: { path: string; cleanup: () => Promise<void> };
  let child: ReturnType<typeof spawn> | undefined;
  let stderr = '';
  let exited: Promise<number | null>;
  beforeEach(async () => {
    dir = await tempDir();
  });
  afterEach(async () => {
    child?.kill('SIGKILL');
    await dir.cleanup();
  });

  async function startExporter(config: string): Promise<{ metrics: string; management: string }> {
    await writeFile(join(dir.path, 'config.yaml'), config);
    stderr = '';
    const started = spawn(process.execPath, [CLI], { cwd: dir.path, env: { PATH: process.env.PATH } });
    child = started;
    started.stderr!.on('data', (chunk) => (stderr += chunk));
    exited = new Promise((resolve) => started.on('exit', resolve));
    const [, metricsPort, managementPort] = await waitFor(
      () => /serving \/metrics on 127\.0\.0\.1:(\d+), management routes on 127\.0\.0\.1:(\d+)/.exec(stderr),
      'the exporter to listen',
    );
    const urls = { metrics: `http://127.0.0.1:${metricsPort}/metrics`, management: `http://127.0.0.1:${managementPort}` };
    await waitFor(async () => (await (await fetch(urls.metrics)).text()).includes('edge_collector_up{'), 'a first cycle');
    // The first cycle's discoveries are written to the file: the tests change it only after that write.
    await waitFor(
      async () => (await readFile(join(dir.path, 'config.yaml'), 'utf8')).includes('host_memory_total_bytes:') || stderr.includes('discovered metrics not saved'),
      'the discovered metrics to be saved',
    );
    return urls;
  }

  test('a file of 18,000 metrics (under the size limit) is parsed and refused for its count; scrapes are answered meanwhile', async () => {
    const urls = await startExporter(BASE);
    await writeFile(join(dir.path, 'config.yaml'), BASE + metricsMap(18_000));
    const [reload, scrape] = await Promise.all([
      fetch(`${urls.management}/reload`, { method: 'POST' }),
      // Bounded well below the time a quadratic parse of this file takes, and above a linear one on a busy machine.
      fetch(urls.metrics, { signal: AbortSignal.timeout(8000) }),
    ]);
    expect(scrape.status).toBe(200);
    expect(await scrape.text()).toContain('edge_collector_up{');
    expect(reload.status).toBe(422);
    expect(((await reload.json()) as { error: string }).error).toBe(
      `${join(dir.path, 'config.yaml')}: 18006 keys and list items in all, more than the limit of ${MAX_CONFIG_ENTRIES}; metrics: 18000 entries, more than the limit of ${MAX_METRICS}`,
    );
    expect(stderr).toContain('config reload failed, the previous config stays in force');
  });

  test('a 10 MB file is refused without being parsed, and the config in force stays', async () => {
    const urls = await startExporter(BASE);
    const path = join(dir.path, 'config.yaml');
    await writeFile(path, BASE + metricsMap(700_000));
    const size = (await readFile(path)).length;
    const reload = await fetch(`${urls.management}/reload`, { method: 'POST' });
    expect(reload.status).toBe(422);
    expect(((await reload.json()) as { error: string }).error).toBe(`${path}: the file is ${size} bytes, more than the limit of ${MAX_CONFIG_BYTES} bytes for a config`);
    expect((await fetch(urls.metrics)).status).toBe(200);
  });

  test(`POST /metrics/enable cannot grow the file past ${MAX_METRICS} metrics: 422 naming the limit`, async () => {
    const urls = await startExporter(BASE + metricsMap(MAX_METRICS, 'other_'));
    const response = await fetch(`${urls.management}/metrics/enable`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"host_load1": true}' });
    expect(response.status).toBe(422);
    expect(((await response.json()) as { error: string }).error).toContain(`metrics: ${MAX_METRICS + 1} entries, more than the limit of ${MAX_METRICS}`);
  });

  test('SIGTERM does not wait forever for a config write that cannot finish: it gives up, says so and exits', async () => {
    const urls = await startExporter(BASE + 'metrics:\n  host_load1: true\n');
    const path = join(dir.path, 'config.yaml');
    // A FIFO in place of the file: reading it blocks until a writer comes, as a hung disk or network mount would.
    await rm(path);
    expect(spawnSync('mkfifo', [path]).status).toBe(0);
    const stuck = fetch(`${urls.management}/metrics/enable`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"host_load1": false}' }).catch(
      () => undefined,
    );
    // A later request answered, and a moment more: the toggle's write has been queued.
    expect((await fetch(`${urls.management}/metrics/list`)).status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 500));
    child!.kill('SIGTERM');
    await waitFor(() => stderr.includes('the queued config file writes did not finish within 5000 ms: stopping without them'), 'the stop to give up the write', 20_000);
    // A thread blocked in the kernel holds the process at exit (Node joins its I/O threads), as a hung mount would:
    // a writer opening the FIFO releases it. Before the stop gave up, this wait was unbounded.
    await (await open(path, constants.O_WRONLY | constants.O_NONBLOCK)).close();
    expect(await exited).toBe(0);
    await stuck;
  });
});

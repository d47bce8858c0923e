import { createServer as createHttpServer, get, type IncomingHttpHeaders, type Server } from 'node:http';
import { createServer } from 'node:net';
import { gunzipSync, gzipSync } from 'node:zlib';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'yaml';
import { Exporter } from '../src/exporter';
import { answerScrape } from '../src/http/scrape';
import { serve, type Listening } from '../src/http/server';
import { ExpositionCache } from '../src/metrics/exposition';
import { ExporterProcess, exporterSandbox, memoryLogger, moduleLoadWatcher, pluginSource, tempDir, waitFor, type ExporterSandbox } from './helpers';

/** A GET whose body is kept as sent (fetch would decompress it). */
function rawGet(url: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    get(url, { headers }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode!, headers: response.headers, body: Buffer.concat(chunks) }));
      response.on('error', reject);
    }).on('error', reject);
  });
}

/** A port that was free a moment ago (bound to 0, read, released). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

describe('HTTP routes', () => {
  let sandbox: ExporterSandbox;
  let exporter: Exporter;
  let listening: Listening;
  let configPath: string;
  const log = memoryLogger();

  async function start(config: string, env: NodeJS.ProcessEnv = {}): Promise<void> {
    ({ exporter, listening } = await sandbox.serve(config, env));
  }

  const metricsUrl = (path: string) => `http://127.0.0.1:${listening.port}${path}`;
  const manageUrl = (path: string) => `http://127.0.0.1:${listening.reloadPort}${path}`;
  const post = (path: string, body: string, headers: Record<string, string> = {}) =>
    fetch(manageUrl(path), { method: 'POST', body, headers: { 'content-type': 'application/json', ...headers } });

  beforeEach(async () => {
    log.lines.length = 0;
    sandbox = await exporterSandbox(
      { 'edge-collector-good': pluginSource('edge-collector-good', 'good', 'good'), 'edge-collector-other': pluginSource('edge-collector-other', 'other', 'other') },
      log.logger,
    );
    configPath = sandbox.configPath;
  });

  afterEach(() => sandbox.stop());

  describe('on separate ports', () => {
    beforeEach(async () => {
      const [port, reloadPort] = [await freePort(), await freePort()];
      await start(`device_type: good\ninterval: 0.2\nport: ${port}\nreload_port: ${reloadPort}\nlisten_address: 127.0.0.1\nmetrics:\n  good_power_watts: true\n`);
      await waitFor(async () => (await exporter.metricsText('prometheus')).includes('good_power_watts{'), 'a first cycle');
    });

    test('GET /metrics serves the text format, or OpenMetrics when asked; /healthz answers', async () => {
      const text = await fetch(metricsUrl('/metrics'));
      expect(text.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
      expect(await text.text()).toMatch(/^good_power_watts\{device_type="good",hostname="[^"]+",sensor="main"\} 1\.5$/m);
      const openMetrics = await fetch(metricsUrl('/metrics'), { headers: { accept: 'application/openmetrics-text;version=1.0.0,text/plain;q=0.5' } });
      expect(openMetrics.headers.get('content-type')).toBe('application/openmetrics-text; version=1.0.0; charset=utf-8');
      expect((await openMetrics.text()).endsWith('# EOF\n')).toBe(true);
      expect(await (await fetch(metricsUrl('/healthz'))).json()).toEqual({ status: 'ok' });
    });

    test('HEAD /metrics answers with the length and no body; other methods on /metrics get 404 as JSON', async () => {
      const head = await fetch(metricsUrl('/metrics'), { method: 'HEAD' });
      expect(head.status).toBe(200);
      expect(head.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
      expect(Number(head.headers.get('content-length'))).toBeGreaterThan(100);
      expect(await head.text()).toBe('');
      const post = await fetch(metricsUrl('/metrics'), { method: 'POST' });
      expect(post.status).toBe(404);
      expect(await post.json()).toEqual({ status: 'error', error: 'no route POST /metrics' });
    });

    test('the management routes are not on the metrics port', async () => {
      expect((await fetch(metricsUrl('/metrics/list'))).status).toBe(404);
      expect((await fetch(manageUrl('/metrics/list'))).status).toBe(200);
    });

    test("GET /metrics/list answers the seed's shape", async () => {
      const body = await (await fetch(manageUrl('/metrics/list'))).json();
      expect(body).toEqual({ metrics: { good_power_watts: true }, device_type: 'good', source: 'local', disabled: 0 });
    });

    test("POST /metrics/enable saves to config.yaml at once and answers the seed's shape", async () => {
      const response = await post('/metrics/enable', JSON.stringify({ good_power_watts: false, energy_joules_total: true }));
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ status: 'success', updated: 2, metrics: { good_power_watts: false, energy_joules_total: true } });
      expect(parse(await readFile(configPath, 'utf8')).metrics).toEqual({ good_power_watts: false, energy_joules_total: true });
      await waitFor(async () => !(await (await fetch(metricsUrl('/metrics'))).text()).includes('good_power_watts{'), 'the disabled metric to leave /metrics');
    });

    test.each([
      ['[true]', 'the body must be a JSON object of metric name to true or false'],
      ['"x"', 'the body is not valid JSON'],
      ['{"good_power_watts": "yes"}', `'good_power_watts': must be true or false, not "yes"`],
      ['{"no_such_metric": true}', "'no_such_metric' is not produced on this device (device type 'good')"],
      // Another installed plugin's metric, and a name that only fits a pattern family no collector reported.
      ['{"other_power_watts": true}', "'other_power_watts' is not produced on this device (device type 'good')"],
      ['{"good_rail_junk_watts": true}', "'good_rail_junk_watts' is not produced on this device (device type 'good')"],
      ['{"bad name": true}', "'bad name' is not a valid metric name"],
      ['{}', 'the body names no metric'],
      ['{not json', 'the body is not valid JSON'],
    ])('POST /metrics/enable %s → 400 naming the problem, nothing changed', async (body, error) => {
      const before = await readFile(configPath, 'utf8');
      const response = await post('/metrics/enable', body);
      expect(response.status).toBe(400);
      expect(await response.json()).toEqual({ status: 'error', error: expect.stringContaining(error) });
      expect(await readFile(configPath, 'utf8')).toBe(before);
    });

    test('a deeply nested value (within the size limit) gets 400, not a stack overflow', async () => {
      const before = await readFile(configPath, 'utf8');
      const response = await post('/metrics/enable', `{"good_power_watts": ${'['.repeat(30_000)}${']'.repeat(30_000)}}`);
      expect(response.status).toBe(400);
      expect(await response.json()).toEqual({ status: 'error', error: "'good_power_watts': must be true or false, not an array" });
      expect(await readFile(configPath, 'utf8')).toBe(before);
    });

    test('a body over the size limit gets 413', async () => {
      const response = await post('/metrics/enable', JSON.stringify({ good_power_watts: true, padding: 'x'.repeat(100_000) }));
      expect(response.status).toBe(413);
      expect(await response.json()).toEqual({ status: 'error', error: 'the body is larger than 64kb' });
    });

    test('POST /reload applies the file; a broken file gets 422 and the config stays', async () => {
      const original = await readFile(configPath, 'utf8');
      await writeFile(configPath, original.replace('interval: 0.2', 'interval: 0.3'));
      const ok = await post('/reload', '');
      expect(ok.status).toBe(200);
      expect(await ok.json()).toEqual({ status: 'success', source: 'local', device_type: 'good' });
      expect(exporter.currentConfig.interval).toBe(0.3);
      await writeFile(configPath, 'interval: "soon"\n');
      const failed = await post('/reload', '');
      expect(failed.status).toBe(422);
      expect(await failed.json()).toEqual({ status: 'error', source: 'local', error: `${configPath}: interval: must be a number` });
      expect(exporter.currentConfig.interval).toBe(0.3);
    });

    test('wrong methods get 405, unknown paths 404, as JSON', async () => {
      const wrong = await fetch(manageUrl('/reload'));
      expect(wrong.status).toBe(405);
      expect(wrong.headers.get('allow')).toBe('POST');
      const unknown = await fetch(manageUrl('/nope'));
      expect(unknown.status).toBe(404);
      expect(await unknown.json()).toEqual({ status: 'error', error: 'no route GET /nope' });
    });

    test('a port in use is a one-line error naming the port and the setting', async () => {
      const second = await Exporter.create({ configPath, cwd: sandbox.path, env: {}, logger: log.logger, installDir: sandbox.installDir });
      await expect(serve(second)).rejects.toMatchObject({
        code: 'EME_PORT_IN_USE',
        message: `port ${listening.port} on 127.0.0.1 is already in use: choose a free one with --port, EDGE_METRICS_PORT or 'port' in the config, or stop the program using it`,
      });
      await second.stop();
    });
  });

  describe('on one port, with a management token', () => {
    beforeEach(async () => {
      const port = await freePort();
      await start(`device_type: good\ninterval: 0.2\nport: ${port}\nreload_port: ${port}\nlisten_address: 127.0.0.1\n`, { MANAGEMENT_TOKEN: 's3cret' });
    });

    test('both route sets share the listener', () => {
      expect(listening.reloadPort).toBe(listening.port);
    });

    test('management routes need the bearer token; /metrics does not', async () => {
      expect((await fetch(manageUrl('/metrics/list'))).status).toBe(401);
      expect((await fetch(manageUrl('/metrics/list'), { headers: { authorization: 'Bearer wrong' } })).status).toBe(401);
      expect((await post('/reload', '', { authorization: 'Bearer s3cret' })).status).toBe(200);
      expect((await fetch(manageUrl('/metrics/list'), { headers: { authorization: 'Bearer s3cret' } })).status).toBe(200);
      expect((await fetch(metricsUrl('/metrics'))).status).toBe(200);
      expect(log.lines.join('\n')).not.toContain('s3cret');
    });
  });

  test('a listen_address this machine does not have is a one-line error naming the address and the setting', async () => {
    const elsewhere = join(sandbox.path, 'elsewhere.yaml');
    // 192.0.2.1 is TEST-NET-1: documentation only, on no interface of this machine.
    await writeFile(elsewhere, 'device_type: good\nport: 9188\nreload_port: 9188\nlisten_address: 192.0.2.1\n');
    const exporter = await Exporter.create({ configPath: elsewhere, cwd: sandbox.path, env: {}, logger: log.logger, installDir: sandbox.installDir });
    await expect(serve(exporter)).rejects.toMatchObject({
      code: 'EME_LISTEN_FAILED',
      message: "cannot listen on 192.0.2.1:9188 ('port'): listen EADDRNOTAVAIL: address not available 192.0.2.1:9188",
    });
    await exporter.stop();
  });

  describe('gzip', () => {
    test('GET /metrics with Accept-Encoding: gzip sends the same exposition compressed, in either format', async () => {
      // A long interval: every request below reads the exposition of the one cycle.
      await start('device_type: good\ninterval: 600\nport: 0\nreload_port: 0\nlisten_address: 127.0.0.1\nmetrics:\n  good_power_watts: true\n');
      await waitFor(async () => (await exporter.metricsText('prometheus')).includes('good_power_watts{'), 'a first cycle');
      for (const accept of ['text/plain;version=0.0.4', 'application/openmetrics-text;version=1.0.0']) {
        const plain = await rawGet(metricsUrl('/metrics'), { accept });
        expect(plain.headers['content-encoding']).toBeUndefined();
        expect(plain.headers.vary).toBe('Accept-Encoding');
        const compressed = await rawGet(metricsUrl('/metrics'), { accept, 'accept-encoding': 'gzip' });
        expect(compressed.status).toBe(200);
        expect(compressed.headers['content-encoding']).toBe('gzip');
        expect(compressed.headers.vary).toBe('Accept-Encoding');
        expect(compressed.headers['content-type']).toBe(plain.headers['content-type']);
        expect(Number(compressed.headers['content-length'])).toBe(compressed.body.length);
        expect(compressed.body.length).toBeLessThan(plain.body.length);
        expect(gunzipSync(compressed.body).toString('utf8')).toBe(plain.body.toString('utf8'));
      }
    });

    test('the bytes are compressed once per cycle, on the first scrape that takes gzip, and never without one', async () => {
      let compressions = 0;
      const cache = new ExpositionCache((bytes) => {
        compressions++;
        return gzipSync(bytes);
      });
      const family = (value: number) => [{ name: 'x_watts', help: 'x', type: 'gauge' as const, samples: [{ name: 'x_watts', labels: [], value }] }];
      const server: Server = createHttpServer((request, response) => {
        if (!answerScrape(request, response, { metricsBytes: (format, encoding) => cache.bytes(format, encoding), logger: log.logger })) response.writeHead(404).end();
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/metrics`;
      try {
        cache.update(family(1));
        await rawGet(url);
        await rawGet(url, { 'accept-encoding': 'gzip;q=0, identity' });
        expect(compressions).toBe(0);
        for (let scrape = 0; scrape < 3; scrape++) {
          expect(gunzipSync((await rawGet(url, { 'accept-encoding': 'gzip, deflate' })).body).toString()).toContain('x_watts 1\n');
        }
        expect(compressions).toBe(1);
        cache.update(family(2));
        for (let scrape = 0; scrape < 3; scrape++) {
          expect(gunzipSync((await rawGet(url, { 'accept-encoding': 'gzip' })).body).toString()).toContain('x_watts 2\n');
        }
        expect(compressions).toBe(2);
      } finally {
        await new Promise((resolve) => server.close(resolve));
      }
    });
  });

  test('modules load on first use: zlib on the first gzip scrape, express on the first other request; cosmiconfig, crypto, prom-client\'s index and @opentelemetry/api never here', async () => {
    const dir = await tempDir();
    const watcher = await moduleLoadWatcher(dir.path, ['express', 'cosmiconfig', 'node:zlib', 'node:crypto', 'prom-client', '@opentelemetry/api']);
    await writeFile(join(dir.path, 'config.yaml'), 'device_type: host\ninterval: 0.2\nport: 0\nreload_port: 0\nlisten_address: 127.0.0.1\n');
    const exporter = new ExporterProcess(dir.path, [], watcher);
    try {
      const { metrics } = await exporter.urls();
      const loaded = () => exporter.log.match(/^loaded \S+$/gm) ?? [];
      expect((await rawGet(`${metrics}/metrics`)).status).toBe(200);
      expect(loaded()).toEqual([]);
      expect((await rawGet(`${metrics}/metrics`, { 'accept-encoding': 'gzip' })).headers['content-encoding']).toBe('gzip');
      expect(loaded()).toEqual(['loaded node:zlib']);
      expect(await (await fetch(`${metrics}/healthz`)).json()).toEqual({ status: 'ok' });
      expect(loaded()).toEqual(['loaded node:zlib', 'loaded express']);
    } finally {
      exporter.kill();
      await exporter.exited;
      await dir.cleanup();
    }
  });
});

import Database from 'better-sqlite3';
import { readFile, writeFile } from 'node:fs/promises';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTcpServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { parse } from 'yaml';
import { Exporter, killExporters, LOCAL_CONFIG, waitFor } from './exporter-process';
import { cleanUp, request, startServer, tempDir, type RunningServer } from './helpers';

const extraServers: Array<{ close(): Promise<void> }> = [];

afterEach(async () => {
  killExporters();
  await Promise.all(extraServers.splice(0).map((server) => server.close()));
  await cleanUp();
});

/** Registers a test server for closing after the test, its open connections first. */
function closeLater(server: Server | ReturnType<typeof createTcpServer>): void {
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  extraServers.push({
    close: () =>
      new Promise((resolve) => {
        sockets.forEach((socket) => socket.destroy());
        server.close(() => resolve());
      }),
  });
}


/** Waits until the device has applied the server's current version (and reported so): the two are in step. */
async function inStep(server: RunningServer): Promise<{ version: number }> {
  return waitFor(async () => {
    const summary = (await admin(server, '/devices/edge-01')).json();
    return summary.apply?.status === 'applied' && summary.apply.applied_version === summary.version && summary;
  }, 'the device to apply the current version');
}

/**
 * Waits until the device has pushed every metric it discovers (CPU usage comes a cycle after the rest: it needs two
 * readings) and applied the resulting version: nothing of its own is still on the way.
 */
async function discoveredAndInStep(server: RunningServer): Promise<{ version: number }> {
  await waitFor(async () => (await admin(server, '/config/edge-01')).status === 200 && Object.hasOwn((await serverConfig(server)).metrics ?? {}, 'host_cpu_core_usage_percent'), 'every discovered metric on the server');
  return inStep(server);
}

const admin = (server: RunningServer, path: string, init: Parameters<typeof request>[2] = {}) => request(server.base, path, init);
const serverConfig = async (server: RunningServer) => (await admin(server, '/config/edge-01')).json();

describe('an exporter following the config server', () => {
  test('registers itself with its local config (secrets left out), reports its endpoint, and shows in /sd', async () => {
    const server = await startServer();
    const dir = await tempDir();
    const exporter = await Exporter.start(dir, { CONFIG_SERVER_URL: server.base }, `${LOCAL_CONFIG}management_token: local-secret\n`);
    const { metrics } = await exporter.ports();
    const registered = await waitFor(async () => (await admin(server, '/config/edge-01')).status === 200 && serverConfig(server), 'the registration');
    expect(registered).toMatchObject({ device_type: 'host', metrics: { host_load1: true } });
    expect(registered).not.toHaveProperty('management_token');
    const sd = await waitFor(async () => {
      const groups = (await admin(server, '/sd')).json();
      return groups.length === 1 && groups;
    }, 'the device in /sd');
    expect(sd).toEqual([{ targets: [`127.0.0.1:${new URL(metrics).port}`], labels: { device_id: 'edge-01', device_type: 'host' } }]);
    const device = await inStep(server);
    expect((await admin(server, '/config/edge-01/history')).json().versions.at(-1)).toMatchObject({ version: 1, source: 'device', apply_status: 'applied' });
    expect(device.version).toBeGreaterThanOrEqual(1);
  });

  test("takes the server's config at start, saves it as the local fallback with the file's comments kept", async () => {
    const server = await startServer();
    await admin(server, '/config/edge-01', { method: 'PUT', json: { device_type: 'host', interval: 0.2, port: 0, reload_port: 0, listen_address: '127.0.0.1', labels: { site: 'roof' }, metrics: { host_load1: true, host_load5: true } } });
    const exporter = await Exporter.start(await tempDir(), { CONFIG_SERVER_URL: server.base });
    expect(await exporter.list()).toMatchObject({ source: 'server', metrics: { host_load1: true, host_load5: true } });
    await waitFor(async () => (await exporter.metrics()).includes('site="roof"'), "the server's labels on the series");
    const local = await waitFor(async () => {
      const text = await exporter.localFile();
      return text.includes('site: roof') && text;
    }, 'the local fallback file');
    expect(local).toContain("# this device's own settings");
    expect(local).toContain('host_load1: true # watched by the fleet dashboard');
    expect(parse(local)).toMatchObject({ labels: { site: 'roof' }, metrics: { host_load1: true, host_load5: true } });
  });

  test("a config file named by LOCAL_CONFIG_PATH that does not exist yet receives the server's config", async () => {
    const server = await startServer();
    await admin(server, '/config/edge-01', { method: 'PUT', json: { device_type: 'host', interval: 0.2, port: 0, reload_port: 0, labels: { site: 'roof' } } });
    const dir = await tempDir();
    const exporter = await Exporter.start(dir, { CONFIG_SERVER_URL: server.base, LOCAL_CONFIG_PATH: 'device.yaml' });
    await waitFor(() => exporter.stderr.includes('running: device_type host'), 'the exporter to run');
    const saved = await waitFor(async () => parse(await readFile(join(dir, 'device.yaml'), 'utf8').catch(() => '')), 'the config saved to device.yaml');
    expect(saved).toMatchObject({ device_type: 'host', labels: { site: 'roof' } });
  });

  test.each([
    ['down (connection refused)', async () => `http://127.0.0.1:${await closedPort()}`],
    ['slow (accepts, never answers)', async () => silentServer()],
    ['answering garbage', async () => garbageServer()],
  ])('falls back to the local file when the server is %s, within the timeout', async (_case, url) => {
    const started = Date.now();
    const exporter = await Exporter.start(await tempDir(), { CONFIG_SERVER_URL: await url(), CONFIG_TIMEOUT: '1' });
    await exporter.ports();
    const startedInMs = Date.now() - started;
    console.log(`exporter serving ${startedInMs} ms after its start, with a 1 s config server timeout`);
    expect(startedInMs).toBeLessThan(15_000);
    expect((await exporter.list()).source).toBe('local');
    expect(exporter.stderr).toContain('fallback to the local config file');
  });

  test('applies a change made on the server at once, through its long-poll', async () => {
    const server = await startServer();
    const exporter = await Exporter.start(await tempDir(), { CONFIG_SERVER_URL: server.base });
    await inStep(server);
    const current = await serverConfig(server);
    const sent = Date.now();
    await admin(server, '/config/edge-01', { method: 'PUT', json: { ...current, metrics: { ...current.metrics, host_load5: true } } });
    await waitFor(async () => (await exporter.list()).metrics.host_load5 === true, 'the change on the device');
    console.log(`a server-side change was applied on the device ${Date.now() - sent} ms after the PUT`);
    expect((await exporter.list()).source).toBe('server');
    await waitFor(async () => /^host_load5\{/m.test(await exporter.metrics()), 'the metric in /metrics');
  });

  test('sends a toggle made on the device to the server', async () => {
    const server = await startServer();
    const exporter = await Exporter.start(await tempDir(), { CONFIG_SERVER_URL: server.base });
    await waitFor(async () => (await admin(server, '/config/edge-01')).status === 200, 'the registration');
    expect(await exporter.enable({ host_load15: true })).toBe(200);
    await waitFor(async () => (await serverConfig(server)).metrics.host_load15 === true, 'the toggle on the server');
    expect((await admin(server, '/config/edge-01/history')).json().versions[0].source).toBe('device');
  });

  test('changes made while the server is away are kept and merged with a server-side change to another key', async () => {
    const dir = await tempDir();
    const server = await startServer({ dir });
    const port = new URL(server.base).port;
    const exporter = await Exporter.start(await tempDir(), { CONFIG_SERVER_URL: server.base });
    await discoveredAndInStep(server);
    await server.server.close();

    expect(await exporter.enable({ host_load15: true })).toBe(200);
    await waitFor(async () => /^edge_config_sync_pending_changes\{[^}]*\} 1$/m.test(await exporter.metrics()), 'the pending change in the self-metrics');

    // Back on the same address and database; an operator changes another key before the device is back.
    const restarted = await startServer({ dir, dbPath: server.dbPath, port: Number(port) });
    const fetched = await admin(restarted, '/config/edge-01');
    const changed = await admin(restarted, '/config/edge-01', { method: 'PUT', headers: { 'If-Match': String(fetched.headers.etag) }, json: { ...fetched.json(), metrics: { ...fetched.json().metrics, host_load5: true } } });
    expect(changed.status).toBe(200);

    const merged = await waitFor(async () => {
      const config = await serverConfig(restarted);
      return config.metrics.host_load15 === true && config;
    }, 'the offline change on the server', 40_000);
    expect(merged.metrics).toMatchObject({ host_load1: true, host_load5: true, host_load15: true });
    await waitFor(async () => {
      const { metrics } = await exporter.list();
      return metrics.host_load5 === true && metrics.host_load15 === true;
    }, 'both changes on the device', 40_000);
  });

  test('changes queued while the server is away survive a crash of the exporter', async () => {
    const dir = await tempDir();
    const server = await startServer({ dir });
    const port = Number(new URL(server.base).port);
    const deviceDir = await tempDir();
    const first = await Exporter.start(deviceDir, { CONFIG_SERVER_URL: server.base });
    await discoveredAndInStep(server);
    await server.server.close();
    expect(await first.enable({ host_load15: true })).toBe(200);
    await waitFor(async () => /^edge_config_sync_pending_changes\{[^}]*\} 1$/m.test(await first.metrics()), 'the queued change');
    first.child.kill('SIGKILL');

    const second = await Exporter.start(deviceDir, { CONFIG_SERVER_URL: server.base }, await first.localFile());
    await second.ports();
    const restarted = await startServer({ dir, dbPath: server.dbPath, port });
    await waitFor(async () => (await serverConfig(restarted)).metrics.host_load15 === true, 'the queued change on the server', 40_000);
  });

  test('a version that cannot be applied is reported failed, not retried, and the device keeps its config', async () => {
    const server = await startServer();
    const exporter = await Exporter.start(await tempDir(), { CONFIG_SERVER_URL: server.base });
    const { version: good } = await discoveredAndInStep(server);
    const current = await serverConfig(server);
    const bad = Number(JSON.parse(String((await admin(server, '/config/edge-01', { method: 'PUT', json: { ...current, device_type: 'acme_meter' } })).headers.etag)));
    const device = await waitFor(async () => {
      const summary = (await admin(server, '/devices/edge-01')).json();
      return summary.apply?.status === 'failed' && summary;
    }, 'the failure report');
    expect(device.apply).toMatchObject({ received_version: bad, applied_version: good });
    expect(device.apply.error).toContain("no installed plugin serves device type 'acme_meter'");
    expect((await exporter.list()).device_type).toBe('host');
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(exporter.stderr.split('\n').filter((line) => line.includes(`config version ${bad} from the config server was not applied`))).toHaveLength(1);
  });

  test('a stored version that is not a config (null) is reported failed with the error; the device keeps its config', async () => {
    const dir = await tempDir();
    const server = await startServer({ dir });
    const port = Number(new URL(server.base).port);
    const exporter = await Exporter.start(await tempDir(), { CONFIG_SERVER_URL: server.base });
    const { version: good } = await discoveredAndInStep(server);
    // Written straight into the server's database, as a server that accepted it (or an older one) left it.
    await server.server.close();
    const db = new Database(server.dbPath);
    db.prepare("INSERT INTO config_versions (device_id, version, config, source, created_at) VALUES ('edge-01', ?, 'null', 'admin', ?)").run(good + 1, Date.now());
    db.close();
    const restarted = await startServer({ dir, dbPath: server.dbPath, port });
    const device = await waitFor(async () => {
      const summary = (await admin(restarted, '/devices/edge-01')).json();
      return summary.apply?.status === 'failed' && summary;
    }, 'the failure report', 40_000);
    expect(device.apply).toMatchObject({ received_version: good + 1, applied_version: good });
    expect(device.apply.error).toBe('the config is null, not an object (a map of config keys)');
    expect(await exporter.list()).toMatchObject({ source: 'server', device_type: 'host' });
    expect(exporter.stderr).toContain(`config version ${good + 1} from the config server was not applied, the config in force stays: the config is null`);
  });

  test('an operator version that leaves out discovered metrics makes one version: the device does not add them back', async () => {
    const server = await startServer();
    const deviceDir = await tempDir();
    const first = await Exporter.start(deviceDir, { CONFIG_SERVER_URL: server.base });
    await waitFor(async () => (await admin(server, '/config/edge-01')).status === 200 && (await serverConfig(server)).metrics.host_load5 === false, 'the discovered metrics on the server');
    await discoveredAndInStep(server);
    const discoveries = (stderr: string) => stderr.match(/discovered \d+ new metrics?/g)?.length ?? 0;
    const discoveredBefore = discoveries(first.stderr);
    const current = await serverConfig(server);
    const put = await admin(server, '/config/edge-01', { method: 'PUT', json: { ...current, metrics: { host_load1: true, host_load5: true } } });
    const operatorVersion = Number(JSON.parse(String(put.headers.etag)));
    await inStep(server);
    // The device keeps running its discovered metrics at the default, off, without a version of its own.
    await waitFor(async () => (await first.list()).metrics.host_load15 === false, 'the discovered metric at its default on the device');
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const history = async () => (await admin(server, '/config/edge-01/history')).json().versions.map((entry: { version: number }) => entry.version);
    expect(Math.max(...(await history()))).toBe(operatorVersion);
    expect(discoveries(first.stderr)).toBe(discoveredBefore);
    expect(await first.list()).toMatchObject({ source: 'server', metrics: { host_load1: true, host_load5: true, host_load15: false } });

    // Nor after a restart.
    await first.stop();
    const second = await Exporter.start(deviceDir, { CONFIG_SERVER_URL: server.base }, await first.localFile());
    await waitFor(async () => (await second.list()).metrics.host_load15 === false, 'the restarted device to collect');
    await inStep(server);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(Math.max(...(await history()))).toBe(operatorVersion);
    expect(discoveries(second.stderr)).toBe(0);
  });

  test('a 412 while sending a change (the server moved on meanwhile) is retried on the new version', async () => {
    const server = await startServer();
    let raced = false;
    const forward = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
      const body = await new Promise<string>((resolve) => {
        let text = '';
        req.on('data', (chunk) => (text += chunk)).on('end', () => resolve(text));
      });
      // The first time the device sends a change, an operator's change lands first: the device's If-Match is stale.
      if (req.method === 'PUT' && req.headers['if-match'] && !raced) {
        raced = true;
        const current = await serverConfig(server);
        await admin(server, '/config/edge-01', { method: 'PUT', json: { ...current, labels: { rack: '7' } } });
      }
      const forwarded = await request(server.base, req.url!, { method: req.method!, headers: pick(req.headers, ['if-match', 'if-none-match', 'content-type', 'x-config-source']), ...(body ? { body } : {}) });
      res.writeHead(forwarded.status, pick(forwarded.headers, ['etag', 'content-type', 'x-config-updated-at'])).end(forwarded.text);
    };
    const proxy = createHttpServer((req, res) => void forward(req, res).catch(() => res.destroy()));
    closeLater(proxy);
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    const exporter = await Exporter.start(await tempDir(), { CONFIG_SERVER_URL: `http://127.0.0.1:${(proxy.address() as { port: number }).port}` });
    await waitFor(async () => (await admin(server, '/config/edge-01')).status === 200, 'the registration');
    expect(await exporter.enable({ host_load15: true })).toBe(200);
    const config = await waitFor(async () => {
      const current = await serverConfig(server);
      return current.metrics.host_load15 === true && current;
    }, 'the change on the server');
    expect(raced).toBe(true);
    expect(config.labels).toEqual({ rack: '7' });
  });
});

describe("a device's local-only keys (token, listen address) under a config server", () => {
  const TOKEN = 'local-secret';
  const bearer = { authorization: `Bearer ${TOKEN}` };

  test('a syntax error in the local file, then a new version from the server: the token stays in force', async () => {
    const server = await startServer();
    const dir = await tempDir();
    const exporter = await Exporter.start(dir, { CONFIG_SERVER_URL: server.base }, `${LOCAL_CONFIG}management_token: ${TOKEN}\n`);
    const { manage } = await exporter.ports();
    await inStep(server);
    await writeFile(join(dir, 'config.yaml'), `${LOCAL_CONFIG}management_token: ${TOKEN}\nlabels: [unclosed\n`);
    await waitFor(() => exporter.stderr.includes('config reload failed'), 'the broken file to be reported');
    const current = await serverConfig(server);
    await admin(server, '/config/edge-01', { method: 'PUT', json: { ...current, metrics: { ...current.metrics, host_load5: true } } });
    await waitFor(async () => (await exporter.list(bearer)).metrics.host_load5 === true, 'the new version on the device');
    expect((await fetch(`${manage}/metrics/list`)).status).toBe(401);
    expect((await fetch(`${manage}/metrics/enable`, { method: 'POST', body: '{"host_load15": true}' })).status).toBe(401);
  });

  test('a local file that is not valid at start stops the exporter rather than run without its token', async () => {
    const server = await startServer();
    await admin(server, '/config/edge-01', { method: 'PUT', json: { device_type: 'host', interval: 0.2, port: 0, reload_port: 0, metrics: { host_load1: true } } });
    const dir = await tempDir();
    const exporter = await Exporter.start(dir, { CONFIG_SERVER_URL: server.base }, `${LOCAL_CONFIG}management_token: ${TOKEN}\nintervall: 5\n`);
    expect(await exporter.exited).toBe(1);
    expect(exporter.stderr).toBe(`edge-metrics-exporter: ${join(dir, 'config.yaml')}: unknown key 'intervall'\n`);
  });

  test("the server's version never changes the local listen address", async () => {
    const server = await startServer();
    await admin(server, '/config/edge-01', { method: 'PUT', json: { device_type: 'host', interval: 0.2, port: 0, reload_port: 0, listen_address: '0.0.0.0', metrics: { host_load1: true } } });
    const exporter = await Exporter.start(await tempDir(), { CONFIG_SERVER_URL: server.base });
    await exporter.ports();
    expect((await exporter.list()).source).toBe('server');
    await inStep(server);
    const current = await serverConfig(server);
    await admin(server, '/config/edge-01', { method: 'PUT', json: { ...current, listen_address: '0.0.0.0', metrics: { ...current.metrics, host_load5: true } } });
    await waitFor(async () => (await exporter.list()).metrics.host_load5 === true, 'the new version on the device');
    await inStep(server);
    expect(exporter.stderr).not.toContain('listen_address changed');
    expect(parse(await exporter.localFile()).listen_address).toBe('127.0.0.1');
  });
});

function pick(headers: Record<string, unknown>, names: string[]): Record<string, string> {
  return Object.fromEntries(names.filter((name) => headers[name] !== undefined).map((name) => [name, String(headers[name])]));
}

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createTcpServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** A server that accepts connections and never answers. */
async function silentServer(): Promise<string> {
  const server = createTcpServer();
  closeLater(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as { port: number }).port}`;
}

/** A server that answers 200 with a body that is not a config. */
async function garbageServer(): Promise<string> {
  const server = createHttpServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json', etag: '"1"' }).end('<html>proxy error</html>'));
  closeLater(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as { port: number }).port}`;
}

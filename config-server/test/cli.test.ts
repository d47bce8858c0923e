import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { CLI, killCliProcesses, runCli, startCli } from './cli-process';
import { cleanUp, request, SAMPLE_CONFIG, tempDir, waitFor } from './helpers';

const VERSION = (JSON.parse(readFileSync(join(__dirname, '..', 'package.json'), 'utf8')) as { version: string }).version;
const ADMIN = 'admin-93d0c7a1f4be2e68';
const DEVICE = 'pi07-5e2b9c4d1a8f3b70';

jest.setTimeout(30000);

beforeAll(() => {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: build first (npx tsc --build config-server)`);
});
afterEach(cleanUp);
afterEach(killCliProcesses);

const lines = (text: string): string[] => text.split('\n').filter((line) => line !== '');

/** A loopback port that nothing listens on now. */
async function closedPort(): Promise<number> {
  const probe: Server = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as { port: number };
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

describe('edge-metrics-config-server', () => {
  it('prints its usage for --help and its version for --version', async () => {
    const help = runCli(['--help']);
    expect(await help.exited).toEqual({ code: 0, signal: null });
    expect(help.stdout()).toContain('Usage: edge-metrics-config-server [options]');
    expect(help.stdout()).toContain('CONFIG_SERVER_DEVICE_TOKENS');
    for (const flag of ['--session-ttl DURATION', '--offline-after SECONDS', '--prometheus-url URL', '--grafana-url URL']) expect(help.stdout()).toContain(flag);

    const version = runCli(['--version']);
    expect(await version.exited).toEqual({ code: 0, signal: null });
    expect(version.stdout()).toBe(`${VERSION}\n`);
  });

  it.each([
    [['--bogus'], "Unknown option '--bogus'"],
    [['--port', '70000'], '--port must be an integer from 0 to 65535, not "70000"'],
    [['--port', 'eighty'], '--port must be an integer from 0 to 65535, not "eighty"'],
    [['--port'], "Option '--port <value>' argument missing"],
    [['--listen', 'no such host!'], '--listen must be an IP address or a host name, not "no such host!"'],
    [['--db', ''], '--db needs a file name or a postgres:// URL'],
    [['extra'], "Unexpected argument 'extra'"],
    [['--session-ttl', '5'], '--session-ttl must be a duration from 1m to 30d such as 30m, 12h or 7d, not "5"'],
    [['--prometheus-url', 'localhost:9090'], '--prometheus-url must be an http:// or https:// URL, not "localhost:9090"'],
  ])('exits 2 with one line for %j', async (args, message) => {
    const cli = runCli(args);
    expect(await cli.exited).toEqual({ code: 2, signal: null });
    expect(lines(cli.stderr())).toEqual([`edge-metrics-config-server: ${message}; see --help`]);
  });

  it.each([
    [{ CONFIG_SERVER_TOKEN: '' }, 'CONFIG_SERVER_TOKEN is set but empty'],
    [{ CONFIG_SERVER_TOKEN: ADMIN, CONFIG_SERVER_DEVICE_TOKENS: `pi-07 ${DEVICE}` }, 'CONFIG_SERVER_DEVICE_TOKENS entry 1: expected device_id=token'],
    [{ CONFIG_SERVER_TOKEN: ADMIN, CONFIG_SERVER_DEVICE_TOKENS: `ok=${DEVICE},../x=${DEVICE}x` }, 'entry 2: device id "../x" is not valid'],
    [{ CONFIG_SERVER_DEVICE_TOKENS: `pi-07=${DEVICE}` }, 'no admin token'],
  ])('exits 2 with one line for bad tokens %#', async (env, message) => {
    const cli = runCli(['--port', '0', '--db', join(await tempDir(), 'x.db')], env);
    expect(await cli.exited).toEqual({ code: 2, signal: null });
    expect(lines(cli.stderr())).toEqual([expect.stringContaining(message)]);
    expect(cli.stderr()).not.toContain(DEVICE);
    expect(cli.stderr()).not.toContain(ADMIN);
  });

  it('exits 1 with one line naming the port and --port when the port is in use', async () => {
    const blocker: Server = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const { port } = blocker.address() as { port: number };
    try {
      const cli = runCli(['--port', String(port), '--listen', '127.0.0.1', '--db', join(await tempDir(), 'x.db')]);
      expect(await cli.exited).toEqual({ code: 1, signal: null });
      expect(lines(cli.stderr())).toEqual([
        `edge-metrics-config-server: port ${port} on 127.0.0.1 is already in use: stop the other process or choose another port with --port`,
      ]);
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });

  it('exits 1 with one line naming the address, --listen and --port when the address is not this machine\'s', async () => {
    // 192.0.2.1 is TEST-NET-1: documentation only, on no interface of this machine.
    const cli = runCli(['--port', '8188', '--listen', '192.0.2.1', '--db', join(await tempDir(), 'x.db')]);
    expect(await cli.exited).toEqual({ code: 1, signal: null });
    expect(lines(cli.stderr())).toEqual([
      'edge-metrics-config-server: cannot listen on 192.0.2.1 port 8188: listen EADDRNOTAVAIL: address not available 192.0.2.1:8188; check --listen and --port',
    ]);
  });

  it('exits 1 with one line naming the file and --db when the database cannot be opened', async () => {
    const dbPath = join(await tempDir(), 'missing-folder', 'config.db');
    const cli = runCli(['--port', '0', '--db', dbPath]);
    expect(await cli.exited).toEqual({ code: 1, signal: null });
    expect(lines(cli.stderr())).toEqual([expect.stringMatching(new RegExp(`cannot open the database ${dbPath}: .*; choose the file with --db$`))]);
  });

  it('exits 1 with one line naming the URL (without its password), --db and DATABASE_URL when PostgreSQL cannot be reached', async () => {
    const port = await closedPort();
    const cli = runCli(['--port', '0', '--db', `postgres://ecs:secret@127.0.0.1:${port}/fleet`]);
    expect(await cli.exited).toEqual({ code: 1, signal: null });
    const url = `postgres://ecs:\\*\\*\\*@127\\.0\\.0\\.1:${port}/fleet`;
    expect(lines(cli.stderr())).toEqual([
      expect.stringMatching(new RegExp(`^edge-metrics-config-server: cannot open the database ${url}: .*ECONNREFUSED.*; check the URL given with --db \\(or DATABASE_URL\\) and that PostgreSQL is running$`)),
    ]);
    expect(cli.stderr()).not.toContain('secret');
  });

  it('serves with tokens from the environment and a file, answers held polls on SIGTERM, exits 0, and keeps its data', async () => {
    const dir = await tempDir();
    const dbPath = join(dir, 'fleet.db');
    const tokensFile = join(dir, 'device-tokens');
    writeFileSync(tokensFile, `# device tokens\n\npi-07=${DEVICE}\n`, { mode: 0o600 });
    const env = { CONFIG_SERVER_TOKEN: ADMIN, CONFIG_SERVER_DEVICE_TOKENS: 'edge-01=edge01-0a7d3c9e5f1b2d84' };
    const cli = await startCli(['--db', dbPath, '--device-tokens', tokensFile], env);
    expect(cli.stderr()).not.toContain('the server is open');

    expect((await request(cli.base, '/config/pi-07', { method: 'PUT', json: SAMPLE_CONFIG })).status).toBe(401);
    expect((await request(cli.base, '/config/pi-07', { method: 'PUT', json: SAMPLE_CONFIG, token: ADMIN })).status).toBe(201);
    expect((await request(cli.base, '/config/pi-07', { token: DEVICE })).json()).toEqual(SAMPLE_CONFIG);
    expect((await request(cli.base, '/devices', { token: DEVICE })).status).toBe(403);

    const poll = request(cli.base, '/config/pi-07?wait=60', { token: DEVICE, headers: { 'If-None-Match': '"1"' } });
    await waitFor(async () => {
      const { text } = await request(cli.base, '/metrics', { token: ADMIN });
      return text.includes('config_server_long_polls 1');
    }, 'the long-poll to be held');
    cli.child.kill('SIGTERM');
    const answered = await poll;
    expect(answered.status).toBe(304);
    expect(await cli.exited).toEqual({ code: 0, signal: null });
    expect(cli.stderr()).toContain('info: SIGTERM: closing');
    expect(cli.stderr()).toContain('info: closed');
    for (const token of [ADMIN, DEVICE, env.CONFIG_SERVER_DEVICE_TOKENS]) expect(cli.stderr()).not.toContain(token);

    const restarted = await startCli(['--db', dbPath]);
    expect(restarted.stderr()).toContain('warn: no token is configured: the server is open');
    const kept = await request(restarted.base, '/config/pi-07');
    expect(kept.headers.etag).toBe('"1"');
    expect(kept.json()).toEqual(SAMPLE_CONFIG);
    restarted.child.kill('SIGINT');
    expect(await restarted.exited).toEqual({ code: 0, signal: null });
  });

  it('parses a 24,000-key YAML PUT without freezing: /healthz answers meanwhile, the body is refused naming the limit, nothing is stored', async () => {
    const cli = await startCli(['--db', join(await tempDir(), 'fleet.db')]);
    const keys = Array.from({ length: 24_000 }, (_, i) => `  k${i.toString(36)}: 1\n`).join('');
    const body = `device_type: host\noptions:\n${keys}`;
    expect(body.length).toBeLessThan(256 * 1024);
    const put = request(cli.base, '/config/edge-01', { method: 'PUT', body, headers: { 'Content-Type': 'application/yaml' } });
    // Bounded well below the time yaml's quadratic duplicate-key check takes on this body, and far above a linear parse.
    const health = await fetch(`${cli.base}/healthz`, { signal: AbortSignal.timeout(8000) });
    expect(health.status).toBe(200);
    const refused = await put;
    expect(refused.status).toBe(400);
    expect(refused.json().problems).toEqual(['24002 keys and list items in all, more than the limit of 10000']);
    expect((await request(cli.base, '/config/edge-01')).status).toBe(404);
    cli.child.kill('SIGTERM');
    expect((await cli.exited).code).toBe(0);
  });

  it('serves the console with the session length, offline threshold, Prometheus and Grafana of its flags', async () => {
    const cli = await startCli(
      ['--db', join(await tempDir(), 'console.db'), '--session-ttl', '30m', '--offline-after', '90', '--prometheus-url', 'http://127.0.0.1:9/', '--grafana-url', 'https://grafana.example.org'],
      { CONFIG_SERVER_TOKEN: ADMIN },
    );
    const signIn = await request(cli.base, '/ui/sign-in', { method: 'POST', body: `token=${ADMIN}`, headers: { 'Content-Type': 'application/x-www-form-urlencoded' } });
    expect(signIn.headers['set-cookie']![0]).toMatch(/; Max-Age=1800$/);
    const cookie = signIn.headers['set-cookie']![0]!.split(';')[0]!;
    expect((await request(cli.base, '/ui/session', { headers: { Cookie: cookie } })).json()).toMatchObject({
      offline_after_s: 90,
      prometheus: true,
      grafana_url: 'https://grafana.example.org/d/edge-metrics-device',
    });
    const power = await request(cli.base, '/ui/power', { headers: { Cookie: cookie } });
    expect([power.status, power.json().error]).toEqual([502, expect.stringContaining('Prometheus at http://127.0.0.1:9 did not answer')]);
    // The page itself comes from the package's folders.
    const page = await request(cli.base, '/ui/sign-in');
    expect([page.status, page.text]).toEqual([200, expect.stringContaining('<form method="post" action="/ui/sign-in">')]);
  });

  it('warns when the device tokens file can be read by others', async () => {
    const dir = await tempDir();
    const tokensFile = join(dir, 'device-tokens');
    writeFileSync(tokensFile, `pi-07=${DEVICE}\n`, { mode: 0o644 });
    const cli = await startCli(['--db', join(dir, 'x.db'), '--device-tokens', tokensFile], { CONFIG_SERVER_TOKEN: ADMIN });
    expect(cli.stderr()).toContain(`warn: ${tokensFile} can be read by other users; chmod 600 ${tokensFile}`);
    cli.child.kill('SIGTERM');
    expect((await cli.exited).code).toBe(0);
  });
});

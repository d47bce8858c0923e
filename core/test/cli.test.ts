import { spawn, spawnSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { ExporterProcess, pluginSource, tempDir, waitFor, writePackage } from './helpers';

const CLI = join(__dirname, '..', 'dist', 'cli.js');
const VERSION = require('../package.json').version;

function run(args: string[], cwd: string, env: NodeJS.ProcessEnv = {}) {
  const result = spawnSync(process.execPath, [CLI, ...args], { cwd, env: { PATH: process.env.PATH, ...env }, encoding: 'utf8', timeout: 20_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('edge-metrics-exporter CLI', () => {
  let dir: { path: string; cleanup: () => Promise<void> };
  beforeEach(async () => {
    dir = await tempDir();
  });
  afterEach(() => dir.cleanup());

  test('--help and --version', () => {
    const help = run(['--help'], dir.path);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('edge-metrics-exporter --once');
    expect(run(['--version'], dir.path)).toEqual({ code: 0, stdout: `${VERSION}\n`, stderr: '' });
  });

  test.each([
    [['--bogus'], "edge-metrics-exporter: Unknown option '--bogus' (see 'edge-metrics-exporter --help')\n"],
    [['--once', '--timeout', 'soon'], "edge-metrics-exporter: --timeout must be a number of seconds above 0, not 'soon' (see 'edge-metrics-exporter --help')\n"],
    [['serve'], "edge-metrics-exporter: unknown command 'serve' (the only command is 'plugins') (see 'edge-metrics-exporter --help')\n"],
    [['--config'], "edge-metrics-exporter: Option '-c, --config <value>' argument missing (see 'edge-metrics-exporter --help')\n"],
    [['--port', '91OO'], "edge-metrics-exporter: --port must be a port number from 0 to 65535, not '91OO' (see 'edge-metrics-exporter --help')\n"],
    [['--once', '--reload-port', '9101'], "edge-metrics-exporter: --port and --reload-port go with running the exporter, not --once (see 'edge-metrics-exporter --help')\n"],
  ])('%j is a one-line error with exit code 2', (args, stderr) => {
    expect(run(args, dir.path)).toEqual({ code: 2, stdout: '', stderr });
  });

  test('--help lists the environment variables', () => {
    const help = run(['--help'], dir.path).stdout;
    for (const name of ['LOCAL_CONFIG_PATH', 'EDGE_METRICS_PORT', 'EDGE_METRICS_RELOAD_PORT', 'MANAGEMENT_TOKEN', 'CONFIG_SERVER_URL', 'CONFIG_TIMEOUT', 'CONFIG_SERVER_TOKEN', 'DEVICE_ID']) {
      expect(help).toMatch(new RegExp(`^  ${name} +\\S`, 'm'));
    }
    expect(help).toContain('--port N');
    expect(help).toContain('--reload-port N');
  });

  test.each([
    [['--config', 'typo.yaml'], {}, '--config'],
    [[], { LOCAL_CONFIG_PATH: 'typo.yaml' }, 'LOCAL_CONFIG_PATH'],
  ])('a config file named by %j %j that does not exist is a one-line error with exit code 2', async (args, env, by) => {
    await writeFile(join(dir.path, '.edge-metricsrc.yaml'), 'device_type: host\n');
    expect(run(['--once', ...args], dir.path, env)).toEqual({
      code: 2,
      stdout: '',
      stderr: `edge-metrics-exporter: ${join(dir.path, 'typo.yaml')}: no such file (named by ${by}); without a config server nothing would create it\n`,
    });
    expect(spawnSync('ls', ['-A', dir.path], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean)).toEqual(['.edge-metricsrc.yaml']);
  });

  test('a named config file that does not exist is where the config server\'s config goes, when there is one', () => {
    // The server is down here: the exporter runs on the defaults rather than refuse, as it would with the file.
    const once = run(['--once', '--config', 'from-server.yaml'], dir.path, { CONFIG_SERVER_URL: 'http://127.0.0.1:1', CONFIG_TIMEOUT: '1' });
    expect(once.code).toBe(0);
    expect(once.stdout).toMatch(/^edge_config_info\{[^}]*source="defaults"\} 1$/m);
  });

  test('an empty LOCAL_CONFIG_PATH (as a systemd Environment= line leaves it) is unset', async () => {
    await writeFile(join(dir.path, 'config.yaml'), 'device_type: host\nlabels:\n  site: roof\n');
    const once = run(['--once'], dir.path, { LOCAL_CONFIG_PATH: '' });
    expect(once.code).toBe(0);
    expect(once.stdout).toMatch(/^edge_config_info\{[^}]*site="roof",source="local"\} 1$/m);
  });

  test('--port over EDGE_METRICS_PORT over the config file (and the same for the management port)', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const taken = (blocker.address() as AddressInfo).port;
    await writeFile(join(dir.path, 'config.yaml'), `device_type: host\nport: ${taken}\nreload_port: ${taken}\nlisten_address: 127.0.0.1\n`);
    const cases: Array<[string[], NodeJS.ProcessEnv]> = [
      [['--port', '0', '--reload-port', '0'], {}],
      [[], { EDGE_METRICS_PORT: '0', EDGE_METRICS_RELOAD_PORT: '0' }],
      [['--port', '0', '--reload-port', '0'], { EDGE_METRICS_PORT: String(taken), EDGE_METRICS_RELOAD_PORT: String(taken) }],
    ];
    try {
      for (const [args, env] of cases) {
        const exporter = new ExporterProcess(dir.path, args, env);
        try {
          const { metrics, manage } = await exporter.urls();
          expect(new URL(metrics).port).not.toBe(String(taken));
          expect(new URL(manage).port).not.toBe(String(taken));
        } finally {
          exporter.kill();
        }
      }
    } finally {
      blocker.close();
    }
  });

  test('--once with no config prints the host metrics of this machine and exits 0', () => {
    const once = run(['--once'], dir.path);
    expect(once.code).toBe(0);
    expect(once.stdout).toMatch(/^host_memory_total_bytes\{device_type="host",hostname="[^"]+"\} \d+$/m);
    expect(once.stdout).toMatch(/^host_cpu_usage_percent\{device_type="host",hostname="[^"]+"\} [\d.]+$/m);
    expect(once.stdout).toMatch(/^edge_collector_up\{device_type="host",hostname="[^"]+",collector="host"\} 1$/m);
    expect(once.stdout).toMatch(/^edge_config_info\{device_type="host",hostname="[^"]+",source="defaults"\} 1$/m);
  });

  test('--once exits 1 when a collector fails, and writes no file', async () => {
    await writePackage(join(dir.path, 'node_modules'), 'edge-collector-flaky', {
      'index.js': pluginSource('edge-collector-flaky', 'flaky', 'flaky', "throw new Error('no sensor');"),
    });
    await writeFile(join(dir.path, 'config.yaml'), 'device_type: flaky\n');
    const once = run(['--once', '--timeout', '2'], dir.path);
    expect(once.code).toBe(1);
    expect(once.stderr).toContain('error: collector flaky (edge-collector-flaky) failed: no sensor');
    expect(once.stdout).toMatch(/^edge_collector_up\{.*collector="flaky"\} 0$/m);
    expect(spawnSync('ls', ['-A', dir.path], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean).sort()).toEqual(['config.yaml', 'node_modules']);
  });

  test('an invalid config at start is a clear error and exit code 1', async () => {
    await writeFile(join(dir.path, 'config.yaml'), 'device_type: host\nport: nine\n');
    const result = run(['--once'], dir.path);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(`edge-metrics-exporter: ${join(dir.path, 'config.yaml')}: port: must be an integer\n`);
  });

  test('LOCAL_CONFIG_PATH names the config file', async () => {
    await writeFile(join(dir.path, 'elsewhere.yaml'), 'device_type: host\nnew_metrics_default: true\nlabels:\n  site: roof\n');
    const result = run(['--once'], dir.path, { LOCAL_CONFIG_PATH: join(dir.path, 'elsewhere.yaml') });
    expect(result.stdout).toMatch(/^host_load1\{device_type="host",hostname="[^"]+",site="roof"\} /m);
  });

  test("'plugins' lists CommonJS and ES module plugins, and rejected ones with the reason", async () => {
    const nodeModules = join(dir.path, 'node_modules');
    await writePackage(nodeModules, 'edge-collector-cjs', { 'index.js': pluginSource('edge-collector-cjs', 'cjs', 'cjs') });
    const esm = pluginSource('edge-collector-esm', 'esm', 'esm').replace('exports.manifest =', 'export const manifest =').replace('exports.create =', 'export const create =');
    await writePackage(nodeModules, 'edge-collector-esm', { 'index.js': esm }, { type: 'module', main: undefined, exports: { '.': { import: './index.js' } } });
    await writePackage(nodeModules, '@acme/edge-collector-broken', { 'index.js': 'exports.manifest = { name: "@acme/edge-collector-broken" };' });
    const result = run(['plugins', '--json'], dir.path);
    expect(result.code).toBe(0);
    const rows = JSON.parse(result.stdout);
    expect(rows.map((row: { package: string; status: string }) => [row.package, row.status])).toEqual([
      ['edge-collector-host', 'ok'],
      ['@acme/edge-collector-broken', "rejected: manifest: missing required key 'apiVersion'; manifest: missing required key 'deviceTypes'; manifest: missing required key 'metrics'"],
      ['edge-collector-cjs', 'ok'],
      ['edge-collector-esm', 'ok'],
    ]);
    expect(rows[3]).toMatchObject({ version: '1.2.3', deviceTypes: ['esm'], metrics: ['esm_power_watts', 'esm_rail_{rail}_watts', 'energy_joules_total'] });
    const text = run(['plugins'], dir.path);
    expect(text.stdout).toContain('edge-collector-esm 1.2.3  ok\n');
  });

  test('runs until SIGTERM and stops cleanly; SIGHUP reloads the config', async () => {
    await writeFile(join(dir.path, 'config.yaml'), 'device_type: host\nnew_metrics_default: true\nport: 0\nreload_port: 0\nlisten_address: 127.0.0.1\n');
    const child = spawn(process.execPath, [CLI], { cwd: dir.path, env: { PATH: process.env.PATH } });
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    try {
      const port = await waitFor(() => /serving \/metrics on 127\.0\.0\.1:(\d+)/.exec(stderr)?.[1], 'the exporter to listen');
      await waitFor(async () => (await (await fetch(`http://127.0.0.1:${port}/metrics`)).text()).includes('host_load1'), 'host metrics');
      child.kill('SIGHUP');
      await waitFor(() => stderr.includes('config reloaded'), 'the reload');
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(stderr).toContain('SIGTERM: stopping');
    } finally {
      child.kill('SIGKILL');
    }
  });

  test('a port in use stops start-up with a one-line error', async () => {
    await writeFile(join(dir.path, 'config.yaml'), 'device_type: host\nport: 0\nreload_port: 0\nlisten_address: 127.0.0.1\n');
    const first = spawn(process.execPath, [CLI], { cwd: dir.path, env: { PATH: process.env.PATH } });
    let stderr = '';
    first.stderr.on('data', (chunk) => (stderr += chunk));
    const port = await waitFor(() => /serving \/metrics on 127\.0\.0\.1:(\d+)/.exec(stderr)?.[1], 'the first exporter to listen');
    try {
      await writeFile(join(dir.path, 'second.yaml'), `device_type: host\nport: ${port}\nreload_port: 0\nlisten_address: 127.0.0.1\n`);
      const second = run(['--config', 'second.yaml'], dir.path);
      expect(second.code).toBe(1);
      expect(second.stderr.trim().split('\n').pop()).toBe(
        `edge-metrics-exporter: port ${port} on 127.0.0.1 is already in use: choose a free one with --port, EDGE_METRICS_PORT or 'port' in the config, or stop the program using it`,
      );
    } finally {
      first.kill('SIGKILL');
    }
  });
});

import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
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

  test('--once measures CPU usage over an interval: every core has its usage and its seconds per mode', async () => {
    await writeFile(join(dir.path, 'config.yaml'), 'device_type: host\nnew_metrics_default: true\ninterval: 1\n');
    const cores = readFileSync('/proc/stat', 'utf8').match(/^cpu\d+ /gm)!.map((line) => line.slice(3).trim());
    const once = run(['--once'], dir.path);
    expect(once.code).toBe(0);
    for (const core of cores) {
      expect(once.stdout).toMatch(new RegExp(`^host_cpu_core_usage_percent\\{.*core="${core}"\\} [\\d.]+$`, 'm'));
      for (const mode of ['user', 'nice', 'system', 'idle', 'iowait', 'irq', 'softirq', 'steal']) {
        expect(once.stdout).toMatch(new RegExp(`^host_cpu_seconds_total\\{.*core="${core}",mode="${mode}"\\} [\\d.]+$`, 'm'));
      }
    }
  });

  test('device_type auto: a plugin that finds no hardware is one debug line, not an explanation at start', async () => {
    const quiet = `${pluginSource('edge-collector-quiet', 'quiet', 'quiet')}
exports.detect = () => ({ found: false, reason: 'no quiet board: enable the bus with "quiet-config bus on", then reboot' });`;
    await writePackage(join(dir.path, 'node_modules'), 'edge-collector-quiet', { 'index.js': quiet });
    await writeFile(join(dir.path, 'config.yaml'), 'plugin_dirs: [node_modules]\n');
    const once = run(['--once'], dir.path);
    expect(once.code).toBe(0);
    expect(once.stderr).not.toContain('quiet');
    await writeFile(join(dir.path, 'config.yaml'), 'log_level: debug\nplugin_dirs: [node_modules]\n');
    const debug = run(['--once'], dir.path).stderr.split('\n').filter((line) => line.includes('quiet'));
    expect(debug).toEqual(['debug: device_type auto: edge-collector-quiet did not find its hardware: no quiet board: enable the bus with "quiet-config bus on", then reboot']);
  });

  test('--once with a minimal config says on stderr how many metrics are disabled and how to enable them', async () => {
    await writeFile(join(dir.path, 'config.yaml'), 'device_type: host\n');
    const once = run(['--once'], dir.path);
    expect(once.code).toBe(0);
    expect(once.stdout).not.toMatch(/^host_load1\{/m);
    const notice = once.stderr.split('\n').filter((line) => / metrics are disabled/.test(line));
    expect(notice).toHaveLength(1);
    expect(notice[0]).toMatch(/\b\d+ metrics are disabled and not exposed .*POST \/metrics\/enable .*'<name>: true' under 'metrics:' in .*config\.yaml/);
    expect(once.stdout).not.toContain('disabled');
    // Every metric on (no file at all): nothing to say.
    await writeFile(join(dir.path, 'config.yaml'), 'device_type: host\nnew_metrics_default: true\n');
    expect(run(['--once'], dir.path).stderr).not.toContain('disabled and not exposed');
  });

  test('a running exporter with a minimal config logs the disabled metrics at discovery and at start, and /metrics/list says so', async () => {
    await writeFile(join(dir.path, 'config.yaml'), 'device_type: host\ninterval: 0.2\nport: 0\nreload_port: 0\nlisten_address: 127.0.0.1\n');
    const start = async () => {
      const child = spawn(process.execPath, [CLI], { cwd: dir.path, env: { PATH: process.env.PATH } });
      const output = { stderr: '' };
      child.stderr.on('data', (chunk) => (output.stderr += chunk));
      const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
      return { child, output, exited };
    };
    const first = await start();
    try {
      const manage = await waitFor(() => /management routes on 127\.0\.0\.1:(\d+)/.exec(first.output.stderr)?.[1], 'the exporter to listen');
      await waitFor(() => / metrics are disabled and not exposed/.test(first.output.stderr), 'the notice at discovery');
      const list = (await (await fetch(`http://127.0.0.1:${manage}/metrics/list`)).json()) as { metrics: Record<string, boolean>; disabled: number; hint: string };
      expect(list).toMatchObject({ device_type: 'host', source: 'local', metrics: { host_load1: false } });
      expect(list.disabled).toBe(Object.values(list.metrics).filter((on) => !on).length);
      expect(list.hint).toMatch(/^\d+ metrics are disabled and not exposed .*POST \/metrics\/enable/);
      first.child.kill('SIGTERM');
      expect(await first.exited).toBe(0);
    } finally {
      first.child.kill('SIGKILL');
    }
    // The discovered metrics are now in the file, off: the next start says so before anything is discovered.
    const second = await start();
    try {
      await waitFor(() => / metrics are disabled and not exposed/.test(second.output.stderr), 'the notice at start');
      const lines = second.output.stderr.split('\n');
      const [noticeAt, discoveredAt] = [/ metrics are disabled/, /discovered \d+ new metric/].map((pattern) => lines.findIndex((line) => pattern.test(line)));
      expect(discoveredAt === -1 || noticeAt < discoveredAt).toBe(true);
    } finally {
      second.child.kill('SIGKILL');
    }
  });

  test('--once exits 1 when a collector fails, and writes no file', async () => {
    await writePackage(join(dir.path, 'node_modules'), 'edge-collector-flaky', {
      'index.js': pluginSource('edge-collector-flaky', 'flaky', 'flaky', "throw new Error('no sensor');"),
    });
    await writeFile(join(dir.path, 'config.yaml'), 'device_type: flaky\nplugin_dirs: [node_modules]\n');
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
    await writeFile(join(dir.path, 'config.yaml'), 'plugin_dirs: [node_modules]\n');
    const result = run(['plugins', '--json'], dir.path);
    expect(result.code).toBe(0);
    const rows = JSON.parse(result.stdout);
    // plugin_dirs first; then the plugins installed beside core (this repository's).
    expect(rows.slice(0, 4).map((row: { package: string; status: string }) => [row.package, row.status])).toEqual([
      ['edge-collector-host', 'ok'],
      ['@acme/edge-collector-broken', "rejected: manifest: missing required key 'apiVersion'; manifest: missing required key 'deviceTypes'; manifest: missing required key 'metrics'"],
      ['edge-collector-cjs', 'ok'],
      ['edge-collector-esm', 'ok'],
    ]);
    expect(rows[3]).toMatchObject({ version: '1.2.3', deviceTypes: ['esm'], metrics: ['esm_power_watts', 'esm_rail_{rail}_watts', 'energy_joules_total'] });
    const text = run(['plugins'], dir.path);
    expect(text.stdout).toContain('edge-collector-esm 1.2.3  ok\n');
  });

  test('plugins are looked for only in plugin_dirs and beside core, and loaded only when the config uses them', async () => {
    // A package whose loading leaves a marker file: planted in the working folder's and its parent's node_modules
    // (as anyone can in /tmp), and one in plugin_dirs that the config does not use.
    const planted = (name: string) => pluginSource(name, name.replace('edge-collector-', ''), name.replace('edge-collector-', '')).replace(
      'exports.manifest =',
      `require('node:fs').writeFileSync(${JSON.stringify(join(dir.path, `loaded-${name}`))}, 'ran');\nexports.manifest =`,
    );
    const work = join(dir.path, 'work');
    await writePackage(join(dir.path, 'node_modules'), 'edge-collector-parent', { 'index.js': planted('edge-collector-parent') });
    await writePackage(join(work, 'node_modules'), 'edge-collector-here', { 'index.js': planted('edge-collector-here') });
    await writePackage(join(dir.path, 'trusted'), 'edge-collector-unused', { 'index.js': planted('edge-collector-unused') });
    await writePackage(join(dir.path, 'trusted'), 'edge-collector-extra', { 'index.js': planted('edge-collector-extra') });
    const loaded = () => spawnSync('ls', [dir.path], { encoding: 'utf8' }).stdout.split('\n').filter((name) => name.startsWith('loaded-'));

    await writeFile(join(work, 'config.yaml'), `device_type: host\nplugin_dirs: [${JSON.stringify(join(dir.path, 'trusted'))}]\n`);
    expect(run(['--once'], work).code).toBe(0);
    expect(loaded()).toEqual([]);

    // A collector the config names is loaded, and only that one.
    await writeFile(join(work, 'config.yaml'), `device_type: host\nplugin_dirs: [${JSON.stringify(join(dir.path, 'trusted'))}]\ncollectors:\n  - type: extra\n`);
    const once = run(['--once'], work);
    expect(once.stdout).toMatch(/^edge_collector_up\{.*collector="extra"\} 1$/m);
    expect(loaded()).toEqual(['loaded-edge-collector-extra']);

    // 'plugins' lists (and so loads) what is in those places, and nothing planted elsewhere.
    const listed = JSON.parse(run(['plugins', '--json'], work).stdout).map((row: { package: string }) => row.package);
    expect(listed).toEqual(expect.arrayContaining(['edge-collector-extra', 'edge-collector-unused']));
    expect(listed).not.toContain('edge-collector-here');
    expect(listed).not.toContain('edge-collector-parent');
    expect(loaded().sort()).toEqual(['loaded-edge-collector-extra', 'loaded-edge-collector-unused']);
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

import { execFileSync, spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { manifest } from '../src/manifest';
import { capturedNetDev } from './helpers';

/** The plugin installed as a user installs it: packed as `npm publish` would upload it, beside core, in a fresh folder. */
const packageDir = join(__dirname, '..');
const coreDir = dirname(require.resolve('@edge-metrics/core/package.json'));
const cli = join(coreDir, 'dist', 'cli.js');
const CUBIETRUCK = capturedNetDev('cubietruck-a20');

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'edge-collector-example-'));
  const installed = join(dir, 'node_modules', 'edge-collector-example');
  await mkdir(installed, { recursive: true });
  // `npm pack` puts in the tarball exactly what `files` in package.json lets through, as `npm publish` does.
  const [packed] = JSON.parse(execFileSync('npm', ['pack', '--json', '--pack-destination', dir], { cwd: packageDir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }));
  execFileSync('tar', ['-xzf', join(dir, packed.filename), '-C', installed, '--strip-components=1']);
  await mkdir(join(dir, 'node_modules', '@edge-metrics'));
  await symlink(coreDir, join(dir, 'node_modules', '@edge-metrics', 'core'));
  // Core runs from this repository (the link resolves there), so it searches the repository's node_modules: the
  // folder beside it is named in plugin_dirs. Installed together by npm, both sit in one node_modules and need none.
  await writeFile(join(dir, 'config.yaml'), 'plugin_dirs: [node_modules]\n');
  await mkdir(join(dir, 'proc', 'net'), { recursive: true });
  await writeFile(join(dir, 'proc', 'net', 'dev'), CUBIETRUCK);
}, 60_000);
afterAll(() => rm(dir, { recursive: true, force: true }));

function exporter(args: string[]) {
  const result = spawnSync(process.execPath, [cli, ...args], { cwd: dir, env: { PATH: process.env.PATH }, encoding: 'utf8', timeout: 20_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

test("'edge-metrics-exporter plugins' finds the installed package and accepts it", () => {
  const result = exporter(['plugins', '--json']);
  expect(result).toMatchObject({ code: 0 });
  const row = JSON.parse(result.stdout).find((candidate: { package: string }) => candidate.package === 'edge-collector-example');
  expect(row).toEqual({
    package: 'edge-collector-example',
    version: require('../package.json').version,
    status: 'ok',
    location: join(dir, 'node_modules', 'edge-collector-example'),
    deviceTypes: ['netdev'],
    metrics: manifest.metrics.map((family) => family.name),
  });
});

test('the exporter runs it as an extra collector beside the device', async () => {
  await writeFile(
    join(dir, 'config.yaml'),
    `device_type: host\nnew_metrics_default: true\nplugin_dirs: [node_modules]\ncollectors:\n  - type: netdev\n    options:\n      proc_root: ${join(dir, 'proc')}\n`,
  );
  const result = exporter(['--once', '--config', 'config.yaml']);
  expect(result).toMatchObject({ code: 0 });
  expect(result.stdout).toMatch(/^netdev_receive_bytes_total\{device_type="host",hostname="[^"]+",interface="eth0"\} 1030969582$/m);
  expect(result.stdout).toMatch(/^netdev_transmit_packets_total\{device_type="host",hostname="[^"]+",interface="tunl0"\} 0$/m);
  expect(result.stdout).toMatch(/^edge_collector_up\{device_type="host",hostname="[^"]+",collector="netdev"\} 1$/m);
});

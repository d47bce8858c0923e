import { copyFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { REPO, mustRun, tempDir } from './helpers';

/** `npm pack` of a workspace into `into`; returns the tarball's path and the files it holds. */
function pack(workspace: string, into: string): { tarball: string; files: string[] } {
  const [result] = JSON.parse(mustRun('npm', ['pack', '--json', '--pack-destination', into], { cwd: join(REPO, workspace) }));
  return { tarball: join(into, result.filename), files: result.files.map((file: { path: string }) => file.path) };
}

describe('published packages', () => {
  let dir: { path: string; cleanup: () => Promise<void> };
  let core: ReturnType<typeof pack>;
  let jetson: ReturnType<typeof pack>;

  beforeAll(async () => {
    dir = await tempDir();
    core = pack('core', dir.path);
    jetson = pack('plugins/jetson', dir.path);
    const app = join(dir.path, 'app');
    mustRun('mkdir', ['-p', app]);
    await writeFile(join(app, 'package.json'), JSON.stringify({ name: 'fleet-device', private: true }));
    mustRun('npm', ['install', '--no-audit', '--no-fund', core.tarball, jetson.tarball], { cwd: app });
  });

  afterAll(() => dir?.cleanup());

  test('hold built files, types and READMEs only', () => {
    for (const { files } of [core, jetson]) {
      expect(files).toContain('package.json');
      expect(files).toContain('README.md');
      expect(files).toContain('dist/index.js');
      expect(files).toContain('dist/index.d.ts');
      expect(files.filter((file) => !/^(package\.json|README\.md|dist\/.*\.(js|d\.ts)|schemas\/.*\.json)$/.test(file))).toEqual([]);
    }
    expect(core.files).toContain('dist/cli.js');
    expect(core.files).toContain('schemas/manifest.schema.json');
    expect(core.files).toContain('schemas/config.schema.json');
  });

  test('installed from the tarballs into an empty folder, npx edge-metrics-exporter finds the plugin', () => {
    const rows = JSON.parse(mustRun('npx', ['--no-install', 'edge-metrics-exporter', 'plugins', '--json'], { cwd: join(dir.path, 'app') }));
    expect(rows.map((row: { package: string; status: string }) => [row.package, row.status])).toEqual([
      ['edge-collector-host', 'ok'],
      ['edge-collector-jetson', 'ok'],
    ]);
  });

  test('and serves its metrics: --once on a recorded Jetson trace', async () => {
    const app = join(dir.path, 'app');
    await copyFile(join(REPO, 'examples', 'jetson-replay', 'fake-tegrastats'), join(app, 'fake-tegrastats'));
    await copyFile(join(REPO, 'examples', 'jetson-replay', 'trace.txt'), join(app, 'trace.txt'));
    mustRun('chmod', ['+x', join(app, 'fake-tegrastats')]);
    await writeFile(join(app, 'config.yaml'), 'device_type: jetson_orin\nnew_metrics_default: true\noptions:\n  tegrastats_path: ./fake-tegrastats\n');
    const output = mustRun('npx', ['--no-install', 'edge-metrics-exporter', '--once'], { cwd: app });
    expect(output).toMatch(/^jetson_power_vdd_gpu_soc_watts\{device_type="jetson_orin",hostname="[^"]+"\} [\d.]+$/m);
    expect(output).toMatch(/^power_total_watts\{device_type="jetson_orin",hostname="[^"]+"\} [\d.]+$/m);
  });
});

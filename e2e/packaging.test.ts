import { copyFile, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { REPO, mustRun, tempDir } from './helpers';

/** The workspaces that are published, as `npm run pack` packs them. */
const PUBLISHED = ['core', 'config-server', 'plugins/jetson', 'plugins/lattepanda-rapl', 'plugins/orangepi-sysfs', 'plugins/raspberrypi-ina260', 'plugins/shelly'];
const PACKAGES = join(REPO, 'dist-packages');

/** npm's file name for a package's tarball: `@scope/name` 1.2.3 → `scope-name-1.2.3.tgz`. */
async function tarballOf(workspace: string): Promise<string> {
  const { name, version } = JSON.parse(await readFile(join(REPO, workspace, 'package.json'), 'utf8'));
  return `${name.replace(/^@/, '').replace('/', '-')}-${version}.tgz`;
}

/** The files a tarball holds, without npm's `package/` prefix. */
function filesOf(tarball: string): string[] {
  return mustRun('tar', ['-tzf', join(PACKAGES, tarball)]).split('\n').filter(Boolean).map((path) => path.replace(/^package\//, ''));
}

describe('published packages, as `npm run pack` builds them', () => {
  let dir: { path: string; cleanup: () => Promise<void> };
  const app = () => join(dir.path, 'app');

  beforeAll(async () => {
    dir = await tempDir();
    mustRun('npm', ['run', 'pack'], { cwd: REPO });
    mustRun('mkdir', ['-p', app()]);
    await writeFile(join(app(), 'package.json'), JSON.stringify({ name: 'fleet-device', private: true }));
    const tarballs = [await tarballOf('core'), await tarballOf('plugins/jetson')].map((tarball) => join(PACKAGES, tarball));
    mustRun('npm', ['install', '--no-audit', '--no-fund', ...tarballs], { cwd: app() });
  });

  afterAll(() => dir?.cleanup());

  test('one tarball per published package in dist-packages/', async () => {
    const expected = await Promise.all(PUBLISHED.map(tarballOf));
    expect((await readdir(PACKAGES)).sort()).toEqual(expected.sort());
  });

  test('hold the bin shims, built files, types and READMEs only', async () => {
    for (const workspace of PUBLISHED) {
      const files = filesOf(await tarballOf(workspace));
      expect({ workspace, files }).toEqual({ workspace, files: expect.arrayContaining(['package.json', 'README.md', 'dist/index.js', 'dist/index.d.ts']) });
      expect(files.filter((file) => !/^(package\.json|README\.md|bin\/[^/]+\.js|dist\/.*\.(js|d\.ts)|schemas\/.*\.json|ui\/(public|sign-in)\/[^/]+\.(html|css))$/.test(file))).toEqual([]);
    }
    const core = filesOf(await tarballOf('core'));
    expect(core).toEqual(expect.arrayContaining(['bin/edge-metrics-exporter.js', 'dist/cli.js', 'schemas/manifest.schema.json', 'schemas/config.schema.json']));
    // The fleet console: its page and stylesheet, its compiled browser code, the sign-in page.
    expect(filesOf(await tarballOf('config-server'))).toEqual(
      expect.arrayContaining(['bin/edge-metrics-config-server.js', 'dist/cli.js', 'ui/public/index.html', 'ui/public/console.css', 'dist/ui/main.js', 'ui/sign-in/sign-in.html']),
    );
  });

  test('installed from the tarballs into an empty folder, npx edge-metrics-exporter finds the plugin', () => {
    const rows = JSON.parse(mustRun('npx', ['--no-install', 'edge-metrics-exporter', 'plugins', '--json'], { cwd: app() }));
    expect(rows.map((row: { package: string; status: string }) => [row.package, row.status])).toEqual([
      ['edge-collector-host', 'ok'],
      ['edge-collector-jetson', 'ok'],
    ]);
  });

  test('and serves its metrics: --once on a recorded Jetson trace', async () => {
    await copyFile(join(REPO, 'examples', 'jetson-replay', 'fake-tegrastats'), join(app(), 'fake-tegrastats'));
    await copyFile(join(REPO, 'examples', 'jetson-replay', 'trace.txt'), join(app(), 'trace.txt'));
    mustRun('chmod', ['+x', join(app(), 'fake-tegrastats')]);
    await writeFile(join(app(), 'config.yaml'), 'device_type: jetson_orin\nnew_metrics_default: true\noptions:\n  tegrastats_path: ./fake-tegrastats\n');
    const output = mustRun('npx', ['--no-install', 'edge-metrics-exporter', '--once'], { cwd: app() });
    expect(output).toMatch(/^jetson_power_vdd_gpu_soc_watts\{device_type="jetson_orin",hostname="[^"]+"\} [\d.]+$/m);
    expect(output).toMatch(/^power_total_watts\{device_type="jetson_orin",hostname="[^"]+"\} [\d.]+$/m);
  });
});

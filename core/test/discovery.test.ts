import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { coreInstallDir, findPluginPackages, pluginSearchDirs } from '../src/plugins/discovery';
import { PluginCatalog } from '../src/plugins/catalog';
import { pluginSource, tempDir, writePackage } from './helpers';

describe('plugin discovery', () => {
  let dir: { path: string; cleanup: () => Promise<void> };
  let nodeModules: string;
  beforeEach(async () => {
    dir = await tempDir();
    nodeModules = join(dir.path, 'app', 'node_modules');
    await mkdir(nodeModules, { recursive: true });
  });
  afterEach(() => dir.cleanup());

  test('searches plugin_dirs, then the folder core is installed in, each folder once; never the working folder nor above it', async () => {
    const extra = join(dir.path, 'extra', 'node_modules');
    await mkdir(extra, { recursive: true });
    await mkdir(join(dir.path, 'node_modules'));
    await symlink(nodeModules, join(dir.path, 'app', 'linked_modules'));
    const installDir = join(dir.path, 'usr', 'lib', 'node_modules');
    await mkdir(installDir, { recursive: true });
    const dirs = pluginSearchDirs([extra, join(dir.path, 'app', 'linked_modules'), nodeModules], join(dir.path, 'app'), installDir);
    expect(dirs).toEqual([extra, join(dir.path, 'app', 'linked_modules'), installDir]);
    expect(pluginSearchDirs([], join(dir.path, 'app'), installDir)).toEqual([installDir]);
  });

  test('the folder core is installed in: the node_modules enclosing it, or the one linking to it in a workspace', async () => {
    const globalModules = join(dir.path, 'usr', 'lib', 'node_modules');
    const installed = join(globalModules, '@edge-metrics', 'core');
    await mkdir(installed, { recursive: true });
    await writeFile(join(installed, 'package.json'), JSON.stringify({ name: '@edge-metrics/core' }));
    expect(coreInstallDir(installed)).toBe(globalModules);
    const workspace = join(dir.path, 'repo');
    await mkdir(join(workspace, 'core'), { recursive: true });
    await writeFile(join(workspace, 'core', 'package.json'), JSON.stringify({ name: '@edge-metrics/core' }));
    await mkdir(join(workspace, 'node_modules', '@edge-metrics'), { recursive: true });
    await symlink(join(workspace, 'core'), join(workspace, 'node_modules', '@edge-metrics', 'core'));
    expect(coreInstallDir(join(workspace, 'core'))).toBe(join(workspace, 'node_modules'));
    expect(coreInstallDir()).toBe(join(__dirname, '..', '..', 'node_modules'));
  });

  test('finds unscoped and scoped plugins only, the first of a name winning', async () => {
    await writePackage(nodeModules, 'edge-collector-alpha', { 'index.js': pluginSource('edge-collector-alpha', 'alpha', 'alpha') });
    await writePackage(nodeModules, '@acme/edge-collector-beta', { 'index.js': pluginSource('@acme/edge-collector-beta', 'beta', 'beta') });
    await writePackage(nodeModules, 'express-like', { 'index.js': '' });
    await writePackage(nodeModules, '@acme/other', { 'index.js': '' });
    const later = join(dir.path, 'later');
    await writePackage(later, 'edge-collector-alpha', { 'index.js': '' });
    const found = findPluginPackages([nodeModules, later]);
    expect(found.map((candidate) => [candidate.packageName, candidate.dir])).toEqual([
      ['@acme/edge-collector-beta', join(nodeModules, '@acme', 'edge-collector-beta')],
      ['edge-collector-alpha', join(nodeModules, 'edge-collector-alpha')],
    ]);
  });

  test('loads good plugins and rejects bad ones, each with its reason, the others unaffected', async () => {
    await writePackage(nodeModules, 'edge-collector-good', { 'index.js': pluginSource('edge-collector-good', 'good', 'good') });
    await writePackage(nodeModules, 'edge-collector-throws', { 'index.js': "throw new Error('cannot find /dev/i2c-1');" });
    await writePackage(nodeModules, 'edge-collector-badmanifest', {
      'index.js': pluginSource('edge-collector-badmanifest', 'bad', 'bad').replace("apiVersion: 1,", "apiVersion: 1, deviceTypes2: [],"),
    });
    await writePackage(nodeModules, 'edge-collector-future', { 'index.js': pluginSource('edge-collector-future', 'future', 'future').replace('apiVersion: 1', 'apiVersion: 7') });
    await writePackage(nodeModules, 'edge-collector-default', {
      'index.js': pluginSource('edge-collector-default', 'dflt', 'dflt').replace(/exports\.(manifest|create) =/g, 'module.exports.default = module.exports.default || {}; module.exports.default.$1 ='),
    });
    await writePackage(nodeModules, 'edge-collector-nomain', {}, { main: 'missing.js' });

    const catalog = await PluginCatalog.discover([], join(dir.path, 'app'), nodeModules);
    // A device type loads only the package serving it.
    expect((await catalog.forDeviceType('good', 'x')).record.packageName).toBe('edge-collector-good');
    expect(catalog.records.map((record) => record.packageName)).toEqual(['edge-collector-host', 'edge-collector-good']);
    await catalog.loadAll();
    const byName = Object.fromEntries(catalog.records.map((record) => [record.packageName, record]));
    expect(catalog.records[0]!.packageName).toBe('edge-collector-host');
    expect(byName['edge-collector-good']).toMatchObject({ version: '1.2.3', problems: [] });
    expect(byName['edge-collector-default']!.problems).toEqual([]);
    expect(byName['edge-collector-throws']!.problems).toEqual(['installed but fails to load: cannot find /dev/i2c-1']);
    expect(byName['edge-collector-badmanifest']!.problems).toEqual(["manifest: unknown key 'deviceTypes2'"]);
    expect(byName['edge-collector-future']!.problems[0]).toContain('manifest.apiVersion 7 is not supported');
    expect(byName['edge-collector-nomain']!.problems[0]).toMatch(/^installed but fails to load: Cannot find module/);
    expect(catalog.usable.map((usable) => usable.record.packageName).sort()).toEqual(['edge-collector-default', 'edge-collector-good', 'edge-collector-host']);
  });

  test('a device type with no plugin: "not installed" with the package to install, or "installed but rejected" with why', async () => {
    await writePackage(nodeModules, 'edge-collector-jetson', { 'index.js': 'exports.manifest = {}; exports.create = () => ({});' });
    const catalog = await PluginCatalog.discover([], join(dir.path, 'app'), nodeModules);
    await expect(catalog.forDeviceType('shelly', 'config.yaml: device_type')).rejects.toMatchObject({
      code: 'EME_PLUGIN_NOT_INSTALLED',
      message: expect.stringContaining("config.yaml: device_type: no installed plugin serves device type 'shelly'; install it with: npm install edge-collector-shelly"),
    });
    await expect(catalog.forDeviceType('jetson_orin', 'config.yaml: device_type')).rejects.toMatchObject({
      code: 'EME_PLUGIN_LOAD_FAILED',
      message: expect.stringMatching(/config\.yaml: device_type: device type 'jetson_orin' needs edge-collector-jetson, which is installed at .* but was rejected: manifest: missing required key 'name'/),
    });
    expect((await catalog.forDeviceType('host', 'x')).record.location).toBe('(built in to @edge-metrics/core)');
  });
});

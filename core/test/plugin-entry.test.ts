import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

/** The packages only the host uses; a plugin that loads core's plugin API must not pay for them. */
const HOST_PACKAGES = ['express', 'chokidar', 'cosmiconfig', 'prom-client', 'yaml'];

/**
 * Requires `entry` (an export of the built core, as a plugin resolves it) in a fresh node process and returns
 * every package and core module that loading it pulled in.
 */
function loadedBy(entry: string): { packages: string[]; coreModules: string[] } {
  const coreDir = join(__dirname, '..');
  const script = `
    const { sep } = require('node:path');
    require(require.resolve(${JSON.stringify(entry)}, { paths: [${JSON.stringify(coreDir)}] }));
    const files = Object.keys(require.cache);
    const packages = new Set(files.flatMap((file) => {
      const match = /[\\\\/]node_modules[\\\\/]((?:@[^\\\\/]+[\\\\/])?[^\\\\/]+)/.exec(file);
      return match ? [match[1].split(sep).join('/')] : [];
    }));
    const dist = ${JSON.stringify(join(coreDir, 'dist'))} + sep;
    const coreModules = files.filter((file) => file.startsWith(dist)).map((file) => file.slice(dist.length).split(sep).join('/'));
    process.stdout.write(JSON.stringify({ packages: [...packages], coreModules }));
  `;
  const result = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 20_000 });
  if (result.status !== 0) throw new Error(`node exited with ${result.status}: ${result.stderr}`);
  return JSON.parse(result.stdout);
}

test.each(['@edge-metrics/core/plugin', '@edge-metrics/core/testing'])('%s loads none of the host', (entry) => {
  const { packages, coreModules } = loadedBy(entry);
  expect(packages.filter((name) => HOST_PACKAGES.includes(name))).toEqual([]);
  expect(coreModules.filter((file) => /^(exporter|cli|index)\.js$|^(http|sync|runtime|plugins|host|metrics)\//.test(file) || /^config\/(?!(schema|limits)\.js$)/.test(file))).toEqual([]);
});

test('the check sees the host where it is loaded: the main entry brings chokidar, prom-client and yaml', () => {
  // express and cosmiconfig load on first use (the first request that is not a scrape, a config search).
  expect(loadedBy('@edge-metrics/core').packages).toEqual(expect.arrayContaining(['chokidar', 'prom-client', 'yaml']));
});

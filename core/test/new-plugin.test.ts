import { spawnSync } from 'node:child_process';
import { readFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tempDir } from './helpers';

const REPO = join(__dirname, '..', '..');
const SCAFFOLD = join(__dirname, '..', 'scripts', 'new-plugin.js');

function run(args: string[], cwd: string, timeout = 120_000) {
  const result = spawnSync(process.execPath, args, { cwd, encoding: 'utf8', timeout, env: { ...process.env, CI: 'true' } });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

/**
 * The template makes a plugin that builds and passes its own tests (conformance kit, README tables, fixtures)
 * before its author writes a line: scaffolded into a temporary folder whose node_modules are this repository's,
 * as a package outside the repository sees its installed dependencies.
 */
test('a new plugin from the template builds and passes its tests as it is', async () => {
  const dir = await tempDir();
  try {
    await symlink(join(REPO, 'node_modules'), join(dir.path, 'node_modules'));
    const target = join(dir.path, 'edge-collector-acme-meter');
    expect(run([SCAFFOLD, 'acme-meter', target], dir.path)).toMatchObject({ status: 0, output: expect.stringContaining('made edge-collector-acme-meter') });

    const manifest = await readFile(join(target, 'src', 'manifest.ts'), 'utf8');
    expect(manifest).toContain("name: 'edge-collector-acme-meter'");
    expect(manifest).toContain("deviceTypes: ['acme_meter']");
    expect(manifest).toContain("'acme_meter_power_watts'");
    const leftover = spawnSync('grep', ['-rlE', '__(PACKAGE|NAME|PREFIX|TYPE)__', target], { encoding: 'utf8' });
    expect(leftover.stdout).toBe('');

    const build = run([join(REPO, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', target], target);
    expect(build).toEqual({ status: 0, output: '' });
    const tests = run([join(REPO, 'node_modules', 'jest', 'bin', 'jest.js'), '--rootDir', target, '--ci'], target);
    expect(tests.output).toMatch(/Tests:\s+5 passed, 5 total/);
    expect(tests.status).toBe(0);
  } finally {
    await dir.cleanup();
  }
}, 300_000);

test('refuses a name that is not a package name, and a folder that is not empty', async () => {
  const dir = await tempDir();
  try {
    expect(run([SCAFFOLD, 'Acme Meter', join(dir.path, 'x')], dir.path)).toMatchObject({ status: 2, output: expect.stringContaining('usage: npm run new-plugin') });
    await writeFile(join(dir.path, 'notes.txt'), 'mine');
    expect(run([SCAFFOLD, 'acme', dir.path], dir.path)).toMatchObject({ status: 1, output: expect.stringContaining('exists and is not empty') });
  } finally {
    await dir.cleanup();
  }
});

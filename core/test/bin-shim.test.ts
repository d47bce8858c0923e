import { spawnSync } from 'node:child_process';
import { copyFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { tempDir } from './helpers';

/** The committed bin shim that `npm ci` links before anything is built, in a copy of the package without dist/. */
test('the bin shim of a package not built yet says what is missing and how to build it', async () => {
  const dir = await tempDir();
  try {
    await mkdir(join(dir.path, 'bin'));
    const shim = join(dir.path, 'bin', 'edge-metrics-exporter.js');
    await copyFile(join(__dirname, '..', 'bin', 'edge-metrics-exporter.js'), shim);
    const result = spawnSync(process.execPath, [shim, '--version'], { encoding: 'utf8' });
    expect({ status: result.status, stderr: result.stderr }).toEqual({
      status: 1,
      stderr: `edge-metrics-exporter: ${join(dir.path, 'dist', 'cli.js')} is missing: build it first (npm run build at the repository root)\n`,
    });
  } finally {
    await dir.cleanup();
  }
});

test('the bin shim runs the built CLI', () => {
  const result = spawnSync(process.execPath, [join(__dirname, '..', 'bin', 'edge-metrics-exporter.js'), '--version'], { encoding: 'utf8' });
  expect({ status: result.status, stdout: result.stdout }).toEqual({ status: 0, stdout: `${require('../package.json').version}\n` });
});

import { spawnSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { firstPartyPackageFor } from '../src/plugin-names';
import { tempDir } from './helpers';

const SCRIPT = join(__dirname, '..', 'scripts', 'first-party-plugins.js');
const GENERATED = join(__dirname, '..', 'src', 'first-party-plugins.ts');

/** Runs the generator's check against `file` (the built plugins' manifests are the truth). */
function check(file: string): { status: number | null; stderr: string } {
  return spawnSync(process.execPath, [SCRIPT, '--check', '--file', file], { encoding: 'utf8', timeout: 20_000 });
}

test("the committed list of first-party packages is what the plugins' manifests say", () => {
  expect(check(GENERATED)).toMatchObject({ status: 0, stderr: '' });
});

test('a stale list fails the check and says how to regenerate it', async () => {
  const dir = await tempDir();
  try {
    const stale = join(dir.path, 'first-party-plugins.ts');
    await writeFile(stale, (await readFile(GENERATED, 'utf8')).replace("  shelly: 'edge-collector-shelly',\n", ''));
    expect(check(stale)).toMatchObject({ status: 1, stderr: expect.stringContaining('is stale') });
    expect(check(stale).stderr).toContain('npm run generate:plugins');
  } finally {
    await dir.cleanup();
  }
});

test('each device type of a first-party plugin names its package; other names none', () => {
  expect(firstPartyPackageFor('jetson_orin')).toBe('edge-collector-jetson');
  expect(firstPartyPackageFor('intel_rapl')).toBe('edge-collector-lattepanda-rapl');
  expect(firstPartyPackageFor('acme')).toBeUndefined();
  expect(firstPartyPackageFor('constructor')).toBeUndefined();
});

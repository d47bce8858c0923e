import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const REPO = join(__dirname, '..');
export const CLI = join(REPO, 'core', 'dist', 'cli.js');

/** Runs a command to completion; fails with its output when it exits non-zero. */
export function mustRun(command: string, args: string[], options: SpawnSyncOptions = {}): string {
  const result = spawnSync(command, args, { encoding: 'utf8', timeout: 240_000, ...options });
  if (result.status !== 0) {
    throw new Error(`${command} ${args.join(' ')} exited ${result.status ?? result.signal}:\n${result.stdout}\n${result.stderr}`);
  }
  return String(result.stdout);
}

export async function tempDir(): Promise<{ path: string; cleanup: () => Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), 'edge-metrics-e2e-'));
  return { path, cleanup: () => rm(path, { recursive: true, force: true }) };
}

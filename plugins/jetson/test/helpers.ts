import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger, resolveOptions, type CollectorContext, type Sample } from '@edge-metrics/core';
import { manifest, type JetsonOptions } from '../src';

export const FIXTURES = join(__dirname, 'fixtures');
export const REPLAY_DEMO = join(__dirname, '..', '..', '..', 'examples', 'jetson-replay');

/** A fixture's recorded line and the values it must give. */
export async function fixture(name: string): Promise<{ line: string; expected: Record<string, number> }> {
  const line = (await readFile(join(FIXTURES, name, 'tegrastats.txt'), 'utf8')).trimEnd();
  const expected = JSON.parse(await readFile(join(FIXTURES, name, 'expected.json'), 'utf8')) as Record<string, number>;
  return { line, expected };
}

/** A fresh folder under the system's temp folder, removed by `removeTempDirs()`. */
const tempDirs: string[] = [];
export async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'edge-collector-jetson-'));
  tempDirs.push(dir);
  return dir;
}
export async function removeTempDirs(): Promise<void> {
  await Promise.all(tempDirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
}

/** Writes an executable Node script into `dir` that tegrastats is replaced by; `body` sees `process.argv`. */
export async function fakeTegrastats(dir: string, body: string): Promise<string> {
  const file = join(dir, 'tegrastats');
  await writeFile(file, `#!${process.execPath}\n'use strict';\nconst fs = require('node:fs');\n${body}\n`);
  await chmod(file, 0o755);
  return file;
}

/** The options a config would give, with the schema's defaults filled in. */
export function options(given: Partial<JetsonOptions>): JetsonOptions {
  return resolveOptions(manifest, given, 'options') as unknown as JetsonOptions;
}

/** A collector context whose log lines land in `logs`. */
export function context(logs: string[] = [], interval = 1): CollectorContext {
  return { deviceType: 'jetson_orin', collectorName: 'jetson', interval, logger: createLogger('debug', (line) => logs.push(line), 'jetson') };
}

/** Polls `probe` until it returns a value other than undefined; fails with the last error after `timeoutMs`. */
export async function waitFor<T>(probe: () => T | undefined | Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      throw new Error(`gave up after ${timeoutMs} ms${lastError ? `; last error: ${(lastError as Error).message}` : ''}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** The error a call throws, or undefined when it returns. */
export function thrown(call: () => unknown): Error | undefined {
  try {
    call();
    return undefined;
  } catch (error) {
    return error as Error;
  }
}

export function byName(samples: readonly Sample[]): Record<string, number> {
  return Object.fromEntries(samples.map((sample) => [sample.name, sample.value]));
}

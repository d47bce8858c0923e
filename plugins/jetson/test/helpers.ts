import { chmod, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createLogger, resolveOptions, type CollectorContext, type Sample } from '@edge-metrics/core/plugin';
import type { FixtureTree } from '@edge-metrics/core/testing';
import { manifest, type JetsonOptions } from '../src/manifest';

export const FIXTURES = join(__dirname, 'fixtures');
export const REPLAY_DEMO = join(__dirname, '..', '..', '..', 'examples', 'jetson-replay');

/** A fixture's recorded line and the values it must give. */
export async function fixture(name: string): Promise<{ line: string; expected: Record<string, number> }> {
  const line = (await readFile(join(FIXTURES, name, 'tegrastats.txt'), 'utf8')).trimEnd();
  const expected = JSON.parse(await readFile(join(FIXTURES, name, 'expected.json'), 'utf8')) as Record<string, number>;
  return { line, expected };
}

/** Writes an executable Node script at `relative` in `tree` that tegrastats is replaced by; `body` sees `process.argv`. */
export async function fakeTegrastats(tree: FixtureTree, body: string, relative = 'tegrastats'): Promise<string> {
  await tree.write(relative, `#!${process.execPath}\n'use strict';\nconst fs = require('node:fs');\n${body}\n`);
  await chmod(tree.path(relative), 0o755);
  return tree.path(relative);
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

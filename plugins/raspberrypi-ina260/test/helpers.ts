import { chmod, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createLogger, resolveOptions, type CollectorContext, type Sample } from '@edge-metrics/core/plugin';
import type { FixtureTree } from '@edge-metrics/core/testing';
import { manifest } from '../src/manifest';

export const FIXTURES = join(__dirname, 'fixtures');

export function fixture(...path: string[]): string {
  return join(FIXTURES, ...path);
}

/** Puts the given fixture files where sysfs has them in `tree`: thermal zone 0's temp, the device-tree model. */
export async function buildSysfs(tree: FixtureTree, files: { temp?: string; model?: string }): Promise<void> {
  if (files.temp) await tree.write('class/thermal/thermal_zone0/temp', await readFile(files.temp, 'utf8'));
  if (files.model) await tree.write('firmware/devicetree/base/model', await readFile(files.model, 'utf8'));
}

/** What the fake vcgencmd does for a command: print a fixture file, or run a shell snippet. */
export type FakeCommand = { print: string } | { shell: string };

/** Writes an executable `vcgencmd` into `tree` that answers the given commands and fails on any other. */
export async function writeFakeVcgencmd(tree: FixtureTree, commands: Record<string, FakeCommand>): Promise<string> {
  const cases = Object.entries(commands).map(([command, action]) =>
    `  ${command}) ${'print' in action ? `cat '${action.print}'` : action.shell} ;;`,
  );
  await tree.write('vcgencmd', ['#!/bin/sh', 'case "$1" in', ...cases, '  *) echo "unknown command $1" >&2; exit 2 ;;', 'esac', ''].join('\n'));
  await chmod(tree.path('vcgencmd'), 0o755);
  return tree.path('vcgencmd');
}

/** The plugin's options as core resolves them: validated against the manifest's schema, defaults filled in. */
export function resolvedOptions(options: Record<string, unknown>): Record<string, unknown> {
  return resolveOptions(manifest, options, 'options');
}

/** A collector context whose logger keeps its lines. */
export function testContext(): CollectorContext & { logs: string[] } {
  const logs: string[] = [];
  return { deviceType: 'raspberrypi', collectorName: 'test', interval: 1, logger: createLogger('debug', (line) => logs.push(line)), logs };
}

/** The value of the sample with that name and labels, or undefined. */
export function valueOf(samples: Sample[], name: string, labels?: Record<string, string>): number | undefined {
  return samples.find(
    (sample) => sample.name === name && JSON.stringify(sample.labels ?? {}) === JSON.stringify(labels ?? {}),
  )?.value;
}

/** Calls `collect` until `done` holds for its samples, for at most `timeoutMs` (generous: shared machines are slow). */
export async function collectUntil(
  collect: () => Promise<Sample[]>,
  done: (samples: Sample[]) => boolean,
  timeoutMs = 10_000,
): Promise<Sample[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const samples = await collect();
    if (done(samples) || Date.now() > deadline) return samples;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Exporter } from '../src/exporter';
import { serve, type Listening } from '../src/http/server';
import { createLogger } from '../src/logger';

/** A fresh folder under the OS temp dir, removed by the returned cleanup. */
export async function tempDir(): Promise<{ path: string; cleanup: () => Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), 'edge-metrics-test-'));
  return { path, cleanup: () => rm(path, { recursive: true, force: true }) };
}

/** Lays out an npm package in `nodeModules/<name>` with the given files (package.json from `packageJson`). */
export async function writePackage(
  nodeModules: string,
  name: string,
  files: Record<string, string>,
  packageJson: Record<string, unknown> = {},
): Promise<string> {
  const dir = join(nodeModules, name);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'package.json'), JSON.stringify({ name, version: '1.2.3', main: 'index.js', ...packageJson }));
  for (const [file, text] of Object.entries(files)) {
    await mkdir(join(dir, file, '..'), { recursive: true });
    await writeFile(join(dir, file), text);
  }
  return dir;
}

/**
 * The source of a CommonJS plugin: a manifest for `name` serving `deviceType` with one gauge family
 * `<prefix>_power_watts` (label `sensor`), whose collector runs `collectBody` (JS source returning samples).
 */
export function pluginSource(name: string, deviceType: string, prefix: string, collectBody = `return [{ name: '${prefix}_power_watts', value: 1.5, labels: { sensor: 'main' } }];`): string {
  return `
exports.manifest = {
  name: ${JSON.stringify(name)},
  apiVersion: 1,
  deviceTypes: [${JSON.stringify(deviceType)}],
  metrics: [
    { name: '${prefix}_power_watts', help: 'Power', type: 'gauge', unit: 'watts', labels: ['sensor'] },
    { name: '${prefix}_rail_{rail}_watts', help: 'Rail power', type: 'gauge', unit: 'watts' },
    { name: 'energy_joules_total', help: 'Energy', type: 'counter', unit: 'joules' },
  ],
  optionsSchema: { type: 'object', additionalProperties: false, properties: { scale: { type: 'number', default: 1 } } },
};
exports.create = (options, context) => {
  let calls = 0;
  return {
    collect() { calls++; ${collectBody} },
  };
};
`;
}

/**
 * A temp folder with `plugins` (package name → source of its index.js) in its node_modules, where one exporter
 * runs on `configPath`, with that node_modules standing for the folder core is installed in (`installDir`).
 * `stop()` undoes whatever was started, in order: listener, exporter, folder.
 */
export interface ExporterSandbox {
  path: string;
  configPath: string;
  installDir: string;
  /** Writes `config` to `configPath`, then creates and starts the exporter. */
  start(config: string, env?: NodeJS.ProcessEnv): Promise<Exporter>;
  /** `start`, then serves the exporter over HTTP. */
  serve(config: string, env?: NodeJS.ProcessEnv): Promise<{ exporter: Exporter; listening: Listening }>;
  stop(): Promise<void>;
}

export async function exporterSandbox(plugins: Record<string, string>, logger: ReturnType<typeof createLogger>): Promise<ExporterSandbox> {
  const dir = await tempDir();
  const configPath = join(dir.path, 'config.yaml');
  const installDir = join(dir.path, 'node_modules');
  await mkdir(installDir, { recursive: true });
  for (const [name, source] of Object.entries(plugins)) await writePackage(installDir, name, { 'index.js': source });
  let exporter: Exporter | undefined;
  let listening: Listening | undefined;
  const start = async (config: string, env: NodeJS.ProcessEnv = {}): Promise<Exporter> => {
    if (exporter) throw new Error('this sandbox already runs an exporter');
    await writeFile(configPath, config);
    exporter = await Exporter.create({ configPath, cwd: dir.path, env, logger, installDir });
    await exporter.start();
    return exporter;
  };
  return {
    path: dir.path,
    configPath,
    installDir,
    start,
    async serve(config, env) {
      const started = await start(config, env);
      listening = await serve(started);
      return { exporter: started, listening };
    },
    async stop() {
      await listening?.close();
      await exporter?.stop();
      listening = exporter = undefined;
      await dir.cleanup();
    },
  };
}

/** The built CLI, for tests that run the exporter as a process. */
export const CLI = join(__dirname, '..', 'dist', 'cli.js');

/** The exporter CLI running as a child process in `cwd` (environment: PATH plus `env`), its log kept. */
export class ExporterProcess {
  log = '';
  readonly exited: Promise<number | null>;
  readonly child: ChildProcessWithoutNullStreams;

  constructor(cwd: string, args: string[] = [], env: NodeJS.ProcessEnv = {}) {
    this.child = spawn(process.execPath, [CLI, ...args], { cwd, env: { PATH: process.env.PATH, ...env } });
    this.child.stderr.on('data', (chunk) => (this.log += chunk));
    this.exited = new Promise((resolve) => this.child.on('exit', resolve));
  }

  /** The base URLs of `/metrics` and of the management routes, once it listens on the loopback. */
  async urls(): Promise<{ metrics: string; manage: string }> {
    const match = await waitFor(() => /serving \/metrics on 127\.0\.0\.1:(\d+), management routes on 127\.0\.0\.1:(\d+)/.exec(this.log), 'the exporter to listen');
    return { metrics: `http://127.0.0.1:${match[1]}`, manage: `http://127.0.0.1:${match[2]}` };
  }

  /** Ends it at once (safe when it has ended already). */
  kill(): void {
    this.child.kill('SIGKILL');
  }
}

/** A logger that keeps its lines in `lines`. */
export function memoryLogger() {
  const lines: string[] = [];
  return { lines, logger: createLogger('debug', (line) => lines.push(line)) };
}

/** `T` without its falsy values: what a poll such as `waitFor` returns once its check passes. */
export type Truthy<T> = Exclude<T, false | 0 | '' | null | undefined>;

/** Polls `check` until it returns a truthy value, which it returns, or `timeoutMs` passes (then fails with `what`). */
export async function waitFor<T>(check: () => T | Promise<T>, what: string, timeoutMs = 10_000): Promise<Truthy<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    // `if (value)` does not narrow a type parameter: the cast says what the test just checked.
    if (value) return value as Truthy<T>;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** The value of the series whose line starts with `selector` (name plus labels) in an exposition, if present. */
export function seriesValue(exposition: string, selector: string): number | undefined {
  const line = exposition.split('\n').find((candidate) => candidate.startsWith(selector));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

/** Runs the CLI to its end (`--once`, `plugins`) in `cwd`, with only PATH and `env` in its environment. */
export function runCli(args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): { code: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [CLI, ...args], { cwd, env: { PATH: process.env.PATH, ...env }, encoding: 'utf8', timeout: 30_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/**
 * The exporter CLI running in `cwd` on its `config.yaml`, which must say `port: 0` and `listen_address: 127.0.0.1`;
 * resolves once it serves `/metrics`. `stop()` sends SIGTERM and waits for the exit (SIGKILL after 10 s).
 */
export async function spawnExporter(cwd: string): Promise<{ metricsUrl: string; stderr: () => string; stop: () => Promise<void> }> {
  const child = spawn(process.execPath, [CLI], { cwd, env: { PATH: process.env.PATH } });
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  const stop = async () => {
    child.kill('SIGTERM');
    const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(killer);
  };
  try {
    const port = await waitFor(() => /serving \/metrics on 127\.0\.0\.1:(\d+)/.exec(stderr)?.[1], 'the exporter to listen', 20_000);
    return { metricsUrl: `http://127.0.0.1:${port}/metrics`, stderr: () => stderr, stop };
  } catch (error) {
    await stop();
    throw new Error(`${(error as Error).message}; its stderr:\n${stderr}`);
  }
}

/**
 * The self-metric lines (`edge_*`, `process_*`, `nodejs_*`) of an exposition whose value no working exporter can
 * have: not a finite number, negative, a time stamp more than a day from now, or any other `_seconds` (a duration,
 * a lag, CPU time) above an hour, which a test's exporter has not run for.
 */
export function implausibleSelfMetrics(exposition: string): string[] {
  const nowSeconds = Date.now() / 1000;
  return exposition.split('\n').filter((line) => {
    if (!/^(edge|process|nodejs)_/.test(line)) return false;
    const name = line.slice(0, line.search(/[{ ]/));
    const value = Number(line.slice(line.lastIndexOf(' ') + 1));
    if (!Number.isFinite(value) || value < 0) return true;
    if (name.endsWith('_timestamp_seconds') || name === 'process_start_time_seconds') return Math.abs(value - nowSeconds) > 86_400;
    return /_seconds(_total|_sum)?$/.test(name) && value > 3600;
  });
}

/**
 * Writes a module a Node process can preload (`NODE_OPTIONS` is returned) that says `loaded <name>` on stderr the
 * first time one of `modules` is required: to see which modules a running exporter loads, and when.
 */
export async function moduleLoadWatcher(dir: string, modules: readonly string[]): Promise<{ NODE_OPTIONS: string }> {
  const preload = join(dir, 'watch-loads.js');
  await writeFile(
    preload,
    `const Module = require('node:module');
const load = Module._load;
const watched = new Set(${JSON.stringify(modules)});
Module._load = function (request, ...rest) {
  if (watched.delete(request)) process.stderr.write('loaded ' + request + '\\n');
  return load.call(this, request, ...rest);
};
`,
  );
  return { NODE_OPTIONS: `--require ${preload}` };
}

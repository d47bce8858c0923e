import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import type { Truthy } from '../core/test/helpers';

export const REPO = join(__dirname, '..');
export const CLI = join(REPO, 'core', 'dist', 'cli.js');

interface RunOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  timeoutMs?: number;
}

/** Runs a command to its end; a command that cannot be started at all is an error saying which and why. */
export function run(command: string, args: string[], options: RunOptions = {}) {
  const result = spawnSync(command, args, {
    encoding: 'utf8',
    timeout: options.timeoutMs ?? 60_000,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...options.env },
    ...(options.cwd ? { cwd: options.cwd } : {}),
  });
  if (result.error) throw new Error(`cannot run ${command}: ${result.error.message}`);
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** Runs a command that must succeed; returns its standard output, or fails with all it printed. */
export function mustRun(command: string, args: string[], options: RunOptions = {}): string {
  const result = run(command, args, { timeoutMs: 240_000, ...options });
  if (result.code !== 0) throw new Error(`${command} ${args.join(' ')} exited ${result.code}:\n${result.stdout}\n${result.stderr}`);
  return result.stdout;
}

export async function tempDir(): Promise<{ path: string; cleanup: () => Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), 'edge-metrics-e2e-'));
  return { path, cleanup: () => rm(path, { recursive: true, force: true }) };
}

/**
 * Polls `check` until it returns a truthy value (a throw counts as not yet), or fails after `timeoutMs` naming
 * what it waited for; `what` may be a function, to describe the state at the time of failure.
 */
export async function waitFor<T>(check: () => T | Promise<T>, what: string | (() => string), timeoutMs = 60_000): Promise<Truthy<T>> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value as Truthy<T>;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      const described = typeof what === 'function' ? what() : what;
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${described}${lastError ? ` (last error: ${lastError instanceof Error ? lastError.message : inspect(lastError)})` : ''}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** A port that was free on the loopback a moment ago. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** A long-running child process whose output is kept, to wait on and to show when something goes wrong. */
export class Service {
  private output = '';
  private ended = false;
  private readonly exited: Promise<void>;

  private constructor(
    readonly name: string,
    private readonly child: ChildProcess,
  ) {
    child.stdout?.on('data', (chunk) => (this.output += chunk));
    child.stderr?.on('data', (chunk) => (this.output += chunk));
    this.exited = new Promise<void>((resolve) => {
      child.once('exit', (code, signal) => {
        this.output += `\n[${name} exited: ${signal ?? `code ${code}`}]\n`;
        resolve();
      });
      child.once('error', (error) => {
        this.output += `\n[${name} could not be started: ${error.message}]\n`;
        resolve();
      });
    }).then(() => {
      this.ended = true;
    });
  }

  static start(name: string, command: string, args: string[], options: { cwd: string; env?: NodeJS.ProcessEnv }): Service {
    const child = spawn(command, args, { cwd: options.cwd, env: { PATH: process.env.PATH, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    return new Service(name, child);
  }

  /** Waits until the output matches `pattern` and returns its first group; fails at once, with the output, if the process ends. */
  async waitForOutput(pattern: RegExp, timeoutMs = 60_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const match = pattern.exec(this.output);
      if (match) return match[1] ?? match[0];
      if (this.ended) throw new Error(`${this.name} ended before printing ${pattern}:\n${this.output}`);
      if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${this.name} to print ${pattern}:\n${this.output}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  get log(): string {
    return this.output;
  }

  /** SIGKILL, as a crash or a power cut would end it; resolves once it has ended. */
  async kill(): Promise<void> {
    if (this.ended) return;
    this.child.kill('SIGKILL');
    await this.exited;
  }

  /** SIGTERM, then SIGKILL if it has not ended within 10 s. Safe to call when it has already ended. */
  async stop(): Promise<void> {
    if (this.ended) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
    await this.exited;
    clearTimeout(timer);
  }
}

import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { Logger } from '@edge-metrics/core/plugin';

export interface TegrastatsProcessOptions {
  /** The command, looked up on PATH when it has no `/`. */
  command: string;
  intervalMs: number;
  /** The longest wait between two restarts; the wait doubles from `INITIAL_BACKOFF_MS` up to it. */
  maxBackoffMs: number;
  logger: Logger;
  onLine(line: string): void;
}

const INITIAL_BACKOFF_MS = 1000;
/** How long a child may take to end on SIGTERM before it gets SIGKILL. */
const TERMINATE_GRACE_MS = 2000;
/** Keeps the last line of stderr for the error message; tegrastats says why it quits there. */
const STDERR_LINE_LIMIT = 300;

/**
 * Keeps one `tegrastats --interval <ms>` child running: hands each stdout line to `onLine`, restarts the child
 * with exponential backoff when it cannot start or exits, and kills and reaps it on `stop()`.
 */
export class TegrastatsProcess {
  private child: ChildProcess | undefined;
  private failures = 0;
  private restartTimer: NodeJS.Timeout | undefined;
  /** The wait before the restart that is scheduled, if any. */
  private restartDelayMs: number | undefined;
  private stopping: Promise<void> | undefined;
  private lastStderr = '';
  private whyDown: string | undefined;
  private spawnedAtMs: number | undefined;

  constructor(private readonly options: TegrastatsProcessOptions) {}

  start(): void {
    if (this.stopping || this.child) return;
    this.spawnChild();
  }

  /**
   * Why no child is running (not found, not permitted, exit code) and the wait before the next restart; undefined
   * while one runs. The wait is the one scheduled, not a countdown: the message stays the same for as long as the
   * failure lasts, so that it is logged once rather than at every collection.
   */
  get failure(): string | undefined {
    if (this.whyDown === undefined) return undefined;
    if (this.restartDelayMs === undefined) return this.whyDown;
    return `${this.whyDown}; restarting it in ${(this.restartDelayMs / 1000).toFixed(1)} s`;
  }

  /** When the running child was started (`performance.now()`); undefined while none runs. */
  get runningSinceMs(): number | undefined {
    return this.child ? this.spawnedAtMs : undefined;
  }

  /** Ends a running child that has stopped talking; the exit starts a new one. */
  recycle(): void {
    this.child?.kill('SIGKILL');
  }

  /** Kills the child and waits until it has exited; safe to call more than once. */
  stop(): Promise<void> {
    this.stopping ??= this.shutDown();
    return this.stopping;
  }

  private async shutDown(): Promise<void> {
    clearTimeout(this.restartTimer);
    this.restartTimer = undefined;
    const child = this.child;
    if (child) await terminate(child);
  }

  private spawnChild(): void {
    const { command, intervalMs, logger } = this.options;
    this.lastStderr = '';
    const child = spawn(command, ['--interval', String(intervalMs)], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    this.spawnedAtMs = performance.now();
    this.whyDown = undefined;
    this.restartDelayMs = undefined;

    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (this.child !== child) return;
      this.failures = 0;
      this.options.onLine(line);
    });
    createInterface({ input: child.stderr! }).on('line', (line) => {
      if (line.trim()) this.lastStderr = line.trim().slice(0, STDERR_LINE_LIMIT);
    });
    child.on('error', (error: NodeJS.ErrnoException) => {
      // An error after a successful spawn (a failed kill) is followed by 'exit'; only a failed spawn ends here.
      if (child.pid === undefined) this.childEnded(child, startFailure(command, error));
    });
    child.on('exit', (code, signal) => {
      logger.debug(`tegrastats (pid ${child.pid}) exited with ${signal ?? `code ${code}`}`);
      this.childEnded(child, exitFailure(command, code, signal, this.lastStderr));
    });
  }

  private childEnded(child: ChildProcess, why: string): void {
    if (this.child !== child) return;
    this.child = undefined;
    if (this.stopping) return;
    this.whyDown = why;
    // Once per kind of failure: the stderr part of the message may differ from run to run.
    this.options.logger.warnOnce(why.split(': ')[0]!, why);
    const delay = Math.min(this.options.maxBackoffMs, INITIAL_BACKOFF_MS * 2 ** this.failures);
    this.failures += 1;
    this.restartDelayMs = delay;
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      if (!this.stopping) this.spawnChild();
    }, delay);
  }
}

function startFailure(command: string, error: NodeJS.ErrnoException): string {
  switch (error.code) {
    case 'ENOENT':
      return `tegrastats not found: '${command}' is not ${command.includes('/') ? 'there' : 'on PATH'}; install the L4T tools (nvidia-l4t-tools) or set options.tegrastats_path to its full path (usually /usr/bin/tegrastats)`;
    case 'EACCES':
      return `permission denied running tegrastats at '${command}': make it executable (chmod +x) and readable by the exporter's user`;
    default:
      return `could not start tegrastats at '${command}': ${error.message}`;
  }
}

function exitFailure(command: string, code: number | null, signal: NodeJS.Signals | null, stderr: string): string {
  const how = signal ? `was killed by signal ${signal}` : `exited with code ${code}`;
  return `tegrastats ('${command}') ${how}${stderr ? `: ${stderr}` : ''}`;
}

/** SIGTERM, then SIGKILL after a grace period; resolves once the child has exited (and so been reaped). */
function terminate(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return Promise.resolve();
  return new Promise((resolve) => {
    const kill = setTimeout(() => child.kill('SIGKILL'), TERMINATE_GRACE_MS);
    child.once('exit', () => {
      clearTimeout(kill);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

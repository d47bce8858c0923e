import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { waitFor } from './helpers';

/** The built CLI of the config server, run as a real process. */
export const CLI = join(__dirname, '..', 'dist', 'cli.js');

export interface Cli {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const children: ChildProcess[] = [];

/** Kills every server process the test started and left running (for afterEach). */
export function killCliProcesses(): void {
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
}

export function runCli(args: string[], env: Record<string, string> = {}): Cli {
  const child = spawn(process.execPath, [CLI, ...args], {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('close', (code, signal) => resolve({ code, signal })),
  );
  return { child, stdout: () => stdout, stderr: () => stderr, exited };
}

/** Starts the CLI on a free port and resolves with its base URL once it logs that it listens. */
export async function startCli(args: string[], env: Record<string, string> = {}): Promise<Cli & { base: string }> {
  const cli = runCli(['--port', '0', '--listen', '127.0.0.1', ...args], env);
  let port: string | undefined;
  await waitFor(async () => {
    if (cli.child.exitCode !== null) throw new Error(`the CLI exited early: ${cli.stderr()}`);
    port = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(cli.stderr())?.[1];
    return port !== undefined;
  }, 'the CLI to listen');
  return { ...cli, base: `http://127.0.0.1:${port}` };
}


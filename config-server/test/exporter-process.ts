import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Truthy } from '../../core/test/helpers';

const CLI = join(__dirname, '..', '..', 'core', 'dist', 'cli.js');
/** A device's local config.yaml: the host collector, fast cycles, free ports on loopback. */
export const LOCAL_CONFIG = `# this device's own settings
device_type: host
interval: 0.2
port: 0
reload_port: 0
listen_address: 127.0.0.1
metrics:
  host_load1: true # watched by the fleet dashboard
`;

/** The body of the exporter's GET /metrics/list. */
export interface MetricsList {
  metrics: Record<string, boolean>;
  source: string;
  device_type: string;
}

/** A real exporter process, configured by env to follow a config server. */
export class Exporter {
  stderr = '';
  readonly exited: Promise<number | null>;

  private constructor(
    readonly child: ChildProcessWithoutNullStreams,
    readonly dir: string,
  ) {
    child.stderr.on('data', (chunk) => (this.stderr += chunk));
    this.exited = new Promise((resolve) => child.on('exit', resolve));
  }

  static async start(dir: string, env: Record<string, string>, config = LOCAL_CONFIG): Promise<Exporter> {
    await writeFile(join(dir, 'config.yaml'), config);
    const child = spawn(process.execPath, [CLI], { cwd: dir, env: { PATH: process.env.PATH, DEVICE_ID: 'edge-01', CONFIG_TIMEOUT: '2', ...env } });
    exporters.push(new Exporter(child, dir));
    return exporters[exporters.length - 1]!;
  }

  async ports(): Promise<{ metrics: string; manage: string }> {
    const match = await waitFor(() => /serving \/metrics on 127\.0\.0\.1:(\d+), management routes on 127\.0\.0\.1:(\d+)/.exec(this.stderr), 'the exporter to listen');
    return { metrics: `http://127.0.0.1:${match[1]}`, manage: `http://127.0.0.1:${match[2]}` };
  }

  /** GET /metrics/list, with `headers` (e.g. the management token). */
  async list(headers: Record<string, string> = {}): Promise<MetricsList> {
    const response = await fetch(`${(await this.ports()).manage}/metrics/list`, { headers });
    if (!response.ok) throw new Error(`GET /metrics/list answered ${response.status}: ${await response.text()}`);
    return (await response.json()) as MetricsList;
  }

  async enable(changes: Record<string, boolean>): Promise<number> {
    const response = await fetch(`${(await this.ports()).manage}/metrics/enable`, { method: 'POST', body: JSON.stringify(changes), headers: { 'content-type': 'application/json' } });
    return response.status;
  }

  async metrics(): Promise<string> {
    return (await fetch(`${(await this.ports()).metrics}/metrics`)).text();
  }

  localFile(): Promise<string> {
    return readFile(join(this.dir, 'config.yaml'), 'utf8');
  }

  async stop(): Promise<number | null> {
    this.child.kill('SIGTERM');
    return this.exited;
  }
}

const exporters: Exporter[] = [];

/** Kills every exporter started by the test (for afterEach). */
export function killExporters(): void {
  for (const exporter of exporters.splice(0)) exporter.child.kill('SIGKILL');
}

/** Polls `check` every 25 ms until it gives a truthy value, which it returns; fails after `timeoutMs`. */
export async function waitFor<T>(check: () => T | Promise<T>, what: string, timeoutMs = 15_000): Promise<Truthy<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value as Truthy<T>;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

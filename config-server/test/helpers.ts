import { mkdtemp, rm } from 'node:fs/promises';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '@edge-metrics/core';
import { createConfigServer, type ConfigServer, type ConfigServerOptions } from '../src';
import { testPostgres } from './postgres';

export interface RunningServer {
  base: string;
  server: ConfigServer;
  logs: string[];
  dir: string;
  /** The SQLite file, or the PostgreSQL URL. */
  dbPath: string;
}

export type Engine = 'sqlite' | 'postgres';
let engine: Engine = 'sqlite';

/**
 * The database servers of this test file get from now on: a SQLite file in their temp folder (the default), or a
 * new database of the file's throwaway PostgreSQL cluster.
 */
export function useEngine(which: Engine): void {
  engine = which;
}

const running: RunningServer[] = [];
const dirs: string[] = [];

export async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'config-server-test-'));
  dirs.push(dir);
  return dir;
}

/**
 * A real server on 127.0.0.1 (a free port, or `port`) with its database (see `useEngine`) of its own unless `dbPath`
 * names one; logs are collected.
 */
export async function startServer(
  options: Partial<ConfigServerOptions> & { dir?: string; port?: number } = {},
): Promise<RunningServer> {
  const dir = options.dir ?? (await tempDir());
  const dbPath = options.dbPath ?? (engine === 'postgres' ? await (await testPostgres()).createDatabase() : join(dir, 'config-server.db'));
  const logs: string[] = [];
  const server = createConfigServer({
    logger: createLogger('debug', (line) => logs.push(line)),
    ...options,
    dbPath,
  });
  const { port } = await server.listen(options.port ?? 0, '127.0.0.1');
  const started = { base: `http://127.0.0.1:${port}`, server, logs, dir, dbPath };
  running.push(started);
  return started;
}

/** Closes every server started by the test and removes the temp folders. */
export async function cleanUp(): Promise<void> {
  await Promise.all(running.splice(0).map(({ server }) => server.close()));
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
}

export interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
  json(): any;
}

export interface RequestInit {
  method?: string;
  headers?: Record<string, string>;
  /** Sent as JSON with Content-Type application/json. */
  json?: unknown;
  body?: string | Buffer;
  /** Sent as `Authorization: Bearer <token>`. */
  token?: string;
}

/**
 * One HTTP request on its own connection, with the path sent exactly as given (no `..` resolution, no
 * re-encoding), which fetch() would not allow.
 */
export function request(base: string, path: string, init: RequestInit = {}): Promise<Reply> {
  const headers: Record<string, string> = { ...init.headers };
  let body = init.body;
  if (init.json !== undefined) {
    body = JSON.stringify(init.json);
    headers['Content-Type'] ??= 'application/json';
  }
  if (init.token !== undefined) headers.Authorization = `Bearer ${init.token}`;
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: hostname, port, path, method: init.method ?? 'GET', headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json: () => JSON.parse(text) });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** The value of one unlabelled series in the server's /metrics. */
export async function metricValue(base: string, name: string, token?: string): Promise<number> {
  const { text } = await request(base, '/metrics', { token });
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  if (!line) throw new Error(`${name} is not in /metrics`);
  return Number(line.slice(name.length + 1));
}

/** Polls `condition` every 20 ms until it holds; fails after `timeoutMs` (generous: machines are shared). */
export async function waitFor(condition: () => Promise<boolean>, what: string, timeoutMs = 15000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** A valid config in the seed's format. */
export const SAMPLE_CONFIG = {
  device_type: 'jetson_orin',
  interval: 1,
  port: 9100,
  reload_port: 9101,
  metrics: {
    jetson_power_vdd_gpu_soc_watts: true,
    jetson_power_vdd_cpu_cv_watts: true,
    jetson_temp_cpu_celsius: true,
    jetson_temp_gpu_celsius: false,
  },
};

import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { chown, mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'pg';

const run = promisify(execFile);
/** Debian's newest PostgreSQL (`/usr/lib/postgresql/<major>/bin`), unless POSTGRES_BIN names the folder of `initdb`. */
const BIN = process.env.POSTGRES_BIN ?? newestDebianPostgres();

function newestDebianPostgres(): string {
  const majors = existsSync('/usr/lib/postgresql') ? readdirSync('/usr/lib/postgresql').filter((name) => /^\d+$/.test(name)) : [];
  const newest = majors.sort((a, b) => Number(b) - Number(a))[0] ?? '15';
  return `/usr/lib/postgresql/${newest}/bin`;
}

/** A throwaway PostgreSQL cluster in a temp folder, on a loopback port, trusting local connections. */
export interface TestPostgres {
  port: number;
  /** The URL of a database of this cluster. */
  url(database: string): string;
  /** A new empty database; its URL. */
  createDatabase(): Promise<string>;
  /** Stops the server (fast: connections are cut, committed work is kept). */
  halt(): Promise<void>;
  /** Starts it again on the same port. */
  resume(): Promise<void>;
  stop(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

/** PostgreSQL refuses to run as root: as root, its commands run as `nobody`, which then owns the cluster's folder. */
async function asPostgresUser(command: string, args: string[], dir: string): Promise<void> {
  const binary = join(BIN, command);
  try {
    if (process.getuid?.() === 0) await run('runuser', ['-u', 'nobody', '--', binary, ...args], { cwd: dir });
    else await run(binary, args, { cwd: dir });
  } catch (error) {
    const { stderr, message } = error as { stderr?: string; message: string };
    throw new Error(`PostgreSQL for the tests: ${command} failed: ${(stderr || message).trim()}`);
  }
}

/** Starts a cluster; fails with what to install when PostgreSQL is missing. */
export async function startTestPostgres(): Promise<TestPostgres> {
  if (!existsSync(join(BIN, 'initdb'))) {
    throw new Error(`PostgreSQL is needed by these tests and ${BIN}/initdb is missing: apt-get install -y postgresql (or set POSTGRES_BIN)`);
  }
  const dir = await mkdtemp(join(tmpdir(), 'config-server-pg-'));
  const data = join(dir, 'data');
  if (process.getuid?.() === 0) await chown(dir, 65534, 65534);
  await asPostgresUser('initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '--no-sync', '-E', 'UTF8', '--locale=C'], dir);
  const port = await freePort();
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off -c max_connections=200`;
  const start = (): Promise<void> => asPostgresUser('pg_ctl', ['start', '-w', '-D', data, '-l', join(dir, 'log'), '-o', options], dir);
  await start();
  let databases = 0;
  const url = (database: string): string => `postgres://postgres@127.0.0.1:${port}/${database}`;
  return {
    port,
    url,
    async createDatabase() {
      const name = `test_${++databases}`;
      const client = new Client({ connectionString: url('postgres') });
      await client.connect();
      try {
        await client.query(`CREATE DATABASE ${name}`);
      } finally {
        await client.end();
      }
      return url(name);
    },
    halt: () => asPostgresUser('pg_ctl', ['stop', '-w', '-m', 'fast', '-D', data], dir),
    resume: start,
    async stop() {
      await asPostgresUser('pg_ctl', ['stop', '-w', '-m', 'immediate', '-D', data], dir).catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

let cluster: Promise<TestPostgres> | undefined;

/** The cluster of this test file, started at first use and stopped after its last test. */
export function testPostgres(): Promise<TestPostgres> {
  cluster ??= startTestPostgres();
  return cluster;
}

afterAll(async () => {
  await cluster?.then((started) => started.stop(), () => undefined);
});

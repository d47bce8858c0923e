'use strict';
// A throwaway PostgreSQL cluster for the config server's tests and the bench: initdb into a temp folder, started
// with pg_ctl on a free loopback port, without fsync (speed over durability: it is thrown away). PostgreSQL refuses
// to run as root: as root, its commands run as the user nobody, which then owns the cluster's folder.

const { execFile } = require('node:child_process');
const { existsSync, readdirSync } = require('node:fs');
const { chown, mkdtemp, rm } = require('node:fs/promises');
const { createServer } = require('node:net');
const { tmpdir } = require('node:os');
const { join } = require('node:path');
const { promisify } = require('node:util');
const { Client } = require('pg');

const run = promisify(execFile);
const NOBODY = 65534;

/** Debian's newest PostgreSQL (`/usr/lib/postgresql/<major>/bin`), unless POSTGRES_BIN names the folder of `initdb`. */
function postgresBin() {
  if (process.env.POSTGRES_BIN) return process.env.POSTGRES_BIN;
  const majors = existsSync('/usr/lib/postgresql') ? readdirSync('/usr/lib/postgresql').filter((name) => /^\d+$/.test(name)) : [];
  const newest = majors.sort((a, b) => Number(b) - Number(a))[0] ?? '15';
  return `/usr/lib/postgresql/${newest}/bin`;
}

function freePort() {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

/** Starts a cluster; fails with what to install when PostgreSQL is missing. */
async function startThrowawayPostgres() {
  const bin = postgresBin();
  if (!existsSync(join(bin, 'initdb'))) {
    throw new Error(`PostgreSQL is needed and ${bin}/initdb is missing: apt-get install -y postgresql (or set POSTGRES_BIN)`);
  }
  const asRoot = process.getuid?.() === 0;
  const dir = await mkdtemp(join(tmpdir(), 'config-server-pg-'));
  const pgCommand = async (command, args) => {
    const binary = join(bin, command);
    try {
      if (asRoot) await run('runuser', ['-u', 'nobody', '--', binary, ...args], { cwd: dir });
      else await run(binary, args, { cwd: dir });
    } catch (error) {
      throw new Error(`throwaway PostgreSQL: ${command} failed: ${(error.stderr || error.message).trim()}`);
    }
  };
  const data = join(dir, 'data');
  if (asRoot) await chown(dir, NOBODY, NOBODY);
  await pgCommand('initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '--no-sync', '-E', 'UTF8', '--locale=C']);
  const port = await freePort();
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off -c max_connections=200`;
  const start = () => pgCommand('pg_ctl', ['start', '-w', '-D', data, '-l', join(dir, 'log'), '-o', options]);
  await start();
  let databases = 0;
  const url = (database) => `postgres://postgres@127.0.0.1:${port}/${database}`;
  return {
    port,
    url,
    /** A new empty database; resolves with its URL. */
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
    /** Stops the server (fast: connections are cut, committed work is kept). */
    halt: () => pgCommand('pg_ctl', ['stop', '-w', '-m', 'fast', '-D', data]),
    /** Starts it again on the same port. */
    resume: start,
    /** Stops it at once and removes its folder. */
    async stop() {
      await pgCommand('pg_ctl', ['stop', '-w', '-m', 'immediate', '-D', data]).catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

module.exports = { startThrowawayPostgres };

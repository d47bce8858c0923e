import { Client } from 'pg';
import { ConfigServerError, createConfigServer } from '../src';
import { cleanUp, request, SAMPLE_CONFIG, startServer, useEngine } from './helpers';
import { testPostgres } from './postgres';

useEngine('postgres');
afterEach(cleanUp);

async function listenError(dbPath: string): Promise<ConfigServerError> {
  const server = createConfigServer({ dbPath });
  try {
    await server.listen(0, '127.0.0.1');
  } catch (error) {
    if (error instanceof ConfigServerError) return error;
    throw error;
  } finally {
    await server.close();
  }
  throw new Error(`the server started on ${dbPath}`);
}

describe('the PostgreSQL store', () => {
  it('keeps every version, source and report across a restart', async () => {
    const first = await startServer();
    await request(first.base, '/config/edge-01', { method: 'PUT', json: SAMPLE_CONFIG });
    await request(first.base, '/config/edge-01', { method: 'PUT', json: { ...SAMPLE_CONFIG, interval: 2 }, headers: { 'X-Config-Source': 'device' } });
    await request(first.base, '/devices/edge-01/status', { method: 'POST', json: { version: 2, status: 'applied', metrics_port: 9100 } });
    const before = (await request(first.base, '/devices')).json();
    await first.server.close();

    const second = await startServer({ dbPath: first.dbPath });
    expect((await request(second.base, '/config/edge-01')).headers.etag).toBe('"2"');
    expect((await request(second.base, '/config/edge-01/history')).json().versions).toHaveLength(2);
    expect((await request(second.base, '/devices')).json()).toEqual(before);
  });

  it('adds the sessions table to a database of schema version 1, keeping its fleet', async () => {
    const first = await startServer();
    await request(first.base, '/config/edge-01', { method: 'PUT', json: SAMPLE_CONFIG });
    await first.server.close();
    // The database as the server before console sessions left it.
    const client = new Client({ connectionString: first.dbPath });
    await client.connect();
    await client.query('DROP TABLE sessions; DELETE FROM schema_version WHERE version = 2');
    await client.end();

    const second = await startServer({ dbPath: first.dbPath, adminToken: 'admin-migrate-6c2e9f' });
    expect((await request(second.base, '/config/edge-01', { token: 'admin-migrate-6c2e9f' })).json()).toEqual(SAMPLE_CONFIG);
    const signIn = await request(second.base, '/ui/sign-in', { method: 'POST', body: 'token=admin-migrate-6c2e9f', headers: { 'Content-Type': 'application/x-www-form-urlencoded' } });
    expect(signIn.status).toBe(303);
    const check = new Client({ connectionString: first.dbPath });
    await check.connect();
    const versions = (await check.query('SELECT version FROM schema_version ORDER BY version')).rows.map((row: { version: number }) => row.version);
    const sessions = (await check.query('SELECT COUNT(*) AS count FROM sessions')).rows[0].count;
    await check.end();
    expect([versions, Number(sessions)]).toEqual([[1, 2], 1]);
  });

  it('refuses a database written by a newer server, leaving it as it was', async () => {
    const { dbPath, server } = await startServer();
    await server.close();
    const client = new Client({ connectionString: dbPath });
    await client.connect();
    await client.query('INSERT INTO schema_version (version, migrated_at) VALUES (99, 0)');
    const error = await listenError(dbPath);
    const { rows } = await client.query('SELECT MAX(version) AS version FROM schema_version');
    await client.end();
    expect(error.code).toBe('ECS_DB_TOO_NEW');
    expect(error.message).toContain('schema version 99, but this server knows only up to 2');
    expect(rows[0].version).toBe(99);
  });

  it('names an unreachable database (without its password) when it cannot start', async () => {
    const { port } = await testPostgres();
    const error = await listenError(`postgres://ecs:secret@127.0.0.1:${port}/no_such_database`);
    expect(error.code).toBe('ECS_DB_OPEN_FAILED');
    expect(error.message).toMatch(/^cannot open the database postgres:\/\/ecs:\*\*\*@127\.0\.0\.1:\d+\/no_such_database: /);
    expect(error.message).not.toContain('secret');
  });
});

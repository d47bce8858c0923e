import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { ConfigServerError, createConfigServer } from '../src';
import { cleanUp, request, SAMPLE_CONFIG, startServer, tempDir } from './helpers';

afterEach(cleanUp);

function openError(dbPath: string): ConfigServerError {
  try {
    void createConfigServer({ dbPath }).close();
  } catch (error) {
    if (error instanceof ConfigServerError) return error;
    throw error;
  }
  throw new Error(`createConfigServer opened ${dbPath}`);
}

describe('the SQLite store', () => {
  it('keeps every version, source and report across a restart', async () => {
    const first = await startServer();
    await request(first.base, '/config/edge-01', { method: 'PUT', json: SAMPLE_CONFIG });
    await request(first.base, '/config/edge-01', {
      method: 'PUT',
      json: { ...SAMPLE_CONFIG, interval: 2 },
      headers: { 'X-Config-Source': 'device' },
    });
    await request(first.base, '/devices/edge-01/status', {
      method: 'POST',
      json: { version: 2, status: 'applied', metrics_port: 9100, device_type: 'jetson_orin' },
    });
    const before = (await request(first.base, '/devices')).json();
    await first.server.close();

    const second = await startServer({ dir: first.dir, dbPath: first.dbPath });
    const current = await request(second.base, '/config/edge-01');
    expect(current.headers.etag).toBe('"2"');
    expect(current.json()).toEqual({ ...SAMPLE_CONFIG, interval: 2 });
    expect((await request(second.base, '/config/edge-01/history')).json().versions).toHaveLength(2);
    expect((await request(second.base, '/devices')).json()).toEqual(before);
    const next = await request(second.base, '/config/edge-01', { method: 'PUT', json: { ...SAMPLE_CONFIG, interval: 3 } });
    expect(next.headers.etag).toBe('"3"');
  });

  it('is created on first start in WAL mode with its schema version', async () => {
    const { server, dbPath } = await startServer();
    await server.close();
    const db = new Database(dbPath, { readonly: true });
    try {
      expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
      expect(db.pragma('user_version', { simple: true })).toBe(3);
      const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").pluck().all();
      expect(tables).toEqual(['config_versions', 'devices', 'layer_pins', 'layer_versions', 'layers', 'rollout_devices', 'rollouts', 'sessions']);
    } finally {
      db.close();
    }
  });

  it('gives consecutive versions to concurrent writes and lets only one of several based on the same version win', async () => {
    const { base } = await startServer();
    await request(base, '/config/edge-01', { method: 'PUT', json: SAMPLE_CONFIG });
    const racing = await Promise.all(
      [2, 3, 4, 5, 6].map((interval) =>
        request(base, '/config/edge-01', { method: 'PUT', json: { ...SAMPLE_CONFIG, interval }, headers: { 'If-Match': '"1"' } }),
      ),
    );
    expect(racing.map((r) => r.status).sort()).toEqual([200, 412, 412, 412, 412]);

    const unconditional = await Promise.all(
      [7, 8, 9].map((interval) => request(base, '/config/edge-01', { method: 'PUT', json: { ...SAMPLE_CONFIG, interval } })),
    );
    expect(unconditional.map((r) => r.headers.etag).sort()).toEqual(['"3"', '"4"', '"5"']);
    const versions = (await request(base, '/config/edge-01/history')).json().versions.map((v: { version: number }) => v.version);
    expect(versions).toEqual([5, 4, 3, 2, 1]);
  });

  it('upgrades a database of the server before layers: each device keeps its version, its whole config becomes its own layer', async () => {
    const dbPath = join(await tempDir(), 'v1.db');
    const db = new Database(dbPath);
    // The schema and rows as the server before layers (schema version 1) left them.
    db.exec(`CREATE TABLE devices (device_id TEXT PRIMARY KEY, created_at INTEGER NOT NULL, last_seen_at INTEGER,
               last_seen_address TEXT, device_type TEXT, target_address TEXT, metrics_port INTEGER, reported_at INTEGER) STRICT;
             CREATE TABLE config_versions (device_id TEXT NOT NULL REFERENCES devices (device_id), version INTEGER NOT NULL,
               config TEXT NOT NULL, source TEXT NOT NULL CHECK (source IN ('admin', 'device')), address TEXT,
               created_at INTEGER NOT NULL, apply_status TEXT CHECK (apply_status IN ('applied', 'failed')), apply_error TEXT,
               apply_reported_at INTEGER, PRIMARY KEY (device_id, version)) STRICT;`);
    db.prepare("INSERT INTO devices (device_id, created_at) VALUES ('edge-01', 1)").run();
    const insert = db.prepare("INSERT INTO config_versions (device_id, version, config, source, created_at) VALUES ('edge-01', ?, ?, 'admin', ?)");
    insert.run(1, JSON.stringify(SAMPLE_CONFIG), 1);
    insert.run(2, JSON.stringify({ ...SAMPLE_CONFIG, interval: 2 }), 2);
    db.pragma('user_version = 1');
    db.close();

    const { base } = await startServer({ dbPath });
    const current = await request(base, '/config/edge-01');
    expect(current.headers.etag).toBe('"2"');
    expect(current.json()).toEqual({ ...SAMPLE_CONFIG, interval: 2 });
    expect((await request(base, '/config/edge-01/layer')).json()).toMatchObject({ version: 1, config: { ...SAMPLE_CONFIG, interval: 2 } });
    // Its keys are its own now: a fleet value shows only where the device has none.
    await request(base, '/fleet', { method: 'PUT', json: { interval: 9, labels: { fleet: 'east' } } });
    expect((await request(base, '/config/edge-01')).json()).toEqual({ ...SAMPLE_CONFIG, interval: 2, labels: { fleet: 'east' } });
  });

  it('adds the sessions table to a database of schema version 2, keeping its fleet', async () => {
    const first = await startServer();
    await request(first.base, '/config/edge-01', { method: 'PUT', json: SAMPLE_CONFIG });
    await first.server.close();
    // The database as the server before console sessions left it.
    const old = new Database(first.dbPath);
    old.exec('DROP TABLE sessions');
    old.pragma('user_version = 2');
    old.close();

    const second = await startServer({ dbPath: first.dbPath, adminToken: 'admin-migrate-6c2e9f' });
    expect((await request(second.base, '/config/edge-01', { token: 'admin-migrate-6c2e9f' })).json()).toEqual(SAMPLE_CONFIG);
    const signIn = await request(second.base, '/ui/sign-in', { method: 'POST', body: 'token=admin-migrate-6c2e9f', headers: { 'Content-Type': 'application/x-www-form-urlencoded' } });
    expect(signIn.status).toBe(303);
    await second.server.close();
    const db = new Database(first.dbPath, { readonly: true });
    try {
      expect(db.pragma('user_version', { simple: true })).toBe(3);
      expect(db.prepare('SELECT COUNT(*) FROM sessions').pluck().get()).toBe(1);
    } finally {
      db.close();
    }
  });

  it('refuses a database written by a newer server', async () => {
    const dbPath = join(await tempDir(), 'newer.db');
    const db = new Database(dbPath);
    db.pragma('user_version = 99');
    db.close();
    const error = openError(dbPath);
    expect(error.code).toBe('ECS_DB_TOO_NEW');
    expect(error.message).toContain(`the database ${dbPath} has schema version 99`);
  });

  it('names the file when it cannot open it', async () => {
    const dir = await tempDir();
    const missingFolder = openError(join(dir, 'no-such-folder', 'config.db'));
    expect(missingFolder.code).toBe('ECS_DB_OPEN_FAILED');
    expect(missingFolder.message).toContain(`cannot open the database ${join(dir, 'no-such-folder', 'config.db')}`);

    const garbagePath = join(dir, 'garbage.db');
    writeFileSync(garbagePath, 'this is not an SQLite database, it is a text file long enough to have a header'.repeat(10));
    const garbage = openError(garbagePath);
    expect(garbage.code).toBe('ECS_DB_OPEN_FAILED');
    expect(garbage.message).toContain('not a database');
  });
});

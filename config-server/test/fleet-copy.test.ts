import { join } from 'node:path';
import { copyFleet, FLEET_TABLES, openDatabase, tableRows } from '../src/fleet-copy';
import { runCli } from './cli-process';
import { cleanUp, request, SAMPLE_CONFIG, startServer, tempDir } from './helpers';
import { testPostgres } from './postgres';

afterEach(cleanUp);

const put = (base: string, path: string, json: unknown, headers: Record<string, string> = {}) => request(base, path, { method: 'PUT', json, headers });
const post = (base: string, path: string, json: unknown) => request(base, path, { method: 'POST', json });

/** A fleet with a bit of everything: versions from both sources, reports, tags, layers, a deleted group, rollouts. */
async function buildFleet(base: string): Promise<void> {
  for (const id of ['edge-01', 'edge-02', 'pi-07']) {
    await put(base, `/config/${id}`, { ...SAMPLE_CONFIG, device_type: id.startsWith('pi') ? 'raspberrypi' : 'jetson_orin' });
  }
  await put(base, '/config/edge-01', { ...SAMPLE_CONFIG, interval: 2 }, { 'X-Config-Source': 'device' });
  await post(base, '/devices/edge-01/status', { version: 2, status: 'applied', metrics_port: 9100, device_type: 'jetson_orin' });
  await post(base, '/devices/pi-07/status', { version: 1, status: 'failed', error: 'plugin edge-collector-shelly is not installed', metrics_port: 9100, address: '10.0.0.7' });
  await put(base, '/devices/edge-02/tags', { tags: { ring: 'canary' } });
  await put(base, '/fleet', { labels: { site: 'hq' } });
  expect((await put(base, '/groups/canary', { selector: { tags: { ring: 'canary' } }, priority: 5, config: { interval: 3 } })).status).toBe(200);
  expect((await put(base, '/groups/old', { selector: { device_type: 'raspberrypi' }, config: { interval: 7 } })).status).toBe(200);
  expect((await request(base, '/groups/old', { method: 'DELETE' })).status).toBe(200);
  const rollout = await put(base, '/fleet', { labels: { site: 'hq', zone: 'b' }, rollout: { steps: [34, 100], wait_s: 3600, max_failed_percent: 50 } });
  expect(rollout.status).toBe(202);
}

async function everyRow(db: string): Promise<Record<string, unknown[]>> {
  const opened = openDatabase(db);
  await opened.open();
  try {
    const rows: Record<string, unknown[]> = {};
    for (const spec of FLEET_TABLES) rows[spec.table] = await tableRows(opened, spec);
    return rows;
  } finally {
    await opened.close();
  }
}

describe('copying a fleet between SQLite and PostgreSQL', () => {
  it('round-trips SQLite → PostgreSQL → SQLite exactly, and the copy serves the same fleet', async () => {
    const original = await startServer();
    await buildFleet(original.base);
    const devicesBefore = (await request(original.base, '/devices')).json();
    await original.server.close();
    const pg = await (await testPostgres()).createDatabase();
    const back = join(await tempDir(), 'back.db');

    const toPg = await copyFleet(original.dbPath, pg);
    expect(toPg).toMatchObject({ devices: 3, rollouts: 1 });
    await copyFleet(pg, back);

    const rows = await everyRow(original.dbPath);
    expect(rows.config_versions.length).toBeGreaterThan(3);
    expect(rows.layer_pins.length).toBeGreaterThan(0);
    expect(await everyRow(pg)).toEqual(rows);
    expect(await everyRow(back)).toEqual(rows);

    // The copy serves the same fleet, and its next rollout gets a new id.
    const onPg = await startServer({ dbPath: pg });
    expect((await request(onPg.base, '/devices')).json()).toEqual(devicesBefore);
    expect((await request(onPg.base, '/rollouts/1')).json()).toMatchObject({ state: 'running', layer: 'fleet' });
    await post(onPg.base, '/rollouts/1/abort', {});
    const next = await put(onPg.base, '/fleet', { labels: { site: 'hq', zone: 'c' }, rollout: { steps: [100], wait_s: 0, max_failed_percent: 0 } });
    expect([next.status, next.json().rollout.id]).toEqual([202, 2]);
  });

  it('leaves the console sessions behind: everyone signs in again on the new database', async () => {
    const original = await startServer({ adminToken: 'admin-copy-2d8e61f0b9c4' });
    await request(original.base, '/config/edge-01', { method: 'PUT', json: SAMPLE_CONFIG, token: 'admin-copy-2d8e61f0b9c4' });
    const signedIn = await request(original.base, '/ui/sign-in', { method: 'POST', body: 'token=admin-copy-2d8e61f0b9c4', headers: { 'Content-Type': 'application/x-www-form-urlencoded' } });
    const cookie = signedIn.headers['set-cookie']![0]!.split(';')[0]!;
    await original.server.close();
    const copy = join(await tempDir(), 'copy.db');
    expect(await copyFleet(original.dbPath, copy)).toMatchObject({ devices: 1 });
    const sessionCount = async (db: string) => {
      const opened = openDatabase(db);
      await opened.open();
      try {
        return (await opened.get<{ count: number }>('SELECT COUNT(*) AS count FROM sessions'))!.count;
      } finally {
        await opened.close();
      }
    };
    expect([await sessionCount(original.dbPath), await sessionCount(copy)]).toEqual([1, 0]);
    const onCopy = await startServer({ dbPath: copy, adminToken: 'admin-copy-2d8e61f0b9c4' });
    expect((await request(onCopy.base, '/ui/session', { headers: { Cookie: cookie } })).status).toBe(401);
  });

  it('is the CLI subcommand migrate, which refuses a target that already holds a fleet', async () => {
    const original = await startServer();
    await buildFleet(original.base);
    await original.server.close();
    const pg = await (await testPostgres()).createDatabase();
    const first = runCli(['migrate', '--from', original.dbPath, '--to', pg]);
    expect(await first.exited).toEqual({ code: 0, signal: null });
    expect(first.stderr()).toMatch(/^info: copied the fleet from \/.*\/config-server\.db to postgres:\/\/postgres@127\.0\.0\.1:\d+\/test_\d+: 3 devices, \d+ config_versions, /);
    const again = runCli(['migrate', '--from', original.dbPath, '--to', pg]);
    expect(await again.exited).toEqual({ code: 1, signal: null });
    expect(again.stderr()).toMatch(/^edge-metrics-config-server: the database postgres:\/\/.* already holds a fleet \(3 row\(s\) in devices\): copy into an empty one\n$/);
    const missing = runCli(['migrate', '--from', join(await tempDir(), 'nothing.db'), '--to', pg]);
    expect(await missing.exited).toEqual({ code: 1, signal: null });
    expect(missing.stderr()).toContain('there is no database file');
  });
});

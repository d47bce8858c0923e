import { createHash } from 'node:crypto';
import { openDatabase } from '../src/fleet-copy';
import { SqlStore } from '../src/store';
import type { StoredSession } from '../src/store-api';
import { cleanUp, request, SAMPLE_CONFIG, startServer, waitFor, type Reply, type RunningServer } from './helpers';

afterEach(cleanUp);

const ADMIN = 'admin-console-7d41b9e2c05a';
const EDGE_01 = 'edge01-console-3f9a6c1e8b27';
const EDGE_02 = 'edge02-console-b6e04d7a2f91';
const TOKENS = { adminToken: ADMIN, deviceTokens: { 'edge-01': EDGE_01, 'edge-02': EDGE_02 } };
const FORM = { 'Content-Type': 'application/x-www-form-urlencoded' };

async function securedServer(options: Parameters<typeof startServer>[0] = {}): Promise<RunningServer> {
  const started = await startServer({ ...TOKENS, ...options });
  for (const id of ['edge-01', 'edge-02']) await request(started.base, `/config/${id}`, { method: 'PUT', json: SAMPLE_CONFIG, token: ADMIN });
  return started;
}

function signIn(base: string, token: string, headers: Record<string, string> = {}): Promise<Reply> {
  return request(base, '/ui/sign-in', { method: 'POST', body: `token=${encodeURIComponent(token)}`, headers: { ...FORM, ...headers } });
}

/** Signs in and answers the `Cookie` header value and the session's CSRF token. */
async function session(base: string, token: string): Promise<{ cookie: string; csrf: string }> {
  const reply = await signIn(base, token);
  expect(reply.status).toBe(303);
  const cookie = reply.headers['set-cookie']![0]!.split(';')[0]!;
  const csrf = (await request(base, '/ui/session', { headers: { Cookie: cookie } })).json().csrf_token;
  return { cookie, csrf };
}

/** The sessions table, on either engine. */
async function storedSessions(dbPath: string): Promise<StoredSession[]> {
  const db = openDatabase(dbPath);
  try {
    await db.open();
    return await db.all<StoredSession>('SELECT * FROM sessions ORDER BY created_at');
  } finally {
    await db.close();
  }
}

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

describe('signing in to the console', () => {
  it('gives the admin an HttpOnly, SameSite=Strict session cookie for --session-ttl, stored by its SHA-256 only', async () => {
    const { base, dbPath } = await securedServer({ sessionTtlSeconds: 3600 });
    const before = Date.now();
    const reply = await signIn(base, ADMIN);
    expect(reply.status).toBe(303);
    expect(reply.headers.location).toBe('/ui/');
    const setCookie = reply.headers['set-cookie'];
    expect(setCookie).toHaveLength(1);
    expect(setCookie![0]).toMatch(/^ecs_session=[A-Za-z0-9_-]{43}; HttpOnly; SameSite=Strict; Path=\/; Max-Age=3600$/);
    const value = setCookie![0]!.split(';')[0]!.slice('ecs_session='.length);

    const answer = await request(base, '/ui/session', { headers: { Cookie: `theme=dark; ecs_session=${value}` } });
    expect(answer.status).toBe(200);
    expect(answer.headers['cache-control']).toBe('no-store');
    const body = answer.json();
    expect(body).toEqual({
      role: 'admin',
      device_id: null,
      csrf_token: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
      expires_at: expect.any(String),
      offline_after_s: 180,
      prometheus: false,
      grafana_url: null,
    });
    expect(Date.parse(body.expires_at)).toBeGreaterThanOrEqual(before + 3600_000);
    expect(Date.parse(body.expires_at)).toBeLessThanOrEqual(Date.now() + 3600_000);

    const [stored, ...others] = await storedSessions(dbPath);
    expect(others).toEqual([]);
    expect(stored).toMatchObject({ key: sha256(value), role: 'admin', device_id: null, csrf_token: body.csrf_token, address: '127.0.0.1' });
    expect(JSON.stringify(stored)).not.toContain(value);
    expect(JSON.stringify(stored)).not.toContain(ADMIN);
  });

  it('marks the cookie Secure when the request came over TLS through a proxy', async () => {
    const { base } = await securedServer();
    const reply = await signIn(base, ADMIN, { 'X-Forwarded-Proto': 'https' });
    expect(reply.headers['set-cookie']![0]).toMatch(/; Max-Age=43200; Secure$/);
  });

  it('refuses a wrong or missing token with 401 and the sign-in page, logging the address but never the token', async () => {
    const { base, logs, dbPath } = await securedServer();
    const wrong = 'not-the-token-<b>x</b>';
    for (const body of [`token=${encodeURIComponent(wrong)}`, 'token=', 'other=1', `token=${ADMIN.slice(0, -1)}`]) {
      const reply = await request(base, '/ui/sign-in', { method: 'POST', body, headers: FORM });
      expect([body, reply.status]).toEqual([body, 401]);
      expect(reply.headers['set-cookie']).toBeUndefined();
      expect(reply.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(reply.text).toContain('<p id="message" class="message" role="alert">that token is not valid</p>');
      expect(reply.text).not.toContain('not-the-token');
    }
    const refusals = logs.filter((line) => line.includes('console sign-in refused'));
    expect(refusals).toHaveLength(4);
    expect(refusals[0]).toMatch(/^warn: console sign-in refused from 127\.0\.0\.1: wrong token$/);
    expect(logs.join('\n')).not.toContain('not-the-token');
    expect(logs.join('\n')).not.toContain(ADMIN.slice(0, -1));
    expect(await storedSessions(dbPath)).toEqual([]);
  });

  it("gives a device token a read-only session of that device", async () => {
    const { base } = await securedServer();
    const { cookie, csrf } = await session(base, EDGE_01);
    const headers = { Cookie: cookie };
    expect((await request(base, '/ui/session', { headers })).json()).toMatchObject({ role: 'device', device_id: 'edge-01' });
    for (const path of ['/config/edge-01', '/devices/edge-01', '/config/edge-01/layer', '/config/edge-01/effective', '/config/edge-01/history']) {
      expect([path, (await request(base, path, { headers })).status]).toEqual([path, 200]);
    }
    for (const path of ['/config/edge-02', '/devices/edge-02', '/devices', '/fleet', '/groups', '/rollouts', '/sd']) {
      expect([path, (await request(base, path, { headers })).status]).toEqual([path, 403]);
    }
    const write = await request(base, '/config/edge-01', { method: 'PUT', json: { ...SAMPLE_CONFIG, interval: 7 }, headers: { ...headers, 'X-CSRF-Token': csrf } });
    expect(write.status).toBe(403);
    expect(write.json().error).toBe("a device's console session is read-only: PUT needs the admin token");
    const report = await request(base, '/devices/edge-01/status', { method: 'POST', json: { metrics_port: 9100 }, headers: { ...headers, 'X-CSRF-Token': csrf } });
    expect(report.status).toBe(403);
    expect((await request(base, '/config/edge-01', { token: ADMIN })).json().interval).toBe(SAMPLE_CONFIG.interval);
    expect((await request(base, '/devices/edge-01', { token: ADMIN })).json().metrics_port).toBeNull();
  });
});

describe('a session in place of a bearer token', () => {
  it('lets the admin session read and, with the CSRF token, write every API route', async () => {
    const { base } = await securedServer();
    const { cookie, csrf } = await session(base, ADMIN);
    expect((await request(base, '/devices', { headers: { Cookie: cookie } })).json().devices).toHaveLength(2);
    const changed = await request(base, '/fleet', { method: 'PUT', json: { interval: 5 }, headers: { Cookie: cookie, 'X-CSRF-Token': csrf } });
    expect(changed.status).toBe(200);
    expect((await request(base, '/fleet', { token: ADMIN })).json()).toMatchObject({ version: 1, config: { interval: 5 } });
  });

  it('refuses a cookie-authenticated write without the CSRF token, or with a wrong one, and stores nothing', async () => {
    const { base } = await securedServer();
    const { cookie, csrf } = await session(base, ADMIN);
    const other = await session(base, ADMIN);
    expect(other.csrf).not.toBe(csrf);
    const wrongTokens: Record<string, string>[] = [{}, { 'X-CSRF-Token': 'wrong' }, { 'X-CSRF-Token': other.csrf }, { 'X-CSRF-Token': '' }];
    for (const sent of wrongTokens) {
      for (const [method, path, json] of [
        ['PUT', '/fleet', { interval: 9 }],
        ['PUT', '/config/edge-01', { ...SAMPLE_CONFIG, interval: 9 }],
        ['DELETE', '/groups/none', undefined],
        ['POST', '/rollouts/1/abort', undefined],
      ] as const) {
        const reply = await request(base, path, { method, json, headers: { Cookie: cookie, ...sent } });
        expect([method, path, sent, reply.status]).toEqual([method, path, sent, 403]);
        expect(reply.json().error).toMatch(/^missing or wrong CSRF token/);
      }
    }
    expect((await request(base, '/fleet', { token: ADMIN })).json().version).toBe(0);
    expect((await request(base, '/config/edge-01', { token: ADMIN })).headers.etag).toBe('"1"');
  });

  it('leaves bearer requests as they were: no CSRF token, and a bearer token wins over a cookie', async () => {
    const { base } = await securedServer();
    const { cookie } = await session(base, ADMIN);
    expect((await request(base, '/fleet', { method: 'PUT', json: { interval: 4 }, token: ADMIN })).status).toBe(200);
    expect((await request(base, '/devices', { token: 'wrong', headers: { Cookie: cookie } })).status).toBe(401);
    expect((await request(base, '/devices', { token: EDGE_01, headers: { Cookie: cookie } })).status).toBe(403);
  });

  it('answers 401 to a cookie that is no session', async () => {
    const { base } = await securedServer();
    for (const cookie of ['ecs_session=', `ecs_session=${'A'.repeat(43)}`, 'ecs_session=../../etc', 'other=1']) {
      expect([cookie, (await request(base, '/devices', { headers: { Cookie: cookie } })).status]).toEqual([cookie, 401]);
      expect([cookie, (await request(base, '/ui/session', { headers: { Cookie: cookie } })).status]).toEqual([cookie, 401]);
    }
  });
});

describe('the end of a session', () => {
  it('signs out: the session is deleted, the cookie cleared, and the old cookie gets 401 or the sign-in page', async () => {
    const { base, dbPath } = await securedServer();
    const { cookie, csrf } = await session(base, ADMIN);
    const kept = await session(base, ADMIN);

    const refused = await request(base, '/ui/sign-out', { method: 'POST', body: 'csrf_token=wrong', headers: { ...FORM, Cookie: cookie } });
    expect(refused.status).toBe(403);
    expect((await request(base, '/ui/session', { headers: { Cookie: cookie } })).status).toBe(200);

    const out = await request(base, '/ui/sign-out', { method: 'POST', body: `csrf_token=${csrf}`, headers: { ...FORM, Cookie: cookie } });
    expect(out.status).toBe(303);
    expect(out.headers.location).toBe('/ui/sign-in');
    expect(out.headers['set-cookie']![0]).toBe('ecs_session=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0');
    expect((await storedSessions(dbPath)).map((stored) => stored.csrf_token)).toEqual([kept.csrf]);

    expect((await request(base, '/ui/session', { headers: { Cookie: cookie } })).status).toBe(401);
    expect((await request(base, '/devices', { headers: { Cookie: cookie } })).status).toBe(401);
    const page = await request(base, '/ui/', { headers: { Cookie: cookie, Accept: 'text/html' } });
    expect([page.status, page.headers.location]).toEqual([303, '/ui/sign-in']);
    expect((await request(base, '/ui/session', { headers: { Cookie: kept.cookie } })).status).toBe(200);
    // The header works as well as the form field.
    const byHeader = await request(base, '/ui/sign-out', { method: 'POST', headers: { Cookie: kept.cookie, 'X-CSRF-Token': kept.csrf } });
    expect(byHeader.status).toBe(303);
    expect(await storedSessions(dbPath)).toEqual([]);
  });

  it('refuses an expired session at once, and deletes it when the server sweeps (at start, then every 10 minutes)', async () => {
    const first = await securedServer({ sessionTtlSeconds: 1 });
    const { cookie } = await session(first.base, ADMIN);
    const expired = async (): Promise<boolean> => (await request(first.base, '/ui/session', { headers: { Cookie: cookie } })).status === 401;
    await waitFor(expired, 'the session to expire');
    expect((await request(first.base, '/devices', { headers: { Cookie: cookie } })).status).toBe(401);
    expect(await storedSessions(first.dbPath)).toHaveLength(1);
    await first.server.close();
    await startServer({ ...TOKENS, dir: first.dir, dbPath: first.dbPath });
    await waitFor(async () => (await storedSessions(first.dbPath)).length === 0, 'the expired session to be swept');
  });

  it('ends the sessions of a token that was changed or removed', async () => {
    const first = await securedServer();
    const admin = await session(first.base, ADMIN);
    const edge01 = await session(first.base, EDGE_01);
    const edge02 = await session(first.base, EDGE_02);
    await first.server.close();
    const second = await startServer({ dir: first.dir, dbPath: first.dbPath, adminToken: `${ADMIN}-rotated`, deviceTokens: { 'edge-01': EDGE_01 } });
    const status = async (cookie: string) => (await request(second.base, '/ui/session', { headers: { Cookie: cookie } })).status;
    expect([await status(admin.cookie), await status(edge01.cookie), await status(edge02.cookie)]).toEqual([401, 200, 401]);
  });
});

describe('sessions on several servers sharing a database', () => {
  it('are accepted by every server, and a sign-out through one ends the session on all', async () => {
    const first = await securedServer();
    const second = await startServer({ ...TOKENS, dir: first.dir, dbPath: first.dbPath });
    const { cookie, csrf } = await session(first.base, ADMIN);
    expect((await request(second.base, '/devices', { headers: { Cookie: cookie } })).status).toBe(200);
    expect((await request(second.base, '/ui/sign-out', { method: 'POST', headers: { Cookie: cookie, 'X-CSRF-Token': csrf } })).status).toBe(303);
    expect((await request(first.base, '/devices', { headers: { Cookie: cookie } })).status).toBe(401);
  });
});

describe('the session store', () => {
  it('refuses expired sessions and sweeps only those', async () => {
    const { dbPath, server } = await startServer();
    await server.close();
    const store = new SqlStore(openDatabase(dbPath));
    await store.open();
    try {
      const now = Date.now();
      const base = { role: 'admin' as const, device_id: null, csrf_token: 'c', credential: 'x', address: null, created_at: now - 10_000 };
      await store.addSession({ ...base, key: 'expired', expires_at: now - 1 });
      await store.addSession({ ...base, key: 'live', expires_at: now + 60_000, role: 'device', device_id: 'edge-01' });
      expect(await store.session('expired', now)).toBeUndefined();
      expect(await store.session('live', now)).toMatchObject({ key: 'live', role: 'device', device_id: 'edge-01', expires_at: now + 60_000 });
      expect(await store.sweepSessions(now)).toBe(1);
      expect(await store.sweepSessions(now)).toBe(0);
      expect(await store.deleteSession('live')).toBe(true);
      expect(await store.deleteSession('live')).toBe(false);
      expect(await store.session('live', now)).toBeUndefined();
    } finally {
      await store.close();
    }
  });
});

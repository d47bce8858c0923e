import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigServerError, createConfigServer } from '../src';
import { cleanUp, request, SAMPLE_CONFIG, startServer, tempDir } from './helpers';

afterEach(cleanUp);

const ADMIN = 'admin-6f1c9e0b7d2a4c58';
const EDGE_01 = 'edge01-2b8e5d1f9a7c4e36';
const EDGE_02 = 'edge02-c4a19f7e3b6d8a20';

async function securedServer() {
  const started = await startServer({ adminToken: ADMIN, deviceTokens: { 'edge-01': EDGE_01, 'edge-02': EDGE_02 } });
  for (const id of ['edge-01', 'edge-02']) {
    await request(started.base, `/config/${id}`, { method: 'PUT', json: SAMPLE_CONFIG, token: ADMIN });
  }
  return started;
}

describe('with tokens configured', () => {
  it.each([
    ['no token', undefined, 'no bearer token'],
    ['a wrong token', 'not-a-token', 'wrong token'],
    ['a token that is a prefix of the admin token', ADMIN.slice(0, -1), 'wrong token'],
  ])('answers 401 to %s on every route but /healthz', async (_name, token, reason) => {
    const { base } = await securedServer();
    for (const [method, path] of [
      ['GET', '/config/edge-01'],
      ['PUT', '/config/edge-01'],
      ['GET', '/config/edge-01/history'],
      ['GET', '/devices'],
      ['POST', '/devices/edge-01/status'],
      ['GET', '/sd'],
      ['GET', '/metrics'],
    ]) {
      const reply = await request(base, path, { method, token, json: method === 'GET' ? undefined : SAMPLE_CONFIG });
      expect([path, reply.status]).toEqual([path, 401]);
      expect(reply.headers['www-authenticate']).toBe('Bearer realm="edge-metrics-config-server"');
      expect(reply.json().error).toContain(reason);
    }
    expect((await request(base, '/healthz')).status).toBe(200);
    expect((await request(base, '/config/edge-01', { token: ADMIN })).json()).toEqual(SAMPLE_CONFIG);
  });

  it('lets the admin token do everything', async () => {
    const { base } = await securedServer();
    for (const path of ['/config/edge-02', '/config/edge-02/history', '/devices', '/devices/edge-01', '/sd', '/metrics']) {
      expect([path, (await request(base, path, { token: ADMIN })).status]).toEqual([path, 200]);
    }
    const put = await request(base, '/config/edge-02', { method: 'PUT', json: { ...SAMPLE_CONFIG, interval: 2 }, token: ADMIN });
    expect(put.status).toBe(200);
  });

  it('lets a device token read and write only its own device, as source device', async () => {
    const { base } = await securedServer();
    const own = await request(base, '/config/edge-01', { token: EDGE_01 });
    expect(own.status).toBe(200);
    const put = await request(base, '/config/edge-01', { method: 'PUT', json: { ...SAMPLE_CONFIG, interval: 3 }, token: EDGE_01 });
    expect(put.status).toBe(200);
    const reported = await request(base, '/devices/edge-01/status', { method: 'POST', json: { metrics_port: 9100 }, token: EDGE_01 });
    expect(reported.status).toBe(200);
    expect((await request(base, '/config/edge-01/history', { token: EDGE_01 })).json().versions[0].source).toBe('device');

    const device = (await request(base, '/devices/edge-01', { token: ADMIN })).json();
    expect(device).toMatchObject({ source: 'device', address: '127.0.0.1', target: '127.0.0.1:9100' });
    expect(device.last_seen).not.toBeNull();
  });

  it('answers 403 to a device token on another device or on the fleet-wide routes', async () => {
    const { base } = await securedServer();
    for (const [method, path] of [
      ['GET', '/config/edge-02'],
      ['PUT', '/config/edge-02'],
      ['GET', '/config/edge-02/history'],
      ['GET', '/devices/edge-02'],
      ['POST', '/devices/edge-02/status'],
      ['GET', '/config/edge-03'],
      ['GET', '/devices'],
      ['GET', '/sd'],
      ['GET', '/metrics'],
    ]) {
      const reply = await request(base, path, { method, token: EDGE_01, json: method === 'GET' ? undefined : SAMPLE_CONFIG });
      expect([method, path, reply.status]).toEqual([method, path, 403]);
    }
    expect((await request(base, '/config/edge-02', { token: ADMIN })).json()).toEqual(SAMPLE_CONFIG);
  });

  it('does not let a device token claim to be the admin', async () => {
    const { base } = await securedServer();
    const reply = await request(base, '/config/edge-01', {
      method: 'PUT',
      json: { ...SAMPLE_CONFIG, interval: 4 },
      token: EDGE_01,
      headers: { 'X-Config-Source': 'admin' },
    });
    expect(reply.status).toBe(403);
    const bogus = await request(base, '/config/edge-01', { token: ADMIN, headers: { 'X-Config-Source': 'robot' } });
    expect(bogus.status).toBe(400);
  });

  it('never writes a token to the log', async () => {
    const { base, logs } = await securedServer();
    await request(base, '/config/edge-01', { token: 'guess-' + ADMIN });
    await request(base, '/config/edge-02', { token: EDGE_01 });
    await request(base, '/config/edge-01', { method: 'PUT', json: { interval: -1 }, token: EDGE_01 });
    expect(logs.some((line) => line.includes('refused GET /config/edge-01 from 127.0.0.1: wrong token'))).toBe(true);
    for (const token of [ADMIN, EDGE_01, EDGE_02]) {
      expect(logs.filter((line) => line.includes(token))).toEqual([]);
    }
    expect(logs.filter((line) => line.includes('the server is open'))).toEqual([]);
  });
});

describe('without tokens', () => {
  it('serves everyone as admin and warns at start that it is open', async () => {
    const { base, logs } = await startServer();
    expect(logs).toContain(
      'warn: no token is configured: the server is open, anyone who can reach it can read and change every config',
    );
    expect((await request(base, '/config/edge-01', { method: 'PUT', json: SAMPLE_CONFIG })).status).toBe(201);
    expect((await request(base, '/devices')).status).toBe(200);
  });
});

describe('token settings', () => {
  it.each([
    ['an empty admin token', { adminToken: '' }, 'the admin token is empty'],
    ['device tokens without an admin token', { deviceTokens: { 'edge-01': EDGE_01 } }, 'no admin token'],
    ['a device token equal to the admin token', { adminToken: ADMIN, deviceTokens: { 'edge-01': ADMIN } }, 'is the admin token'],
    ['two devices with one token', { adminToken: ADMIN, deviceTokens: { 'edge-01': EDGE_01, 'edge-02': EDGE_01 } }, 'the same token'],
  ])('refuses %s', async (_name, tokens, message) => {
    const dbPath = join(await tempDir(), 'never-created.db');
    let thrown: unknown;
    try {
      createConfigServer({ dbPath, ...tokens });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ConfigServerError);
    expect((thrown as ConfigServerError).code).toBe('ECS_TOKENS_INVALID');
    expect((thrown as Error).message).toContain(message);
    expect((thrown as Error).message).not.toContain(ADMIN);
    expect((thrown as Error).message).not.toContain(EDGE_01);
    expect(existsSync(dbPath)).toBe(false);
  });
});

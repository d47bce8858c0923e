import fc from 'fast-check';
import { cleanUp, request, SAMPLE_CONFIG, startServer, type RunningServer } from './helpers';

/**
 * The config server answering generated requests (any method, path, headers, query and body): never a 5xx,
 * never a dropped connection, every stored history still whole, and the server still up.
 */

afterAll(cleanUp);

const ADMIN = 'admin-3c9e1a7f5b2d8046';
const DEVICE = 'dev-8a2f6c4e1b9d7035';

const deviceId = fc.oneof(
  fc.constantFrom('edge-01', 'edge-02', 'EDGE-01', 'edge-01.', '.', '..', '...', '%2e%2e', 'edge-01%2F..%2Fedge-02', 'a%00b', '%0Aerror', 'x'.repeat(65), '', '%', '%zz', 'edge-01;x', 'éé'),
  fc.stringMatching(/^[A-Za-z0-9._-]{1,70}$/),
  fc.string({ maxLength: 10 }).map(encodeURIComponent),
);
const route = fc.oneof(
  deviceId.map((id) => `/config/${id}`),
  deviceId.map((id) => `/config/${id}/history`),
  deviceId.map((id) => `/devices/${id}`),
  deviceId.map((id) => `/devices/${id}/status`),
  fc.constantFrom('/devices', '/sd', '/metrics', '/healthz', '/', '/config', '/config/', '//config/edge-01', '/config/edge-01/../edge-02', '/config/edge-01/history/x', '*'),
  fc.array(fc.webSegment(), { minLength: 1, maxLength: 4 }).map((parts) => `/${parts.join('/')}`),
);
const query = fc.oneof(
  fc.constant(''),
  fc.constantFrom('?wait=0.05', '?wait=-1', '?wait=abc', '?wait=1e400', '?wait=', '?wait=0.05&wait=1', '?limit=0', '?limit=1', '?limit=1001', '?limit=2.5', '?limit=', '?limit[a]=1', '?wait[]=1'),
  fc.webQueryParameters().map((text) => `?${text}`),
);
const printable = fc.stringMatching(/^[\x20-\x7e]{0,40}$/);
const headers = fc.record(
  {
    'Content-Type': fc.oneof(fc.constantFrom('application/json', 'application/yaml', 'text/yaml', 'application/x-yaml', 'application/merge-patch+json', 'text/plain', 'application/json; charset=latin1', 'application/json; charset=utf-16'), printable),
    Accept: fc.oneof(fc.constantFrom('application/json', 'application/yaml', 'text/html', '*/*', 'application/yaml;q=0'), printable),
    'If-Match': fc.oneof(fc.constantFrom('"1"', 'W/"1"', '*', '"1", "2"', '1', '""'), printable),
    'If-None-Match': fc.oneof(fc.constantFrom('"1"', '"2"', '*', 'W/"1"', 'nope'), printable),
    'X-Config-Source': fc.oneof(fc.constantFrom('device', 'admin', 'ADMIN', ''), printable),
    'Content-Encoding': fc.constantFrom('gzip', 'identity', 'x-bogus'),
  },
  { requiredKeys: [] },
);
const yamlText = fc
  .array(fc.oneof(fc.constantFrom('device_type: ', 'interval: ', 'metrics:\n  ', '&a ', '*a', '<<: ', '- ', '"', '\n', '{', '}', '[', ']', ': ', '!!binary ', '? '), fc.string({ maxLength: 6 })), { maxLength: 20 })
  .map((parts) => parts.join(''));
const body = fc.oneof(
  fc.constant(undefined),
  fc.jsonValue().map((value) => JSON.stringify(value) ?? 'null'),
  fc.record({ device_type: fc.string({ maxLength: 10 }), interval: fc.jsonValue({ maxDepth: 1 }), metrics: fc.jsonValue({ maxDepth: 2 }) }, { requiredKeys: [] }).map((value) => JSON.stringify(value)),
  fc.constant(JSON.stringify(SAMPLE_CONFIG)),
  fc.record({ version: fc.jsonValue({ maxDepth: 0 }), status: fc.constantFrom('applied', 'failed', 'x'), error: fc.string(), metrics_port: fc.jsonValue({ maxDepth: 0 }), address: fc.string({ maxLength: 20 }) }, { requiredKeys: [] }).map((value) => JSON.stringify(value)),
  yamlText,
  fc.string({ unit: 'binary', maxLength: 100 }),
  // Nesting deep enough to exhaust a recursive walk, well within the size limit.
  fc.integer({ min: 1, max: 60 }).map((depth) => `{"device_type": "x", "options": {"a": ${'['.repeat(depth * 1000)}${']'.repeat(depth * 1000)}}}`),
  fc.integer({ min: 1, max: 20 }).map((depth) => `device_type: x\noptions:\n  a: ${'['.repeat(depth * 1000)}${']'.repeat(depth * 1000)}\n`),
);
const method = fc.constantFrom('GET', 'HEAD', 'PUT', 'POST', 'DELETE', 'PATCH', 'OPTIONS', 'TRACE', 'PROPFIND', 'PURGE');

async function fuzz(server: RunningServer, tokens: Array<string | undefined>, runs: number): Promise<Map<number, number>> {
  const statuses = new Map<number, number>();
  await fc.assert(
    fc.asyncProperty(method, route, query, headers, body, fc.constantFrom(...tokens), async (verb, path, search, sent, payload, token) => {
      const reply = await request(server.base, `${path}${search}`, { method: verb, headers: sent, body: payload, token });
      statuses.set(reply.status, (statuses.get(reply.status) ?? 0) + 1);
      expect([path, search, reply.status, reply.text.slice(0, 200)]).toEqual([path, search, expect.any(Number), expect.any(String)]);
      expect(reply.status).toBeGreaterThanOrEqual(200);
      expect(reply.status).toBeLessThan(500);
    }),
    { numRuns: runs },
  );
  return statuses;
}

/** Every device's history is versions n, n-1, ..., 1 with configs that parse. */
async function expectWholeHistories(server: RunningServer): Promise<void> {
  const { devices } = (await request(server.base, '/devices', { token: ADMIN })).json() as { devices: Array<{ device_id: string; version: number }> };
  for (const device of devices) {
    const history = await request(server.base, `/config/${device.device_id}/history?limit=1000`, { token: ADMIN });
    const versions = (history.json() as { versions: Array<{ version: number }> }).versions.map((entry) => entry.version);
    expect(versions).toEqual(Array.from({ length: device.version }, (_, i) => device.version - i));
  }
  expect((await request(server.base, '/healthz')).status).toBe(200);
}

describe('the config server on generated requests', () => {
  test('open (no token): 1500 requests, never a 5xx; every history whole afterwards', async () => {
    const server = await startServer({ maxWaitSeconds: 0.05 });
    await request(server.base, '/config/edge-01', { method: 'PUT', json: SAMPLE_CONFIG });
    const statuses = await fuzz(server, [undefined], 1500);
    // The requests reached every kind of refusal: bad request, no route, wrong method, wrong media type.
    expect([...statuses.keys()]).toEqual(expect.arrayContaining([400, 404, 405, 415]));
    await expectWholeHistories(server);
    expect(server.logs.filter((line) => line.startsWith('error:'))).toEqual([]);
  });

  test('with tokens: 1000 requests with the admin, a device, a wrong or no token, never a 5xx; every history whole afterwards', async () => {
    const server = await startServer({ maxWaitSeconds: 0.05, adminToken: ADMIN, deviceTokens: { 'edge-01': DEVICE } });
    await request(server.base, '/config/edge-01', { method: 'PUT', json: SAMPLE_CONFIG, token: ADMIN });
    await request(server.base, '/config/edge-02', { method: 'PUT', json: SAMPLE_CONFIG, token: ADMIN });
    const statuses = await fuzz(server, [ADMIN, DEVICE, undefined, 'wrong', `${ADMIN}x`], 1000);
    expect([...statuses.keys()]).toEqual(expect.arrayContaining([400, 401, 403, 404]));
    await expectWholeHistories(server);
    expect(server.logs.filter((line) => line.startsWith('error:'))).toEqual([]);
  });
});

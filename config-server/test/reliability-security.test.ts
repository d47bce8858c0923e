import fc from 'fast-check';
import { cleanUp, request, SAMPLE_CONFIG, startServer } from './helpers';

/**
 * Attacks on the config server: a device token reaching another device through path tricks, a client forging
 * lines of the server's log, tokens leaking into the log or /metrics.
 */

afterEach(cleanUp);

const ADMIN = 'admin-91d4e7b3a6c2f058';
const EDGE_01 = 'edge01-4f8a2c6e0b9d1735';
const EDGE_02 = 'edge02-7b3e9d1f5a8c2460';
/** A value only edge-02's config holds: no answer to edge-01's token may contain it. */
const SECRET_OF_02 = 'only-edge-02-knows-this';

async function fleet() {
  const started = await startServer({ adminToken: ADMIN, deviceTokens: { 'edge-01': EDGE_01, 'edge-02': EDGE_02 }, maxWaitSeconds: 0.05 });
  await request(started.base, '/config/edge-01', { method: 'PUT', json: SAMPLE_CONFIG, token: ADMIN });
  await request(started.base, '/config/edge-02', { method: 'PUT', json: { ...SAMPLE_CONFIG, labels: { owner: SECRET_OF_02 } }, token: ADMIN });
  await request(started.base, '/devices/edge-02/status', { method: 'POST', json: { metrics_port: 9100, address: '10.0.0.2' }, token: EDGE_02 });
  return started;
}

describe('a device token', () => {
  test("reaches no other device's config, history or status through 600 generated paths, and changes nothing there", async () => {
    const { base } = await fleet();
    const other = fc.constantFrom(
      'edge-02', 'edge-01/../edge-02', 'edge-01%2F..%2Fedge-02', 'edge-01/%2e%2e/edge-02', '..%2Fedge-02', '%65dge-02', 'EDGE-02', 'edge-02%00',
      'edge-02.', 'edge-02/', './edge-02', 'edge-01%2Fedge-02', 'edge-01;edge-02', 'edge-01?edge-02', 'edge-01#/edge-02', 'edge-02%20', '%2e%2e', '.', '..',
    );
    const path = fc.oneof(
      fc.tuple(fc.constantFrom('/config/', '/devices/', '//config/', '/config//', '/CONFIG/', '/config/edge-01/../'), other, fc.constantFrom('', '/history', '/status', '/history?limit=1000', '?wait=0.05', '/')).map((parts) => parts.join('')),
      fc.constantFrom('/devices', '/sd', '/metrics', '/devices?device_id=edge-02', '/config/edge-01/history/../../edge-02/history'),
    );
    const method = fc.constantFrom('GET', 'HEAD', 'PUT', 'POST', 'PATCH');
    const source = fc.constantFrom(undefined, 'device', 'admin');
    await fc.assert(
      fc.asyncProperty(path, method, source, async (target, verb, configSource) => {
        const headers: Record<string, string> = configSource ? { 'X-Config-Source': configSource } : {};
        const json = verb === 'POST' ? { metrics_port: 1, address: '192.0.2.66' } : verb === 'PUT' || verb === 'PATCH' ? { ...SAMPLE_CONFIG, interval: 66 } : undefined;
        const reply = await request(base, target, { method: verb, token: EDGE_01, headers, json });
        if (/^\/(config|devices)\/edge-02([/?#]|$)|^\/(devices|sd|metrics)([?#]|$)/i.test(target)) expect([target, reply.status >= 400]).toEqual([target, true]);
        expect(reply.text).not.toContain(SECRET_OF_02);
        expect(reply.text).not.toContain('10.0.0.2');
      }),
      { numRuns: 600 },
    );
    const history = (await request(base, '/config/edge-02/history', { token: ADMIN })).json() as { versions: Array<{ version: number }> };
    expect(history.versions.map((entry) => entry.version)).toEqual([1]);
    const device = (await request(base, '/devices/edge-02', { token: ADMIN })).json() as { target: string };
    expect(device.target).toBe('10.0.0.2:9100');
  });
});

describe('the log', () => {
  const lineBreaks = fc.constantFrom('\n', '\r', '\r\n', '\u2028', '\u2029', '\u0085', '\u001b[2K\r');
  const forged = fc.tuple(fc.string({ maxLength: 10 }), lineBreaks, fc.constantFrom('error: database corrupted', 'info: edge-02: stored version 9 (source admin, from 10.0.0.1)')).map((parts) => parts.join(''));

  test('takes no line breaks from a client: a failure report or a config key cannot forge a log line', async () => {
    const { base, logs } = await fleet();
    await fc.assert(
      fc.asyncProperty(forged, fc.boolean(), async (text, asReport) => {
        const before = logs.length;
        if (asReport) {
          const reply = await request(base, '/devices/edge-01/status', { method: 'POST', json: { version: 1, status: 'failed', error: text }, token: EDGE_01 });
          expect(reply.status).toBe(200);
        } else {
          const reply = await request(base, '/config/edge-01', { method: 'PUT', json: { ...SAMPLE_CONFIG, metrics: { [text]: true } }, token: EDGE_01 });
          expect(reply.status).toBe(400);
        }
        const written = logs.slice(before);
        expect(written).toHaveLength(1);
        expect(written[0]).not.toMatch(/[\n\r\u2028\u2029\u0085\u001b]/);
      }),
      { numRuns: 200 },
    );
  });

  test('holds no token, configured or presented, and neither does /metrics', async () => {
    const { base, logs } = await fleet();
    const presented = fc.oneof(fc.constantFrom(`${ADMIN}x`, ADMIN.slice(0, -1), EDGE_01.toUpperCase(), `${EDGE_02} extra`), fc.stringMatching(/^[A-Za-z0-9-]{8,30}$/));
    const tried = new Set<string>();
    await fc.assert(
      fc.asyncProperty(presented, fc.constantFrom('/config/edge-01', '/devices', '/sd', '/metrics', '/config/edge-02/history'), async (token, path) => {
        tried.add(token);
        expect((await request(base, path, { token })).status).toBe(401);
      }),
      { numRuns: 200 },
    );
    const metrics = (await request(base, '/metrics', { token: ADMIN })).text;
    for (const secret of [ADMIN, EDGE_01, EDGE_02, ...tried]) {
      expect(logs.filter((line) => line.includes(secret))).toEqual([]);
      expect(metrics).not.toContain(secret);
    }
  });
});

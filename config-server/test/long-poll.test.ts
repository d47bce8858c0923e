import { get as httpGet } from 'node:http';
import { ChangeNotifier } from '../src/change-notifier';
import { cleanUp, metricValue, request, SAMPLE_CONFIG, startServer, waitFor } from './helpers';

afterEach(cleanUp);

async function heldLongPolls(base: string, count: number): Promise<void> {
  await waitFor(async () => (await metricValue(base, 'config_server_long_polls')) === count, `${count} held long-poll(s)`);
}

describe('long-poll GET /config/{device_id}?wait=N', () => {
  it('is woken at once by a PUT and answers with the new version', async () => {
    const { base } = await startServer();
    await request(base, '/config/edge-01', { method: 'PUT', json: SAMPLE_CONFIG });

    const poll = request(base, '/config/edge-01?wait=30', { headers: { 'If-None-Match': '"1"' } });
    await heldLongPolls(base, 1);
    const putSentAt = performance.now();
    const put = await request(base, '/config/edge-01', { method: 'PUT', json: { ...SAMPLE_CONFIG, interval: 2 } });
    const woken = await poll;
    const wokenAfterMs = performance.now() - putSentAt;
    console.log(`long-poll answered ${wokenAfterMs.toFixed(1)} ms after the PUT was sent`);

    expect(put.status).toBe(200);
    expect(woken.status).toBe(200);
    expect(woken.headers.etag).toBe('"2"');
    expect(woken.json().interval).toBe(2);
    expect(await metricValue(base, 'config_server_long_polls')).toBe(0);
  });

  it("sees the device again when its long-poll ends, so that a device holding polls stays online", async () => {
    const { base } = await startServer();
    await request(base, '/config/edge-01', { method: 'PUT', json: SAMPLE_CONFIG });
    const poll = request(base, '/config/edge-01?wait=1', { headers: { 'If-None-Match': '"1"', 'X-Config-Source': 'device' } });
    await heldLongPolls(base, 1);
    const seenAtStart = (await request(base, '/devices/edge-01')).json().last_seen;
    expect(seenAtStart).toEqual(expect.any(String));
    expect((await poll).status).toBe(304);
    const seenAtEnd = (await request(base, '/devices/edge-01')).json().last_seen;
    expect(Date.parse(seenAtEnd)).toBeGreaterThan(Date.parse(seenAtStart));
  });

  it('answers 304 when the time is up without a change', async () => {
    const { base } = await startServer();
    await request(base, '/config/edge-01', { method: 'PUT', json: SAMPLE_CONFIG });
    const reply = await request(base, '/config/edge-01?wait=0.3', { headers: { 'If-None-Match': '"1"' } });
    expect(reply.status).toBe(304);
    expect(reply.headers.etag).toBe('"1"');
  });

  it('is not woken by a change to another device, nor by a PUT of the same config', async () => {
    const { base } = await startServer();
    await request(base, '/config/edge-01', { method: 'PUT', json: SAMPLE_CONFIG });
    await request(base, '/config/edge-02', { method: 'PUT', json: SAMPLE_CONFIG });
    const poll = request(base, '/config/edge-01?wait=1', { headers: { 'If-None-Match': '"1"' } });
    await heldLongPolls(base, 1);
    await request(base, '/config/edge-02', { method: 'PUT', json: { ...SAMPLE_CONFIG, interval: 2 } });
    await request(base, '/config/edge-01', { method: 'PUT', json: SAMPLE_CONFIG });
    expect((await poll).status).toBe(304);
  });

  it('answers at once when the client does not have the current version', async () => {
    const { base } = await startServer();
    await request(base, '/config/edge-01', { method: 'PUT', json: SAMPLE_CONFIG });
    await request(base, '/config/edge-01', { method: 'PUT', json: { ...SAMPLE_CONFIG, interval: 2 } });
    // A wait far beyond jest's test timeout: the test only passes if the server does not hold these.
    const stale = await request(base, '/config/edge-01?wait=60', { headers: { 'If-None-Match': '"1"' } });
    expect(stale.status).toBe(200);
    expect(stale.headers.etag).toBe('"2"');
    const first = await request(base, '/config/edge-01?wait=60');
    expect(first.status).toBe(200);
    expect((await request(base, '/config/nobody?wait=60')).status).toBe(404);
  });

  it('wakes every poll of the device', async () => {
    const { base } = await startServer();
    await request(base, '/config/edge-01', { method: 'PUT', json: SAMPLE_CONFIG });
    const polls = [1, 2, 3].map(() => request(base, '/config/edge-01?wait=30', { headers: { 'If-None-Match': '"1"' } }));
    await heldLongPolls(base, 3);
    await request(base, '/config/edge-01', { method: 'PUT', json: { ...SAMPLE_CONFIG, interval: 2 } });
    const replies = await Promise.all(polls);
    expect(replies.map((r) => r.headers.etag)).toEqual(['"2"', '"2"', '"2"']);
  });

  it('caps the wait at the configured maximum', async () => {
    const { base } = await startServer({ maxWaitSeconds: 0.2 });
    await request(base, '/config/edge-01', { method: 'PUT', json: SAMPLE_CONFIG });
    // Without the cap this would be held for 600 s, far beyond jest's test timeout.
    const reply = await request(base, '/config/edge-01?wait=600', { headers: { 'If-None-Match': '"1"' } });
    expect(reply.status).toBe(304);
  });

  it('refuses a wait that is not a number of seconds', async () => {
    const { base } = await startServer();
    await request(base, '/config/edge-01', { method: 'PUT', json: SAMPLE_CONFIG });
    for (const wait of ['abc', '-1', '']) {
      const reply = await request(base, `/config/edge-01?wait=${wait}`);
      expect(reply.status).toBe(400);
      expect(reply.json().error).toContain('wait must be a number of seconds from 0 to 60');
    }
  });

  it('answers held polls with 304 and Connection: close when the server closes', async () => {
    const { base, server } = await startServer();
    await request(base, '/config/edge-01', { method: 'PUT', json: SAMPLE_CONFIG });
    const poll = request(base, '/config/edge-01?wait=60', { headers: { 'If-None-Match': '"1"' } });
    await heldLongPolls(base, 1);
    await server.close();
    const reply = await poll;
    expect(reply.status).toBe(304);
    expect(reply.headers.connection).toBe('close');
    expect(server.server.listening).toBe(false);
  });

  it('forgets a poll whose client went away', async () => {
    const { base } = await startServer();
    await request(base, '/config/edge-01', { method: 'PUT', json: SAMPLE_CONFIG });
    const { port } = new URL(base);
    const abandoned = httpGet({ host: '127.0.0.1', port, path: '/config/edge-01?wait=60', headers: { 'If-None-Match': '"1"' } });
    abandoned.on('error', () => undefined); // the reset that destroy() causes
    await heldLongPolls(base, 1);
    abandoned.destroy();
    await heldLongPolls(base, 0);
  });
});

describe('ChangeNotifier', () => {
  it('answers a wait at once when the device changed after the caller read the store, before it began to wait', async () => {
    const notifier = new ChangeNotifier();
    const seen = notifier.generation('edge-01');
    // The store is read here, asynchronously; meanwhile another request stores a new version.
    notifier.notify('edge-01');
    const signal = new AbortController().signal;
    expect(await notifier.wait('edge-01', 60_000, signal, seen)).toBe('changed');
    expect(await notifier.wait('edge-02', 10, signal, notifier.generation('edge-02'))).toBe('timeout');
    expect(notifier.size).toBe(0);
  });
});

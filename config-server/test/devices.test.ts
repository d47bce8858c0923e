import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cleanUp, metricValue, request, SAMPLE_CONFIG, startServer, waitFor } from './helpers';
import { httpSdProblems } from './prometheus-http-sd';

afterEach(cleanUp);

const FIXTURES = join(__dirname, 'fixtures', 'prometheus-http-sd');
const JSON_TYPE = 'application/json; charset=utf-8';

async function registered(...deviceIds: string[]) {
  const started = await startServer();
  for (const id of deviceIds) await request(started.base, `/config/${id}`, { method: 'PUT', json: SAMPLE_CONFIG });
  return started;
}

function report(base: string, deviceId: string, body: unknown) {
  return request(base, `/devices/${deviceId}/status`, { method: 'POST', json: body });
}

describe('the Prometheus HTTP SD check', () => {
  it.each(['docs-example.json', 'http_sd.good.json'])('accepts Prometheus’ own example %s', (file) => {
    expect(httpSdProblems(200, JSON_TYPE, readFileSync(join(FIXTURES, file)))).toEqual([]);
  });

  it.each([
    ['a non-200 status', 500, JSON_TYPE, '[]', 'status 500'],
    ['text/plain', 200, 'text/plain; charset=utf-8', '[]', 'Content-Type'],
    ['an object instead of a list', 200, JSON_TYPE, '{"targets":[]}', 'not a JSON list'],
    ['an unknown field', 200, JSON_TYPE, '[{"targets":["a:1"],"target":"a:1"}]', 'unknown field target'],
    ['a number as target', 200, JSON_TYPE, '[{"targets":[9100]}]', 'not a list of strings'],
    ['a dash in a label name', 200, JSON_TYPE, '[{"targets":["a:1"],"labels":{"device-id":"x"}}]', 'not a label name'],
    ['a number as label value', 200, JSON_TYPE, '[{"targets":["a:1"],"labels":{"port":1}}]', 'not a string'],
  ])('refuses %s', (_name, status, contentType, body, problem) => {
    expect(httpSdProblems(status, contentType, Buffer.from(body)).join('; ')).toContain(problem);
  });
});

describe('device status reports', () => {
  it('keep the last received and the last applied version apart', async () => {
    const { base, logs } = await registered('edge-01');
    const applied = await report(base, 'edge-01', { version: 1, status: 'applied', metrics_port: 9100, device_type: 'jetson_orin' });
    expect(applied.status).toBe(200);
    expect(applied.json().apply).toMatchObject({ received_version: 1, applied_version: 1, status: 'applied', error: null });

    await request(base, '/config/edge-01', { method: 'PUT', json: { ...SAMPLE_CONFIG, collectors: [{ type: 'shelly' }] } });
    const failed = await report(base, 'edge-01', {
      version: 2,
      status: 'failed',
      error: "plugin edge-collector-shelly is not installed",
    });
    expect(failed.json().apply).toMatchObject({
      received_version: 2,
      applied_version: 1,
      status: 'failed',
      error: 'plugin edge-collector-shelly is not installed',
    });
    expect(logs).toContain('warn: edge-01: failed to apply version 2: plugin edge-collector-shelly is not installed');

    const history = (await request(base, '/config/edge-01/history')).json();
    expect(history.versions.map((v: { apply_status: string }) => v.apply_status)).toEqual(['failed', 'applied']);
    expect(await metricValue(base, 'config_server_devices_apply_failed')).toBe(1);

    const device = (await request(base, '/devices/edge-01')).json();
    expect(device).toEqual(failed.json());
  });

  it('are refused for an unknown device (404), an unknown version (409) and malformed fields (400)', async () => {
    const { base } = await registered('edge-01');
    expect((await report(base, 'nobody', { metrics_port: 9100 })).status).toBe(404);

    const future = await report(base, 'edge-01', { version: 7, status: 'applied' });
    expect(future.status).toBe(409);
    expect(future.json().current_version).toBe(1);

    const malformed = await report(base, 'edge-01', { version: 0, status: 'done', metrics_port: 70000, port: 1 });
    expect(malformed.status).toBe(400);
    expect(malformed.json().problems).toEqual([
      "unknown key 'port'",
      'version: must be a positive integer',
      'status: must be "applied" or "failed"',
      'metrics_port: must be an integer from 1 to 65535',
    ]);

    const yaml = await request(base, '/devices/edge-01/status', {
      method: 'POST',
      body: 'metrics_port: 9100',
      headers: { 'Content-Type': 'application/yaml' },
    });
    expect(yaml.status).toBe(415);
    expect((await request(base, '/devices/edge-01')).json().target).toBeNull();
  });
});

describe('GET /devices', () => {
  it('shows version, source of the last change, last seen and address, device type and apply status', async () => {
    const { base } = await registered('edge-02', 'edge-01');
    await request(base, '/config/edge-02', { method: 'PUT', json: { ...SAMPLE_CONFIG, interval: 5 }, headers: { 'X-Config-Source': 'device' } });
    // An operator's read does not count as the device being seen; the device's own does.
    await request(base, '/config/edge-01');
    const beforeSeen = (await request(base, '/devices')).json().devices;
    expect(beforeSeen[0]).toMatchObject({ device_id: 'edge-01', last_seen: null, address: null });
    await request(base, '/config/edge-01', { headers: { 'X-Config-Source': 'device' } });

    const { devices } = (await request(base, '/devices')).json();
    expect(devices).toEqual([
      {
        device_id: 'edge-01',
        version: 1,
        updated_at: expect.any(String),
        source: 'admin',
        last_seen: expect.any(String),
        address: '127.0.0.1',
        device_type: null,
        metrics_port: null,
        target: null,
        apply: null,
        tags: {},
        groups: [],
        online: true,
      },
      expect.objectContaining({ device_id: 'edge-02', version: 2, source: 'device', last_seen: null, online: false }),
    ]);
    expect(Date.parse(devices[0].last_seen)).toBeGreaterThanOrEqual(Date.parse(devices[0].updated_at));
  });
});

describe('GET /sd', () => {
  it('answers [] while no device has reported', async () => {
    const { base } = await registered('edge-01');
    const reply = await request(base, '/sd');
    expect(httpSdProblems(reply.status, reply.headers['content-type'], Buffer.from(reply.text))).toEqual([]);
    expect(reply.json()).toEqual([]);
  });

  it('lists each reporting device as a target group Prometheus accepts, leaving out the others', async () => {
    const { base } = await registered('edge-01', 'edge-02', 'pi-3', 'silent');
    await report(base, 'edge-01', { metrics_port: 9100, device_type: 'jetson_orin' });
    await report(base, 'edge-02', { metrics_port: 9200, device_type: 'jetson_xavier', address: '10.0.10.2' });
    await report(base, 'pi-3', { metrics_port: 9100, address: 'fd00::3' });

    const reply = await request(base, '/sd');
    expect(httpSdProblems(reply.status, reply.headers['content-type'], Buffer.from(reply.text))).toEqual([]);
    expect(reply.json()).toEqual([
      { targets: ['127.0.0.1:9100'], labels: { device_id: 'edge-01', device_type: 'jetson_orin' } },
      { targets: ['10.0.10.2:9200'], labels: { device_id: 'edge-02', device_type: 'jetson_xavier' } },
      { targets: ['[fd00::3]:9100'], labels: { device_id: 'pi-3' } },
    ]);
  });
});

describe('tags, groups and online in the device summaries', () => {
  it('shows the tags and the groups that select each device now', async () => {
    const { base } = await registered('edge-01', 'pi-07');
    await report(base, 'pi-07', { device_type: 'raspberrypi' });
    await request(base, '/devices/edge-01/tags', { method: 'PUT', json: { tags: { ring: 'canary', site: 'hq' } } });
    await request(base, '/groups/canary', { method: 'PUT', json: { selector: { tags: { ring: 'canary' } }, priority: 20, config: { interval: 1 } } });
    await request(base, '/groups/pis', { method: 'PUT', json: { selector: { device_type: 'raspberrypi' }, config: {} } });
    // Selected by the device_type of its own layer until it reports one.
    await request(base, '/groups/orins', { method: 'PUT', json: { selector: { device_type: 'jetson_orin' }, priority: 5, config: {} } });

    const { devices } = (await request(base, '/devices')).json();
    expect(devices.map(({ device_id, tags, groups }: { device_id: string; tags: unknown; groups: string[] }) => ({ device_id, tags, groups }))).toEqual([
      { device_id: 'edge-01', tags: { ring: 'canary', site: 'hq' }, groups: ['orins', 'canary'] },
      { device_id: 'pi-07', tags: {}, groups: ['pis'] },
    ]);
    expect((await request(base, '/devices/edge-01')).json()).toMatchObject({ tags: { ring: 'canary', site: 'hq' }, groups: ['orins', 'canary'] });
    await request(base, '/groups/canary', { method: 'DELETE' });
    expect((await request(base, '/devices/edge-01')).json().groups).toEqual(['orins']);
  });

  it('calls a device online while it was seen within --offline-after seconds', async () => {
    const { base } = await startServer({ offlineAfterSeconds: 1 });
    await request(base, '/config/edge-01', { method: 'PUT', json: SAMPLE_CONFIG });
    // Registered by an operator, never seen: offline.
    expect((await request(base, '/devices/edge-01')).json()).toMatchObject({ last_seen: null, online: false });
    const reported = await report(base, 'edge-01', { metrics_port: 9100 });
    expect(reported.json()).toMatchObject({ last_seen: expect.any(String), online: true });
    await waitFor(async () => (await request(base, '/devices/edge-01')).json().online === false, 'the device to go offline');
    expect((await request(base, '/devices')).json().devices[0].online).toBe(false);
  });

  it('keeps a device seen within the default 180 s online', async () => {
    const { base } = await registered('edge-01');
    await request(base, '/config/edge-01', { headers: { 'X-Config-Source': 'device' } });
    expect((await request(base, '/devices')).json().devices[0]).toMatchObject({ last_seen: expect.any(String), online: true });
  });
});

import { parse as parseYaml } from 'yaml';
import { cleanUp, request, SAMPLE_CONFIG, startServer } from './helpers';

afterEach(cleanUp);

describe('PUT and GET /config/{device_id}', () => {
  it('creates the first version with 201, then serves it with its ETag, and 304 for that ETag', async () => {
    const { base } = await startServer();

    const created = await request(base, '/config/edge-01', { method: 'PUT', json: SAMPLE_CONFIG });
    expect(created.status).toBe(201);
    expect(created.headers.etag).toBe('"1"');
    expect(created.headers.location).toBe('/config/edge-01');
    expect(created.json()).toEqual({ device_id: 'edge-01', version: 1, changed: true });

    const fetched = await request(base, '/config/edge-01');
    expect(fetched.status).toBe(200);
    expect(fetched.headers.etag).toBe('"1"');
    expect(fetched.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(fetched.json()).toEqual(SAMPLE_CONFIG);
    const storedAt = Date.parse(String(fetched.headers['x-config-updated-at']));
    expect(Math.abs(storedAt - Date.now())).toBeLessThan(60_000);

    const notModified = await request(base, '/config/edge-01', { headers: { 'If-None-Match': '"1"' } });
    expect(notModified.status).toBe(304);
    expect(notModified.headers.etag).toBe('"1"');
    expect(notModified.text).toBe('');

    const stale = await request(base, '/config/edge-01', { headers: { 'If-None-Match': '"0"' } });
    expect(stale.status).toBe(200);
  });

  it('answers 404 for an unknown device', async () => {
    const { base } = await startServer();
    const reply = await request(base, '/config/nobody');
    expect(reply.status).toBe(404);
    expect(reply.json().error).toContain('nobody');
  });

  it('answers 200 with a new version for a change, and keeps the version when the config is the same', async () => {
    const { base } = await startServer();
    await request(base, '/config/edge-01', { method: 'PUT', json: SAMPLE_CONFIG });

    const changed = await request(base, '/config/edge-01', { method: 'PUT', json: { ...SAMPLE_CONFIG, interval: 5 } });
    expect(changed.status).toBe(200);
    expect(changed.headers.etag).toBe('"2"');
    expect(changed.json()).toEqual({ device_id: 'edge-01', version: 2, changed: true });

    // Same content in another key order: no new version, so a device echoing a config back makes no loop.
    const reordered = Object.fromEntries(Object.entries({ ...SAMPLE_CONFIG, interval: 5 }).reverse());
    const same = await request(base, '/config/edge-01', { method: 'PUT', json: reordered });
    expect(same.status).toBe(200);
    expect(same.headers.etag).toBe('"2"');
    expect(same.json().changed).toBe(false);
  });

  it('serves YAML when Accept asks for it and stores YAML bodies', async () => {
    const { base } = await startServer();
    const yamlBody = 'device_type: raspberrypi\ninterval: 2\nmetrics:\n  power_total_watts: true\n';
    const put = await request(base, '/config/pi-7', {
      method: 'PUT',
      body: yamlBody,
      headers: { 'Content-Type': 'application/yaml' },
    });
    expect(put.status).toBe(201);

    for (const accept of ['application/yaml', 'text/yaml']) {
      const reply = await request(base, '/config/pi-7', { headers: { Accept: accept } });
      expect(reply.status).toBe(200);
      expect(reply.headers['content-type']).toBe(`${accept}; charset=utf-8`);
      expect(reply.headers.etag).toBe('"1"');
      expect(parseYaml(reply.text)).toEqual({ device_type: 'raspberrypi', interval: 2, metrics: { power_total_watts: true } });
    }
    const json = await request(base, '/config/pi-7', { headers: { Accept: 'application/json' } });
    expect(json.json().interval).toBe(2);
    const html = await request(base, '/config/pi-7', { headers: { Accept: 'text/html' } });
    expect(html.status).toBe(406);
  });

  it('refuses an invalid config with 400 and the problems, and stores nothing', async () => {
    const { base } = await startServer();
    const invalid = { device_type: 'jetson_orin', interval: -1, metrics: { jetson_temp_cpu_celsius: 'yes' }, colour: 'red' };
    const reply = await request(base, '/config/edge-01', { method: 'PUT', json: invalid });
    expect(reply.status).toBe(400);
    const body = reply.json();
    expect(body.error).toContain('nothing was stored');
    expect(body.problems).toEqual(
      expect.arrayContaining([
        expect.stringContaining('interval'),
        expect.stringContaining('metrics.jetson_temp_cpu_celsius'),
        expect.stringContaining("unknown key 'colour'"),
      ]),
    );
    expect((await request(base, '/config/edge-01')).status).toBe(404);

    await request(base, '/config/edge-01', { method: 'PUT', json: SAMPLE_CONFIG });
    const again = await request(base, '/config/edge-01', { method: 'PUT', json: invalid });
    expect(again.status).toBe(400);
    const current = await request(base, '/config/edge-01');
    expect(current.headers.etag).toBe('"1"');
    expect(current.json()).toEqual(SAMPLE_CONFIG);
    expect((await request(base, '/config/edge-01/history')).json().versions).toHaveLength(1);
  });

  it.each([
    ['a body that is not JSON', '{"interval": ', 'application/json', 400, 'not valid JSON'],
    ['an empty body', '', 'application/json', 400, 'empty'],
    ['malformed YAML', 'metrics: [unclosed', 'application/yaml', 400, 'not valid YAML'],
    ['a JSON array', '[1, 2]', 'application/json', 400, 'must be an object'],
    ['JSON null', 'null', 'application/json', 400, 'the config is empty (null): it must be an object of keys and values'],
    ['YAML null', '~\n', 'application/yaml', 400, 'the config is empty (null)'],
    ['a YAML file of comments only', '# device_type: host\n', 'application/yaml', 400, 'the config is empty (null)'],
    ['an empty YAML document', '---\n...\n', 'application/yaml', 400, 'the config is empty (null)'],
    ['YAML that repeats a key', 'device_type: host\ninterval: 1\ninterval: 2\n', 'application/yaml', 400, 'not valid YAML: line 3, column 1: Map keys must be unique'],
    [
      'a config with more keys than a config may have',
      JSON.stringify({ options: Object.fromEntries(Array.from({ length: 12_000 }, (_, i) => [`k${i}`, 1])) }),
      'application/json',
      400,
      '12001 keys and list items in all, more than the limit of 10000',
    ],
    ['a form body', 'interval=1', 'application/x-www-form-urlencoded', 415, 'Content-Type'],
  ])('refuses %s', async (_name, body, contentType, status, message) => {
    const { base } = await startServer();
    const reply = await request(base, '/config/edge-01', { method: 'PUT', body, headers: { 'Content-Type': contentType } });
    expect(reply.status).toBe(status);
    expect(reply.text).toContain(message);
    expect((await request(base, '/config/edge-01')).status).toBe(404);
  });

  it('refuses a config whose device_id names another device', async () => {
    const { base } = await startServer();
    const reply = await request(base, '/config/edge-01', { method: 'PUT', json: { ...SAMPLE_CONFIG, device_id: 'edge-02' } });
    expect(reply.status).toBe(400);
    expect(reply.json().problems).toEqual([expect.stringContaining('"edge-02" is not the device in the URL (edge-01)')]);
  });

  it('answers 413 for a body over the limit, and stores nothing', async () => {
    const { base } = await startServer();
    const metrics = Object.fromEntries(Array.from({ length: 12000 }, (_, i) => [`metric_number_${i}`, true]));
    const body = JSON.stringify({ metrics });
    expect(body.length).toBeGreaterThan(256 * 1024);
    const reply = await request(base, '/config/edge-01', { method: 'PUT', body, headers: { 'Content-Type': 'application/json' } });
    expect(reply.status).toBe(413);
    expect(reply.json().error).toContain('262144 bytes');
    expect((await request(base, '/config/edge-01')).status).toBe(404);
  });
});

describe('conditional PUT', () => {
  it('applies a change based on the current version and refuses one based on an old version with 412', async () => {
    const { base } = await startServer();
    await request(base, '/config/edge-01', { method: 'PUT', json: SAMPLE_CONFIG });

    const onCurrent = await request(base, '/config/edge-01', {
      method: 'PUT',
      json: { ...SAMPLE_CONFIG, interval: 2 },
      headers: { 'If-Match': '"1"' },
    });
    expect(onCurrent.status).toBe(200);
    expect(onCurrent.headers.etag).toBe('"2"');

    const onOld = await request(base, '/config/edge-01', {
      method: 'PUT',
      json: { ...SAMPLE_CONFIG, interval: 3 },
      headers: { 'If-Match': '"1"' },
    });
    expect(onOld.status).toBe(412);
    expect(onOld.json().current_version).toBe(2);
    expect((await request(base, '/config/edge-01')).json().interval).toBe(2);
  });

  it('with If-None-Match: * creates only, so two registrations cannot overwrite each other', async () => {
    const { base } = await startServer();
    const first = await request(base, '/config/edge-01', { method: 'PUT', json: SAMPLE_CONFIG, headers: { 'If-None-Match': '*' } });
    expect(first.status).toBe(201);
    const second = await request(base, '/config/edge-01', {
      method: 'PUT',
      json: { ...SAMPLE_CONFIG, interval: 9 },
      headers: { 'If-None-Match': '*' },
    });
    expect(second.status).toBe(412);
    expect(second.json().current_version).toBe(1);
  });

  it('answers 412 for If-Match on a device without a config, and 400 for a malformed If-Match', async () => {
    const { base } = await startServer();
    const missing = await request(base, '/config/edge-01', { method: 'PUT', json: SAMPLE_CONFIG, headers: { 'If-Match': '"1"' } });
    expect(missing.status).toBe(412);
    expect(missing.json().current_version).toBeNull();
    const malformed = await request(base, '/config/edge-01', { method: 'PUT', json: SAMPLE_CONFIG, headers: { 'If-Match': '1' } });
    expect(malformed.status).toBe(400);
    expect(malformed.json().error).toContain('If-Match');
  });
});

describe('GET /config/{device_id}/history', () => {
  it('lists every version newest first with its source, address and config', async () => {
    const { base } = await startServer();
    await request(base, '/config/edge-01', { method: 'PUT', json: SAMPLE_CONFIG });
    await request(base, '/config/edge-01', {
      method: 'PUT',
      json: { ...SAMPLE_CONFIG, interval: 2 },
      headers: { 'X-Config-Source': 'device' },
    });
    await request(base, '/config/edge-01', { method: 'PUT', json: { ...SAMPLE_CONFIG, interval: 3 } });

    const history = (await request(base, '/config/edge-01/history')).json();
    expect(history.device_id).toBe('edge-01');
    expect(history.versions.map((v: { version: number }) => v.version)).toEqual([3, 2, 1]);
    expect(history.versions.map((v: { source: string }) => v.source)).toEqual(['admin', 'device', 'admin']);
    expect(history.versions[1]).toMatchObject({
      config: { ...SAMPLE_CONFIG, interval: 2 },
      address: '127.0.0.1',
      apply_status: null,
    });
    expect(new Date(history.versions[0].created_at).getTime()).toBeGreaterThan(0);

    const limited = (await request(base, '/config/edge-01/history?limit=2')).json();
    expect(limited.versions.map((v: { version: number }) => v.version)).toEqual([3, 2]);
    expect((await request(base, '/config/edge-01/history?limit=0')).status).toBe(400);
    expect((await request(base, '/config/nobody/history')).status).toBe(404);
  });
});

describe('device ids', () => {
  it.each([
    ['/config/../x', 'a path step'],
    ['/config/..%2Fx', 'not valid'],
    ['/config/%2E%2E%2Fx', 'not valid'],
    ['/config/..', 'a path step'],
    ['/config/a%2Fb', 'not valid'],
    ['/config/edge%2001', 'not valid'],
    ['/config/edge%00', 'not valid'],
    [`/config/${'a'.repeat(65)}`, 'not valid'],
    ['/config/%C3%A9dge', 'not valid'],
    ['/config/../x/history', 'a path step'],
    ['/devices/..%2F..%2Fetc/status', 'not valid'],
  ])('refuses %s with 400', async (path, message) => {
    const { base } = await startServer();
    for (const method of ['GET', 'PUT']) {
      const reply = await request(base, path, { method, json: method === 'PUT' ? SAMPLE_CONFIG : undefined });
      expect(reply.status).toBe(400);
      expect(reply.json().error).toContain(message);
    }
  });

  it('accepts the whole pattern: letters, digits, dot, underscore, dash, 64 long', async () => {
    const { base } = await startServer();
    for (const id of ['A.b_c-9', 'x'.repeat(64), '.hidden']) {
      expect((await request(base, `/config/${id}`, { method: 'PUT', json: SAMPLE_CONFIG })).status).toBe(201);
      expect((await request(base, `/config/${id}`)).status).toBe(200);
    }
  });
});

describe('other routes', () => {
  it('answers /healthz, 404 for unknown paths and 405 for unserved methods', async () => {
    const { base } = await startServer();
    const health = await request(base, '/healthz');
    expect(health.status).toBe(200);
    expect(health.json()).toEqual({ status: 'ok' });
    expect((await request(base, '/nowhere')).status).toBe(404);
    const deleted = await request(base, '/config/edge-01', { method: 'DELETE' });
    expect(deleted.status).toBe(405);
    expect(deleted.headers.allow).toBe('GET, HEAD, PUT');
  });

  it('serves its own metrics', async () => {
    const { base } = await startServer();
    await request(base, '/config/edge-01', { method: 'PUT', json: SAMPLE_CONFIG });
    await request(base, '/config/edge-01');
    const { status, text, headers } = await request(base, '/metrics');
    expect(status).toBe(200);
    expect(headers['content-type']).toContain('text/plain');
    expect(text).toContain('config_server_devices 1');
    expect(text).toContain('config_server_long_polls 0');
    expect(text).toContain('config_server_config_versions_created_total{source="admin"} 1');
    expect(text).toContain('config_server_http_requests_total{method="GET",route="/config/:deviceId",code="200"} 1');
    expect(text).toContain('process_cpu_seconds_total');
  });
});

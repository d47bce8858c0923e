import { cleanUp, request, startServer, waitFor, type RunningServer } from './helpers';

afterEach(cleanUp);

const put = (base: string, path: string, json: unknown, headers: Record<string, string> = {}) => request(base, path, { method: 'PUT', json, headers });
const post = (base: string, path: string, json?: unknown) => request(base, path, { method: 'POST', ...(json === undefined ? {} : { json }) });
const effective = async (base: string, id: string) => (await request(base, `/config/${id}`)).json();
const etag = async (base: string, id: string) => (await request(base, `/config/${id}`)).headers.etag;

/** Registers devices the way an exporter does, each with the given type and a little config of its own. */
async function fleetOf(server: RunningServer, devices: Record<string, string>): Promise<void> {
  for (const [id, type] of Object.entries(devices)) {
    expect((await put(server.base, `/config/${id}`, { device_type: type, metrics: { host_load1: true } }, { 'If-None-Match': '*' })).status).toBe(201);
  }
}

describe('layers: fleet, groups, device', () => {
  it('merges fleet ← groups by priority ← device, with provenance, and counts a revision only when the result changes', async () => {
    const { base } = await startServer();
    await fleetOf({ base } as RunningServer, { 'jetson-01': 'jetson_orin', 'jetson-02': 'jetson_orin', 'pi-01': 'raspberrypi' });
    expect((await put(base, '/fleet', { interval: 5, labels: { site: 'hq' }, metrics: { power_total_watts: true } })).status).toBe(200);
    const jetsons = await put(base, '/groups/jetsons', { selector: { device_type: 'jetson_orin' }, priority: 10, config: { interval: 2, labels: { rack: 'j' } } });
    expect(jetsons.json()).toMatchObject({ layer: 'group:jetsons', version: 1, changed: true, devices: ['jetson-01', 'jetson-02'] });
    const canary = { selector: { tags: { ring: 'canary' } }, priority: 20, config: { interval: 1 } };
    expect((await put(base, '/groups/canary', canary)).json()).toMatchObject({ devices: [], warnings: ['the selector of group:canary matches no registered device'] });
    // Tagging a device re-selects its groups at once.
    expect((await request(base, '/devices/jetson-02/tags', { method: 'PUT', json: { tags: { ring: 'canary' } } })).status).toBe(200);

    expect(await effective(base, 'jetson-01')).toEqual({
      device_type: 'jetson_orin',
      interval: 2,
      labels: { site: 'hq', rack: 'j' },
      metrics: { power_total_watts: true, host_load1: true },
    });
    expect((await effective(base, 'jetson-02')).interval).toBe(1);
    expect((await effective(base, 'pi-01')).interval).toBe(5);

    const withProvenance = (await request(base, '/config/jetson-02/effective')).json();
    expect(withProvenance.provenance).toEqual({
      interval: 'group:canary',
      'labels.site': 'fleet',
      'labels.rack': 'group:jetsons',
      'metrics.power_total_watts': 'fleet',
      'metrics.host_load1': 'device',
      device_type: 'device',
    });
    expect(withProvenance.layers).toEqual({ fleet: 1, 'group:jetsons': 1, 'group:canary': 1, device: 1 });

    // A group change to a device outside it, and a fleet change the device's own layer overrides: same ETag.
    const piTag = await etag(base, 'pi-01');
    const jetsonTag = await etag(base, 'jetson-02');
    await put(base, '/groups/jetsons', { selector: { device_type: 'jetson_orin' }, priority: 10, config: { interval: 2, labels: { rack: 'j2' } } });
    expect(await etag(base, 'pi-01')).toBe(piTag);
    await put(base, '/fleet', { interval: 5, labels: { site: 'hq' }, metrics: { power_total_watts: true, host_load1: false } });
    expect((await effective(base, 'pi-01')).metrics.host_load1).toBe(true);
    expect(await etag(base, 'pi-01')).toBe(piTag);
    expect(await etag(base, 'jetson-02')).not.toBe(jetsonTag);
    expect((await request(base, '/config/jetson-02/history')).json().versions[0]).toMatchObject({ cause: 'group:jetsons v2', source: 'admin' });

    expect((await request(base, '/groups')).json().groups.map((g: { name: string }) => g.name)).toEqual(['jetsons', 'canary']);
    expect((await request(base, '/groups/jetsons/devices')).json().devices).toEqual([
      { device_id: 'jetson-01', device_type: 'jetson_orin', tags: {} },
      { device_id: 'jetson-02', device_type: 'jetson_orin', tags: { ring: 'canary' } },
    ]);
  });

  it('wakes the long-polls of exactly the devices a group change alters', async () => {
    const server = await startServer();
    const { base } = server;
    await fleetOf(server, { 'a-1': 'host', 'b-1': 'host' });
    await put(base, '/groups/a', { selector: { device_id: 'a-*' }, config: { interval: 3 } });
    const poll = (id: string, tag: string) => request(base, `/config/${id}?wait=2`, { headers: { 'If-None-Match': tag } });
    const [member, other] = await Promise.all([
      poll('a-1', (await etag(base, 'a-1'))!),
      poll('b-1', (await etag(base, 'b-1'))!),
      new Promise((resolve) => setTimeout(resolve, 200)).then(() => put(base, '/groups/a', { selector: { device_id: 'a-*' }, config: { interval: 4 } })),
    ]);
    expect(member.status).toBe(200);
    expect(member.json().interval).toBe(4);
    expect(other.status).toBe(304);
  });

  it("stores a device's whole-config PUT as only the keys it changes, so later group values still reach it", async () => {
    const { base } = await startServer();
    await put(base, '/fleet', { interval: 5, metrics: { a: true } });
    await put(base, '/groups/all', { config: { labels: { site: 'hq' } } });
    await put(base, '/config/edge-01', { device_type: 'host' }, { 'If-None-Match': '*' });
    const current = await request(base, '/config/edge-01');
    // As an exporter pushes a toggle: the whole config it got, one metric changed, If-Match its ETag.
    const body = current.json();
    const pushed = await put(base, '/config/edge-01', { ...body, metrics: { ...body.metrics, b: true } }, { 'If-Match': current.headers.etag!, 'X-Config-Source': 'device' });
    expect(pushed.status).toBe(200);
    expect((await request(base, '/config/edge-01/layer')).json().config).toEqual({ device_type: 'host', metrics: { b: true } });
    await put(base, '/groups/all', { config: { labels: { site: 'dc' }, interval: 7 } });
    expect(await effective(base, 'edge-01')).toEqual({ device_type: 'host', interval: 7, labels: { site: 'dc' }, metrics: { a: true, b: true } });
    // A stale If-Match is still refused.
    expect((await put(base, '/config/edge-01', body, { 'If-Match': current.headers.etag! })).status).toBe(412);
  });

  it('keeps the metrics a device discovers (new, false) below the fleet: an operator enabling one fleet-wide reaches it', async () => {
    const { base } = await startServer();
    await put(base, '/config/edge-01', { device_type: 'host', metrics: { own: true, quiet: false } }, { 'If-None-Match': '*' });
    const current = await request(base, '/config/edge-01');
    const body = current.json();
    await put(base, '/config/edge-01', { ...body, metrics: { ...body.metrics, host_load5: false, own: false } }, { 'If-Match': current.headers.etag!, 'X-Config-Source': 'device' });
    expect((await request(base, '/config/edge-01/layer')).json()).toMatchObject({
      config: { device_type: 'host', metrics: { own: false } },
      discovered: { quiet: false, host_load5: false },
    });
    await put(base, '/fleet', { metrics: { host_load5: true, own: true } });
    expect((await effective(base, 'edge-01')).metrics).toEqual({ own: false, quiet: false, host_load5: true });
    expect((await request(base, '/config/edge-01/effective')).json().provenance).toMatchObject({ 'metrics.host_load5': 'fleet', 'metrics.own': 'device', 'metrics.quiet': 'device' });
  });

  it('keeps every version of every layer and rolls a layer back to an earlier one', async () => {
    const { base } = await startServer();
    await put(base, '/config/edge-01', { device_type: 'host' });
    await put(base, '/fleet', { interval: 5 });
    const second = await put(base, '/fleet', { interval: 9 }, { 'If-Match': '"1"' });
    expect(second.headers.etag).toBe('"2"');
    expect((await put(base, '/fleet', { interval: 10 }, { 'If-Match': '"1"' })).status).toBe(412);
    expect((await effective(base, 'edge-01')).interval).toBe(9);
    const rolledBack = await post(base, '/fleet/rollback', { version: 1 });
    expect(rolledBack.json()).toMatchObject({ version: 3, changed: true, devices: ['edge-01'] });
    expect((await effective(base, 'edge-01')).interval).toBe(5);
    const history = (await request(base, '/fleet/history')).json().versions;
    expect(history.map((v: { version: number; content: unknown; note: string | null }) => [v.version, v.content, v.note])).toEqual([
      [3, { interval: 5 }, 'rollback to version 1'],
      [2, { interval: 9 }, null],
      [1, { interval: 5 }, null],
    ]);

    await put(base, '/groups/g', { config: { interval: 2 } });
    expect((await request(base, '/groups/g', { method: 'DELETE' })).status).toBe(200);
    expect((await request(base, '/groups/g')).status).toBe(404);
    expect((await effective(base, 'edge-01')).interval).toBe(5);
    await post(base, '/groups/g/rollback', { version: 1 });
    expect((await effective(base, 'edge-01')).interval).toBe(2);
    expect((await request(base, '/groups/g/history')).json().versions.map((v: { deleted?: boolean }) => v.deleted ?? false)).toEqual([false, true, false]);

    await put(base, '/config/edge-01/layer', { device_type: 'host', interval: 1 });
    await post(base, '/config/edge-01/layer/rollback', { version: 1 });
    expect((await effective(base, 'edge-01')).interval).toBe(2);
    expect((await post(base, '/fleet/rollback', { version: 99 })).status).toBe(404);
  });

  it('refuses bad input with 400 naming the field, and stores nothing', async () => {
    const { base } = await startServer();
    await put(base, '/config/edge-01', { device_type: 'host' });
    const refused = async (path: string, body: unknown, problem: string) => {
      const response = await put(base, path, body);
      expect(response.status).toBe(400);
      expect(response.json().problems).toContain(problem);
    };
    await refused('/fleet', { interval: 5, colour: 'red' }, "unknown key 'colour'");
    await refused('/fleet', { device_id: 'x' }, "device_id: belongs to a device's own layer, not to a layer shared by devices");
    await refused('/groups/g', { selector: { hostname: 'x' }, config: {} }, "selector: unknown key 'hostname' (a group selects by device_type, device_id and tags)");
    await refused('/groups/g', { selectr: {}, config: {} }, "unknown key 'selectr' (a group has selector, priority, config and optionally rollout)");
    await refused('/groups/g', { priority: 1.5, config: {} }, 'priority: must be an integer from -1000000 to 1000000');
    await refused('/groups/g', { config: { interval: -1 } }, 'config.interval: must be > 0');
    await refused('/groups/g', { config: { metrics: Object.fromEntries(Array.from({ length: 5001 }, (_, i) => [`m${i}`, true])) } }, 'config.metrics: 5001 entries, more than the limit of 5000');
    await refused('/fleet', { rollout: { steps: [100], wait_s: 1 } }, 'rollout.max_failed_percent: must be a number from 0 to 100');
    expect((await request(base, '/devices/edge-01/tags', { method: 'PUT', json: { tags: { 'bad name': 'x' } } })).json().problems).toEqual([
      'tags.bad name: a tag name must match ^[A-Za-z_][A-Za-z0-9_.-]{0,63}$',
    ]);
    expect((await request(base, '/groups/bad%20name')).status).toBe(400);
    expect((await request(base, '/fleet?dry_run=maybe', { method: 'PUT', json: {} })).status).toBe(400);
    expect((await request(base, '/fleet')).json()).toEqual({ version: 0, config: {}, updated_at: null });
    expect((await request(base, '/groups')).json()).toEqual({ groups: [] });
    expect((await request(base, '/config/edge-01/history')).json().versions).toHaveLength(1);
  });

  it('counts one new version for each device a layer change alters', async () => {
    const { base } = await startServer();
    await fleetOf({ base } as RunningServer, { 'a-1': 'host', 'a-2': 'host', 'b-1': 'host' });
    const created = async () => Number(/^config_server_config_versions_created_total\{source="admin"\} (\d+)$/m.exec((await request(base, '/metrics')).text)?.[1] ?? 0);
    const before = await created();
    await put(base, '/groups/a', { selector: { device_id: 'a-*' }, config: { interval: 3 } });
    expect(await created()).toBe(before + 2);
  });

  it('warns about a selector that matches nothing, and allows it', async () => {
    const { base } = await startServer();
    await put(base, '/config/edge-01', { device_type: 'host' });
    const response = await put(base, '/groups/nobody', { selector: { device_id: 'nothing-*' }, config: { interval: 2 } });
    expect(response.status).toBe(200);
    expect(response.json()).toMatchObject({ changed: true, devices: [], warnings: ['the selector of group:nobody matches no registered device'] });
  });

  it('only lets the admin change layers and tags', async () => {
    const { base } = await startServer({ adminToken: 'admin', deviceTokens: { 'edge-01': 'device' } });
    await request(base, '/config/edge-01', { method: 'PUT', json: { device_type: 'host' }, token: 'device' });
    expect((await request(base, '/fleet', { method: 'PUT', json: {}, token: 'device' })).status).toBe(403);
    expect((await request(base, '/groups/g', { token: 'device' })).status).toBe(403);
    expect((await request(base, '/devices/edge-01/tags', { method: 'PUT', json: { tags: {} }, token: 'device' })).status).toBe(403);
    expect((await request(base, '/config/edge-01/effective', { token: 'device' })).status).toBe(200);
    expect((await request(base, '/fleet', { method: 'PUT', json: { interval: 2 }, token: 'admin' })).status).toBe(200);
  });
});

describe('preview (?dry_run=true)', () => {
  it('lists the affected devices with their diffs and stores nothing', async () => {
    const { base } = await startServer();
    await fleetOf({ base } as RunningServer, { 'a-1': 'host', 'a-2': 'host', 'b-1': 'host' });
    await put(base, '/config/a-2/layer', { device_type: 'host', metrics: { host_load1: true }, interval: 1 });
    const tagBefore = await etag(base, 'a-1');
    const response = await put(base, '/groups/a?dry_run=true', {
      selector: { device_id: 'a-*' },
      config: { interval: 3, labels: { zone: 'a' }, device_type: 'jetson_orin', collectors: [{ type: 'shelly' }] },
    });
    expect(response.status).toBe(200);
    const preview = response.json();
    expect(preview).toMatchObject({ dry_run: true, layer: 'group:a', version: 1, valid: true, invalid_devices: [] });
    expect(preview.devices.map((d: { device_id: string }) => d.device_id)).toEqual(['a-1', 'a-2']);
    expect(preview.devices[0]).toEqual({
      device_id: 'a-1',
      // Its own layer (the config it registered with) keeps its device_type.
      changes: [
        { key: 'interval', after: 3 },
        { key: 'labels.zone', after: 'a' },
        { key: 'collectors', after: [{ type: 'shelly' }] },
      ],
      valid: true,
      problems: [],
      warnings: ['collectors shelly: the server cannot tell whether the device has plugins serving them'],
    });
    // a-2's own layer sets interval: the label and the collectors reach it.
    expect(preview.devices[1].changes.map((c: { key: string }) => c.key)).toEqual(['labels.zone', 'collectors']);
    expect((await request(base, '/groups/a')).status).toBe(404);
    expect(await etag(base, 'a-1')).toBe(tagBefore);
  });

  it("previews a device's own PUT /config/{id} without storing it", async () => {
    const { base } = await startServer();
    await put(base, '/fleet', { interval: 5 });
    await put(base, '/config/edge-01', { device_type: 'host' });
    const current = await request(base, '/config/edge-01');
    const response = await put(base, '/config/edge-01?dry_run=true', { ...current.json(), interval: 1, labels: { rack: 'b7' } });
    expect(response.json()).toMatchObject({
      dry_run: true,
      layer: 'device:edge-01',
      changed: true,
      valid: true,
      devices: [{ device_id: 'edge-01', changes: [{ key: 'interval', before: 5, after: 1 }, { key: 'labels.rack', after: 'b7' }] }],
    });
    expect((await request(base, '/config/edge-01')).headers.etag).toBe(current.headers.etag);
    expect((await request(base, '/config/edge-01/layer')).json().version).toBe(1);
  });

  it('refuses a change that makes an affected device invalid, listing it; the preview shows why', async () => {
    const { base } = await startServer();
    const many = (prefix: string) => Object.fromEntries(Array.from({ length: 3000 }, (_, i) => [`${prefix}${i}`, true]));
    await put(base, '/config/big', { device_type: 'host', metrics: many('own_') });
    await put(base, '/config/small', { device_type: 'host' });
    const change = { metrics: many('fleet_') };
    const preview = (await put(base, '/fleet?dry_run=true', change)).json();
    expect(preview).toMatchObject({ valid: false, invalid_devices: ['big'] });
    expect(preview.devices.find((d: { device_id: string }) => d.device_id === 'big').problems).toEqual(['metrics: 6000 entries, more than the limit of 5000']);
    const refused = await put(base, '/fleet', change);
    expect(refused.status).toBe(400);
    expect(refused.json()).toEqual({
      error: 'the change of fleet would make 1 device(s) invalid; nothing was stored',
      invalid_devices: [{ device_id: 'big', problems: ['metrics: 6000 entries, more than the limit of 5000'] }],
    });
    expect((await request(base, '/fleet')).json().version).toBe(0);
    expect((await request(base, '/config/small/history')).json().versions).toHaveLength(1);
  });
});

describe('staged rollouts', () => {
  /** Reports `status` for each device's current revision, as an exporter does after applying it. */
  const report = async (base: string, id: string, status: 'applied' | 'failed') => {
    const { version } = (await request(base, `/devices/${id}`)).json();
    expect((await post(base, `/devices/${id}/status`, { version, status, ...(status === 'failed' ? { error: 'no plugin' } : {}) })).status).toBe(200);
  };

  it('halts as soon as the failures of a step pass the threshold; the devices not reached keep their config; rollback restores it', async () => {
    const { base } = await startServer();
    await fleetOf({ base } as RunningServer, { 'd-1': 'host', 'd-2': 'host', 'd-3': 'host' });
    await put(base, '/fleet', { interval: 5 });
    const started = await put(base, '/fleet', { interval: 2, rollout: { steps: [34, 100], wait_s: 60, max_failed_percent: 0 } });
    expect(started.status).toBe(202);
    const { rollout } = started.json();
    expect(started.headers.location).toBe(`/rollouts/${rollout.id}`);
    expect(rollout).toMatchObject({ state: 'running', step: 1, from_version: 1, to_version: 2 });
    expect(rollout.devices.map((d: { device_id: string; step: number | null }) => [d.device_id, d.step])).toEqual([['d-1', 1], ['d-2', 1], ['d-3', null]]);
    expect([(await effective(base, 'd-1')).interval, (await effective(base, 'd-2')).interval, (await effective(base, 'd-3')).interval]).toEqual([2, 2, 5]);
    expect((await request(base, '/config/d-3/effective')).json().layers.fleet).toBe(1);
    // Another change of the fleet layer waits for the rollout.
    expect((await put(base, '/fleet', { interval: 3 })).status).toBe(409);

    await report(base, 'd-1', 'failed');
    await report(base, 'd-2', 'applied');
    const halted = await waitFor(async () => (await request(base, `/rollouts/${rollout.id}`)).json().state === 'halted', 'the rollout to halt').then(async () => (await request(base, `/rollouts/${rollout.id}`)).json());
    expect(halted.reason).toBe('1 of 2 device(s) of step 1 failed to apply (50.0 % > 0 %)');
    expect(halted.devices.map((d: { status: string }) => d.status)).toEqual(['failed', 'applied', 'waiting']);
    expect((await effective(base, 'd-3')).interval).toBe(5);

    const rolledBack = await post(base, `/rollouts/${rollout.id}/rollback`);
    expect(rolledBack.json()).toMatchObject({ state: 'rolled_back' });
    expect([(await effective(base, 'd-1')).interval, (await effective(base, 'd-2')).interval, (await effective(base, 'd-3')).interval]).toEqual([5, 5, 5]);
    expect((await request(base, '/fleet')).json()).toMatchObject({ version: 3, config: { interval: 5 } });
    expect((await request(base, '/config/d-3/history')).json().versions).toHaveLength(2);
    expect((await post(base, `/rollouts/${rollout.id}/resume`)).status).toBe(409);
  });

  it('steps on after a restart of the server and completes; resume continues a halted rollout', async () => {
    const first = await startServer();
    await fleetOf(first, { 'd-1': 'host', 'd-2': 'host' });
    const started = (await put(first.base, '/fleet', { interval: 2, rollout: { steps: [50, 100], wait_s: 1, max_failed_percent: 50 } })).json();
    await first.server.close();
    const second = await startServer({ dir: first.dir, dbPath: first.dbPath });
    const done = await waitFor(async () => (await request(second.base, `/rollouts/${started.rollout.id}`)).json().state === 'completed', 'the rollout to complete');
    expect(done).toBeUndefined();
    expect([(await effective(second.base, 'd-1')).interval, (await effective(second.base, 'd-2')).interval]).toEqual([2, 2]);

    const next = (await put(second.base, '/fleet', { interval: 4, rollout: { steps: [50, 100], wait_s: 0.2, max_failed_percent: 0 } })).json();
    await report(second.base, 'd-1', 'failed');
    await waitFor(async () => (await request(second.base, `/rollouts/${next.rollout.id}`)).json().state === 'halted', 'the rollout to halt');
    expect((await post(second.base, `/rollouts/${next.rollout.id}/resume`)).json()).toMatchObject({ state: 'running', step: 2 });
    expect((await effective(second.base, 'd-2')).interval).toBe(4);
    await waitFor(async () => (await request(second.base, `/rollouts/${next.rollout.id}`)).json().state === 'completed', 'the rollout to complete');
    expect((await post(second.base, `/rollouts/${next.rollout.id}/abort`)).status).toBe(409);
  });
});

describe('GET /rollouts', () => {
  it('lists rollouts newest first without their devices, filtered by state, at most limit', async () => {
    const { base } = await startServer();
    await fleetOf({ base } as RunningServer, { 'd-1': 'host', 'd-2': 'host' });
    expect((await request(base, '/rollouts')).json()).toEqual({ rollouts: [] });
    const plan = { steps: [50, 100], wait_s: 600, max_failed_percent: 0 };
    const first = (await put(base, '/fleet', { interval: 2, rollout: plan })).json().rollout;
    expect((await post(base, `/rollouts/${first.id}/abort`)).json()).toMatchObject({ state: 'aborted' });
    const second = (await put(base, '/groups/hosts', { selector: { device_type: 'host' }, config: { interval: 3 }, rollout: plan })).json().rollout;

    const { rollouts } = (await request(base, '/rollouts')).json();
    expect(rollouts.map((rollout: { id: number; layer: string; state: string }) => [rollout.id, rollout.layer, rollout.state])).toEqual([
      [second.id, 'group:hosts', 'running'],
      [first.id, 'fleet', 'aborted'],
    ]);
    const { devices, ...summary } = (await request(base, `/rollouts/${second.id}`)).json();
    expect(devices).toHaveLength(2);
    expect(rollouts[0]).toEqual(summary);
    expect((await request(base, '/rollouts?state=aborted')).json().rollouts.map((rollout: { id: number }) => rollout.id)).toEqual([first.id]);
    expect((await request(base, '/rollouts?state=completed')).json()).toEqual({ rollouts: [] });
    expect((await request(base, '/rollouts?limit=1')).json().rollouts.map((rollout: { id: number }) => rollout.id)).toEqual([second.id]);

    const badState = await request(base, '/rollouts?state=paused');
    expect(badState.status).toBe(400);
    expect(badState.json().error).toBe('state must be one of running, halted, completed, aborted, rolled_back, not "paused"');
    expect((await request(base, '/rollouts?limit=0')).status).toBe(400);
    expect((await request(base, '/rollouts', { method: 'POST' })).status).toBe(405);
  });

  it('is for the admin only', async () => {
    const { base } = await startServer({ adminToken: 'admin-rollouts-4e1f', deviceTokens: { 'd-1': 'device-rollouts-9a2c' } });
    expect((await request(base, '/rollouts', { token: 'device-rollouts-9a2c' })).status).toBe(403);
    expect((await request(base, '/rollouts')).status).toBe(401);
    expect((await request(base, '/rollouts', { token: 'admin-rollouts-4e1f' })).status).toBe(200);
  });
});

describe('layers as YAML (Accept: application/yaml)', () => {
  const yamlOf = (base: string, path: string, accept = 'application/yaml') => request(base, path, { headers: { Accept: accept } });

  it('answers the text a PUT of the layer takes; JSON stays the default', async () => {
    const { base } = await startServer();
    await fleetOf({ base } as RunningServer, { 'pi-01': 'raspberrypi' });
    await put(base, '/fleet', { interval: 5, labels: { site: 'hq' } });
    await put(base, '/groups/pis', { selector: { device_type: 'raspberrypi' }, priority: 5, config: { interval: 2 } });
    await put(base, '/config/pi-01/layer', { device_type: 'raspberrypi', metrics: { host_load1: false } });

    const fleet = await yamlOf(base, '/fleet');
    expect(fleet.status).toBe(200);
    expect(fleet.headers['content-type']).toBe('application/yaml; charset=utf-8');
    expect(fleet.headers.etag).toBe('"1"');
    expect(fleet.headers.vary).toContain('Accept');
    expect(fleet.text).toBe('interval: 5\nlabels:\n  site: hq\n');
    expect((await yamlOf(base, '/groups/pis', 'text/yaml')).text).toBe('selector:\n  device_type: raspberrypi\npriority: 5\nconfig:\n  interval: 2\n');
    expect((await yamlOf(base, '/config/pi-01/layer')).text).toBe('device_type: raspberrypi\nmetrics:\n  host_load1: false\n');

    // The text goes back as it came: an unchanged PUT stores nothing.
    for (const path of ['/fleet', '/groups/pis', '/config/pi-01/layer']) {
      const text = (await yamlOf(base, path)).text;
      const back = await request(base, path, { method: 'PUT', body: text, headers: { 'Content-Type': 'application/yaml' } });
      expect([path, back.status, back.json().changed]).toEqual([path, 200, false]);
    }
    for (const path of ['/fleet', '/groups/pis', '/config/pi-01/layer']) {
      const json = await request(base, path);
      expect([path, json.headers['content-type']]).toEqual([path, 'application/json; charset=utf-8']);
    }
    expect((await yamlOf(base, '/fleet', 'application/json, application/yaml;q=0.5')).headers['content-type']).toBe('application/json; charset=utf-8');
  });

  it('answers an empty layer as an empty map', async () => {
    const { base } = await startServer();
    expect((await yamlOf(base, '/fleet')).text).toBe('{}\n');
  });
});

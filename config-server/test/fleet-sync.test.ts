import { join } from 'node:path';
import { pluginSource, writePackage } from '../../core/test/helpers';
import { Exporter, killExporters, waitFor } from './exporter-process';
import { cleanUp, request, startServer, tempDir, type RunningServer } from './helpers';

// Real exporters (the CLI as child processes) following a real config server on loopback, managed through layers.

afterEach(async () => {
  killExporters();
  await cleanUp();
});

const put = (server: RunningServer, path: string, json: unknown) => request(server.base, path, { method: 'PUT', json });
const etagOf = async (server: RunningServer, id: string) => (await request(server.base, `/config/${id}`)).headers.etag;

/**
 * Starts one exporter per id (each in its own folder, prepared by `prepare`) and waits until each has pushed every
 * metric it discovers and applied the server's current version: nothing of its own is still on the way.
 */
async function startFleet(server: RunningServer, ids: string[], prepare: (id: string, dir: string) => Promise<void> = async () => {}): Promise<Record<string, Exporter>> {
  const fleet: Record<string, Exporter> = {};
  for (const id of ids) {
    const dir = await tempDir();
    await prepare(id, dir);
    fleet[id] = await Exporter.start(dir, { CONFIG_SERVER_URL: server.base, DEVICE_ID: id });
  }
  for (const id of ids) {
    await waitFor(async () => Object.hasOwn((await request(server.base, `/config/${id}`)).json().metrics ?? {}, 'host_cpu_core_usage_percent'), `${id}'s discovered metrics`);
    await inStep(server, id);
  }
  return fleet;
}

/** Waits until the device has applied the server's current version and said so. */
async function inStep(server: RunningServer, id: string): Promise<{ version: number }> {
  return waitFor(async () => {
    const summary = (await request(server.base, `/devices/${id}`)).json();
    return summary.apply?.status === 'applied' && summary.apply.applied_version === summary.version && summary;
  }, `${id} to apply the current version`);
}

const exposes = (exporter: Exporter, pattern: RegExp) => waitFor(async () => pattern.test(await exporter.metrics()), `${pattern} in /metrics`);

describe('a fleet of exporters managed through layers', () => {
  test('a fleet change reaches every device, a group change its members only; a preview lists them and refuses an invalid change', async () => {
    const server = await startServer();
    const fleet = await startFleet(server, ['dev-a1', 'dev-a2', 'dev-b1']);

    expect((await put(server, '/fleet', { labels: { fleet: 'east' } })).json().devices).toEqual(['dev-a1', 'dev-a2', 'dev-b1']);
    for (const exporter of Object.values(fleet)) await exposes(exporter, /^host_load1\{[^}]*fleet="east"/m);

    const outside = await etagOf(server, 'dev-b1');
    const group = { selector: { device_id: 'dev-a*' }, priority: 10, config: { labels: { zone: 'a' } } };
    const preview = (await put(server, '/groups/a?dry_run=true', group)).json();
    expect(preview.devices.map((d: { device_id: string }) => d.device_id)).toEqual(['dev-a1', 'dev-a2']);
    expect(preview.devices[0].changes).toEqual([{ key: 'labels.zone', after: 'a' }]);
    expect((await request(server.base, '/groups/a')).status).toBe(404);

    expect((await put(server, '/groups/a', group)).json().devices).toEqual(['dev-a1', 'dev-a2']);
    await exposes(fleet['dev-a1']!, /^host_load1\{[^}]*zone="a"/m);
    await exposes(fleet['dev-a2']!, /^host_load1\{[^}]*zone="a"/m);
    await inStep(server, 'dev-a1');
    await inStep(server, 'dev-a2');
    expect(await etagOf(server, 'dev-b1')).toBe(outside);
    expect(await fleet['dev-b1']!.metrics()).not.toContain('zone=');

    // Each member has about ten metrics of its own: with 4,995 more from the group it would pass the 5,000 limit.
    const tooMany = { ...group, config: { metrics: Object.fromEntries(Array.from({ length: 4995 }, (_, i) => [`fleet_metric_${i}`, false])) } };
    const refused = await put(server, '/groups/a', tooMany);
    expect(refused.status).toBe(400);
    expect(refused.json().invalid_devices.map((d: { device_id: string }) => d.device_id)).toEqual(['dev-a1', 'dev-a2']);
    expect((await request(server.base, '/groups/a')).json().version).toBe(1);
  });

  test("a device's own toggle survives a group change to another key, and a group change to the same key does not override it", async () => {
    const server = await startServer();
    await put(server, '/fleet', { labels: { fleet: 'east' } });
    await put(server, '/groups/a', { selector: { device_id: 'dev-a*' }, config: { labels: { zone: 'a' } } });
    const fleet = await startFleet(server, ['dev-a1', 'dev-a2']);
    const [a1, a2] = [fleet['dev-a1']!, fleet['dev-a2']!];

    expect(await a1.enable({ host_load5: true })).toBe(200);
    await waitFor(async () => (await request(server.base, '/config/dev-a1/layer')).json().config.metrics?.host_load5 === true, 'the toggle in the device layer');
    const own = (await request(server.base, '/config/dev-a1/layer')).json().config;
    expect(own).not.toHaveProperty('labels');
    await inStep(server, 'dev-a1');

    await put(server, '/groups/a', { selector: { device_id: 'dev-a*' }, config: { labels: { zone: 'b' } } });
    await exposes(a1, /^host_load1\{[^}]*zone="b"/m);
    expect((await a1.list()).metrics.host_load5).toBe(true);

    await put(server, '/groups/a', { selector: { device_id: 'dev-a*' }, config: { labels: { zone: 'b' }, metrics: { host_load5: false, host_load15: true } } });
    await waitFor(async () => (await a2.list()).metrics.host_load15 === true, 'the group metric on dev-a2');
    await waitFor(async () => (await a1.list()).metrics.host_load15 === true, 'the group metric on dev-a1');
    expect((await a1.list()).metrics.host_load5).toBe(true);
    expect((await a2.list()).metrics.host_load5).toBe(false);
    await exposes(a1, /^host_load5\{/m);

    const { provenance } = (await request(server.base, '/config/dev-a1/effective')).json();
    expect(provenance).toMatchObject({
      'metrics.host_load5': 'device',
      'metrics.host_load15': 'group:a',
      'metrics.host_load1': 'device',
      'labels.zone': 'group:a',
      'labels.fleet': 'fleet',
      interval: 'device',
    });
  });

  test('a staged rollout with a device that fails to apply halts after its step; the rest keep their config; rollback restores it', async () => {
    const server = await startServer();
    // dev-2 and dev-3 have the plugin the change needs; dev-1 has not and fails to apply it.
    const fleet = await startFleet(server, ['dev-1', 'dev-2', 'dev-3'], async (id, dir) => {
      if (id !== 'dev-1') await writePackage(join(dir, 'plugins'), 'edge-collector-acme', { 'index.js': pluginSource('edge-collector-acme', 'acme', 'acme') });
    });
    const untouched = await etagOf(server, 'dev-3');
    const change = { plugin_dirs: ['plugins'], collectors: [{ type: 'acme' }] };
    const started = await put(server, '/fleet', { ...change, rollout: { steps: [50, 100], wait_s: 600, max_failed_percent: 0 } });
    expect(started.status).toBe(202);
    const { id, devices } = started.json().rollout;
    expect(devices.map((d: { device_id: string; step: number | null }) => [d.device_id, d.step])).toEqual([['dev-1', 1], ['dev-2', 1], ['dev-3', null]]);

    // Its acme metrics are discovered (disabled, as every new metric) once dev-2 runs the new collector.
    await waitFor(async () => Object.hasOwn((await fleet['dev-2']!.list()).metrics, 'acme_power_watts'), 'the acme collector on dev-2');
    const halted = await waitFor(async () => {
      const rollout = (await request(server.base, `/rollouts/${id}`)).json();
      return rollout.state === 'halted' && rollout.devices[1].status === 'applied' && rollout;
    }, 'the rollout to halt');
    expect(halted.reason).toBe('1 of 2 device(s) of step 1 failed to apply (50.0 % > 0 %)');
    expect(halted.devices[0]).toMatchObject({ device_id: 'dev-1', status: 'failed' });
    expect(halted.devices[0].error).toContain('acme');
    expect(halted.devices[2]).toMatchObject({ device_id: 'dev-3', status: 'waiting' });
    expect(await etagOf(server, 'dev-3')).toBe(untouched);
    expect(Object.keys((await fleet['dev-3']!.list()).metrics)).not.toContain('acme_power_watts');

    expect((await request(server.base, `/rollouts/${id}/rollback`, { method: 'POST' })).json().state).toBe('rolled_back');
    for (const device of ['dev-1', 'dev-2']) {
      await waitFor(async () => {
        const summary = (await request(server.base, `/devices/${device}`)).json();
        const config = (await request(server.base, `/config/${device}`)).json();
        return !Object.hasOwn(config, 'collectors') && summary.apply?.status === 'applied' && summary.apply.applied_version === summary.version;
      }, `${device} to apply its previous config again`);
    }
    expect(await etagOf(server, 'dev-3')).toBe(untouched);
  });
});

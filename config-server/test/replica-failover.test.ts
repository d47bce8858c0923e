import { startCli, killCliProcesses, type Cli } from './cli-process';
import { Exporter, killExporters, waitFor } from './exporter-process';
import { cleanUp, metricValue, request, tempDir } from './helpers';
import { testPostgres } from './postgres';

afterEach(async () => {
  killExporters();
  killCliProcesses();
  await cleanUp();
});

/** Two config server processes on one new PostgreSQL database. */
async function twoReplicaProcesses(): Promise<[Cli & { base: string }, Cli & { base: string }]> {
  const db = await (await testPostgres()).createDatabase();
  return [await startCli(['--db', db]), await startCli(['--db', db])];
}

/** An exporter process as `deviceId`, following the replicas in the order given. */
async function device(deviceId: string, urls: string[]): Promise<Exporter> {
  return Exporter.start(await tempDir(), { DEVICE_ID: deviceId, CONFIG_SERVER_URL: urls.join(',') });
}

/** Waits until `deviceId` reports that it applied the server's current version; returns that version. */
async function applied(base: string, deviceId: string, version?: number): Promise<number> {
  return waitFor(async () => {
    const summary = (await request(base, `/devices/${deviceId}`)).json();
    const target = version ?? summary.version;
    return summary.version === target && summary.apply?.applied_version === target && target;
  }, `${deviceId} to apply ${version === undefined ? 'its current version' : `version ${version}`}`);
}

async function longPolls(base: string, count: number): Promise<void> {
  await waitFor(async () => (await metricValue(base, 'config_server_long_polls')) === count, `${count} long-poll(s) held by ${base}`);
}

const putLabels = async (base: string, deviceId: string, labels: Record<string, string>): Promise<number> => {
  const current = (await request(base, `/config/${deviceId}`)).json();
  const reply = await request(base, `/config/${deviceId}`, { method: 'PUT', json: { ...current, labels } });
  expect(reply.status).toBe(200);
  return reply.json().version;
};

describe('exporters following two replicas on one PostgreSQL database', () => {
  it('a change written through one replica reaches a device long-polling the other', async () => {
    const [a, b] = await twoReplicaProcesses();
    await device('edge-a', [a.base, b.base]);
    await device('edge-b', [b.base, a.base]);
    await applied(a.base, 'edge-a');
    await applied(a.base, 'edge-b');
    await longPolls(a.base, 1);
    await longPolls(b.base, 1);
    const toB = await putLabels(a.base, 'edge-b', { site: 'roof' });
    const toA = await putLabels(b.base, 'edge-a', { site: 'cellar' });
    expect(await applied(b.base, 'edge-b', toB)).toBe(toB);
    expect(await applied(a.base, 'edge-a', toA)).toBe(toA);
  });

  it('devices whose replica is killed (kill -9) during their long-polls fail over to the other and miss no version', async () => {
    const [a, b] = await twoReplicaProcesses();
    const devices = ['edge-1', 'edge-2', 'edge-3'];
    const exporters = await Promise.all(devices.map((id) => device(id, [a.base, b.base])));
    for (const id of devices) await applied(b.base, id);
    await longPolls(a.base, devices.length);
    a.child.kill('SIGKILL');
    expect(await a.exited).toEqual({ code: null, signal: 'SIGKILL' });
    for (const [step, id] of devices.entries()) {
      const first = await putLabels(b.base, id, { step: `${step}-1` });
      const second = await putLabels(b.base, id, { step: `${step}-2` });
      expect(second).toBe(first + 1);
      expect(await applied(b.base, id, second)).toBe(second);
    }
    await longPolls(b.base, devices.length);
    for (const exporter of exporters) {
      expect(exporter.child.exitCode).toBeNull();
      expect(exporter.stderr).toMatch(new RegExp(`config server .*${a.base.replace(/[.]/g, '\\.')}.*: using ${b.base.replace(/[.]/g, '\\.')}`));
    }
  });
});

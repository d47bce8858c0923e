import { freePort, Service, waitFor } from '../../e2e/helpers';
import { killExporters } from './exporter-process';
import { cleanUp, request, SAMPLE_CONFIG, startServer, type RunningServer } from './helpers';
import { REPLAY_WATTS, startPrometheus, startReplayExporter } from './prometheus';

/** GET /ui/power against a real Prometheus that scrapes a real exporter it found through the config server's /sd. */
const ADMIN = 'admin-power-5e0b7c29d4a1';
const EDGE_01 = 'edge01-power-81f3a6d20c5e';

let prometheus: Service | undefined;
let prometheusUrl: string;
let configServer: RunningServer;

async function cookieOf(base: string, token: string): Promise<string> {
  const reply = await request(base, '/ui/sign-in', { method: 'POST', body: `token=${token}`, headers: { 'Content-Type': 'application/x-www-form-urlencoded' } });
  return reply.headers['set-cookie']![0]!.split(';')[0]!;
}

beforeAll(async () => {
  prometheusUrl = `http://127.0.0.1:${await freePort()}`;
  configServer = await startServer({ adminToken: ADMIN, deviceTokens: { 'edge-01': EDGE_01 }, prometheusUrl });
  const { base } = configServer;
  // edge-01 runs a real exporter and reports where it serves /metrics; edge-02 is registered but never reports.
  for (const id of ['edge-01', 'edge-02']) await request(base, `/config/${id}`, { method: 'PUT', json: SAMPLE_CONFIG, token: ADMIN });
  await startReplayExporter(base, ADMIN, 'edge-01');
  prometheus = await startPrometheus(prometheusUrl, base, ADMIN);
}, 120_000);

afterAll(async () => {
  await prometheus?.stop();
  killExporters();
  await cleanUp();
});

describe('GET /ui/power', () => {
  it("answers each device's power and 24 h energy from Prometheus, by the device_id label of /sd, and the fleet's totals", async () => {
    const { base } = configServer;
    const headers = { Cookie: await cookieOf(base, ADMIN) };
    const power = await waitFor(async () => {
      const reply = await request(base, '/ui/power', { headers });
      const body = reply.status === 200 ? reply.json() : undefined;
      return body?.devices['edge-01'].energy_24h_wh > 0 ? body : undefined;
    }, () => `Prometheus to have edge-01's power and energy; it logged:\n${prometheus?.log}`, 90_000);
    expect(power.devices['edge-01'].watts).toBeCloseTo(REPLAY_WATTS, 6);
    expect(power.devices['edge-02']).toEqual({ watts: null, energy_24h_wh: null });
    expect(Object.keys(power.devices).sort()).toEqual(['edge-01', 'edge-02']);
    expect(power.total_watts).toBeCloseTo(REPLAY_WATTS, 6);
    expect(power.total_energy_24h_wh).toBe(power.devices['edge-01'].energy_24h_wh);
  });

  it("shows a device's session only that device", async () => {
    const { base } = configServer;
    const power = (await request(base, '/ui/power', { headers: { Cookie: await cookieOf(base, EDGE_01) } })).json();
    expect(Object.keys(power.devices)).toEqual(['edge-01']);
    expect(power.total_watts).toBe(power.devices['edge-01'].watts);
  });

  it('needs a session', async () => {
    expect((await request(configServer.base, '/ui/power')).status).toBe(401);
    expect((await request(configServer.base, '/ui/power', { token: ADMIN })).status).toBe(401);
  });

  it('answers 502 naming Prometheus when it does not answer', async () => {
    const unreachable = `http://127.0.0.1:${await freePort()}`;
    const { base, logs } = await startServer({ adminToken: ADMIN, prometheusUrl: unreachable });
    const reply = await request(base, '/ui/power', { headers: { Cookie: await cookieOf(base, ADMIN) } });
    expect(reply.status).toBe(502);
    expect(reply.json().error).toMatch(new RegExp(`^Prometheus at ${unreachable} did not answer: `));
    expect(logs.some((line) => line.startsWith(`warn: /ui/power: Prometheus at ${unreachable} did not answer`))).toBe(true);
  });

  it('answers 502 when the URL answers something else than Prometheus', async () => {
    // The config server itself: a JSON 404, not a query answer.
    const other = await startServer();
    const { base } = await startServer({ adminToken: ADMIN, prometheusUrl: other.base });
    const reply = await request(base, '/ui/power', { headers: { Cookie: await cookieOf(base, ADMIN) } });
    expect(reply.status).toBe(502);
    expect(reply.json().error).toContain(`Prometheus at ${other.base} refused the query`);
  });
});

import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { mkdir, readdir, stat, writeFile } from 'node:fs/promises';
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { decodeRequestBody, type DecodedSeries } from '../core/src/push/encode';
import { CLI, freePort, REPO, Service, tempDir, waitFor } from './helpers';

/**
 * The push path against real receivers on the loopback: the Jetson replay demo remote-writing to Debian's
 * Prometheus (remote-write receiver on, with an out-of-order window) and VictoriaMetrics, each started here.
 */
const demoConfig = readFileSync(join(REPO, 'examples', 'jetson-replay', 'config.yaml'), 'utf8');
const DEVICE_ID = 'e2e-push-orin';

let dir: string;
let cleanup: () => Promise<void>;
const services: Service[] = [];

function start(name: string, command: string, args: string[], env: NodeJS.ProcessEnv = {}): Service {
  const service = Service.start(name, command, args, { cwd: REPO, env });
  services.push(service);
  return service;
}

/** The replay demo (collecting every `interval` s, on free ports), pushing to `receivers`. */
async function startExporter(name: string, interval: number, receivers: object[]): Promise<{ service: Service; metricsUrl: string }> {
  const configPath = join(dir, `${name}.yaml`);
  const config = demoConfig
    .replace(/^port: \d+$/m, 'port: 0')
    .replace(/^reload_port: \d+$/m, 'reload_port: 0')
    .replace(/^interval: \d+$/m, `interval: ${interval}`);
  await writeFile(configPath, `${config}device_id: ${DEVICE_ID}\nremote_write: ${JSON.stringify(receivers)}\n`);
  const service = start(name, process.execPath, [CLI, '--config', configPath]);
  const port = await service.waitForOutput(/serving \/metrics on 127\.0\.0\.1:(\d+)/);
  return { service, metricsUrl: `http://127.0.0.1:${port}/metrics` };
}

async function startVictoriaMetrics(port: number): Promise<Service> {
  const service = start('victoria-metrics', 'victoria-metrics', [
    `-storageDataPath=${join(dir, 'vm-data')}`,
    `-httpListenAddr=127.0.0.1:${port}`,
    '-search.latencyOffset=0s',
    '-search.disableCache',
    '-retentionPeriod=1y',
  ]);
  await waitFor(async () => (await fetch(`http://127.0.0.1:${port}/health`)).ok, () => `VictoriaMetrics to answer /health:\n${service.log}`);
  return service;
}

async function startPrometheus(port: number): Promise<Service> {
  // An out-of-order window: a device's backlog of hours arrives behind what Prometheus already holds.
  await writeFile(join(dir, 'prometheus.yml'), 'storage:\n  tsdb:\n    out_of_order_time_window: 2h\n');
  const service = start('prometheus', 'prometheus', [
    `--config.file=${join(dir, 'prometheus.yml')}`,
    `--storage.tsdb.path=${join(dir, 'prometheus-data')}`,
    `--web.listen-address=127.0.0.1:${port}`,
    '--web.enable-remote-write-receiver',
  ]);
  await service.waitForOutput(/Server is ready to receive web requests/);
  return service;
}

/** The raw samples (seconds, value) of the one series `selector` selects over the last `window`, via PromQL. */
async function rawSamples(baseUrl: string, selector: string, window = '10m'): Promise<Array<[number, number]>> {
  const response = await fetch(`${baseUrl}/api/v1/query?query=${encodeURIComponent(`${selector}[${window}]`)}`);
  const body = (await response.json()) as { status: string; error?: string; data: { result: Array<{ values: Array<[number, string]> }> } };
  if (body.status !== 'success') throw new Error(`${selector}: ${body.error}`);
  if (body.data.result.length !== 1) return [];
  return body.data.result[0]!.values.map(([at, value]) => [at, Number(value)]);
}

/** VictoriaMetrics' export of one series: every stored sample, duplicates included (ms timestamps). */
async function exported(baseUrl: string, selector: string): Promise<number[]> {
  const response = await fetch(`${baseUrl}/api/v1/export?match[]=${encodeURIComponent(selector)}`);
  const lines = (await response.text()).trim().split('\n').filter(Boolean);
  return lines.flatMap((line) => (JSON.parse(line) as { timestamps: number[] }).timestamps).sort((a, b) => a - b);
}

/** A receiver that keeps every request it is sent, decoded: what the exporter pushed, to compare the real ones with. */
async function recorder(): Promise<{ url: string; series: DecodedSeries[]; server: Server }> {
  const series: DecodedSeries[] = [];
  const record = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    series.push(...decodeRequestBody(Buffer.concat(chunks)));
    response.writeHead(204).end();
  };
  const server = createServer((request, response) => void record(request, response));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v1/write`, series, server };
}

/** A self-metric of the exporter: the sample of `name` whose labels include every one of `labels` (`receiver="vm"`). */
const selfMetric = async (metricsUrl: string, name: string, ...labels: string[]): Promise<number | undefined> => {
  const text = await (await fetch(metricsUrl)).text();
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${name}{`) && labels.every((label) => candidate.includes(label)));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
};

const POWER = `power_total_watts{instance="${DEVICE_ID}"}`;
/** A series whose value changes every cycle, so that a timestamp carrying the wrong value shows. */
const ENERGY = `energy_joules_total{instance="${DEVICE_ID}"}`;

beforeEach(async () => {
  ({ path: dir, cleanup } = await tempDir());
});
afterEach(async () => {
  for (const service of services.splice(0).reverse()) await service.stop();
  await cleanup();
});

test('Prometheus and VictoriaMetrics receive the values the exporter collected, with their timestamps', async () => {
  const [promPort, vmPort] = [await freePort(), await freePort()];
  await startPrometheus(promPort);
  await startVictoriaMetrics(vmPort);
  const recording = await recorder();
  try {
    const queue = { batch_send_deadline: '1s' };
    const { service } = await startExporter('exporter', 1, [
      { url: `http://127.0.0.1:${promPort}/api/v1/write`, name: 'prometheus', queue },
      { url: `http://127.0.0.1:${vmPort}/api/v1/write`, name: 'victoria-metrics', queue },
      { url: recording.url, name: 'recorder', queue },
    ]);
    const pushed = () => recording.series.filter((series) => series.labels.__name__ === 'energy_joules_total').flatMap((series) => series.samples);
    await waitFor(() => pushed().length >= 6, 'six cycles of energy_joules_total pushed');
    // Each receiver has its own queue: compared on the cycles the recorder has, which the others reach in turn.
    const sent = pushed().map(({ timestamp, value }) => [timestamp / 1000, value] as const);
    const power = recording.series.find((series) => series.labels.__name__ === 'power_total_watts')!;
    // The labels of /metrics plus the device's identity.
    expect(power.labels).toMatchObject({ device_type: 'jetson_orin', instance: DEVICE_ID, job: 'edge-power' });
    // The AGX Orin of the trace: the sum of its four rails.
    expect(power.samples[0]!.value).toBeCloseTo(10.135, 6);
    for (const [name, baseUrl] of [['Prometheus', `http://127.0.0.1:${promPort}`], ['VictoriaMetrics', `http://127.0.0.1:${vmPort}`]]) {
      const stored = await waitFor(async () => {
        const samples = await rawSamples(baseUrl!, ENERGY);
        return samples.length >= sent.length ? samples.slice(0, sent.length) : undefined;
      }, () => `${name} to hold the ${sent.length} samples pushed; the exporter logged:\n${service.log}\n${services.find((one) => one.name === name.toLowerCase())?.log ?? ''}`);
      // Timestamps to the millisecond; values as stored (VictoriaMetrics keeps 12 significant digits).
      expect({ name, timestamps: stored.map(([at]) => at) }).toEqual({ name, timestamps: sent.map(([at]) => at) });
      stored.forEach(([, value], i) => expect(Math.abs(value - sent[i]![1])).toBeLessThanOrEqual(Math.abs(sent[i]![1]) * 1e-10));
      expect((await rawSamples(baseUrl!, POWER)).map(([, value]) => value)).toContain(power.samples[0]!.value);
    }
  } finally {
    recording.server.close();
  }
});

test('receiver down, exporter killed with SIGKILL and restarted meanwhile: once it is back it has every cycle once; a SIGKILL while sending resends at most a batch', async () => {
  const vmPort = await freePort();
  const vmUrl = `http://127.0.0.1:${vmPort}`;
  let vm = await startVictoriaMetrics(vmPort);
  // Always up, unaffected by the outage: the timestamps of the cycles the exporter ran.
  const recording = await recorder();
  try {
    const receivers = [
      { url: `${vmUrl}/api/v1/write`, name: 'vm', timeout: '2s', queue: { batch_send_deadline: '1s' } },
      { url: recording.url, name: 'recorder', queue: { batch_send_deadline: '1s' } },
    ];
    let exporter = await startExporter('exporter', 0.5, receivers);
    await waitFor(async () => (await exported(vmUrl, ENERGY)).length >= 4, 'the first samples in VictoriaMetrics');

    await vm.stop();
    await new Promise((resolve) => setTimeout(resolve, 10_000));
    await exporter.service.kill();
    exporter = await startExporter('exporter', 0.5, receivers);
    await new Promise((resolve) => setTimeout(resolve, 10_000));
    const pendingBefore = await selfMetric(exporter.metricsUrl, 'edge_remote_write_pending_samples', 'receiver="vm"');
    expect(pendingBefore).toBeGreaterThan(0);

    const back = Date.now();
    vm = await startVictoriaMetrics(vmPort);
    // Caught up: what is pending is only what waits for batch_send_deadline (1 s).
    await waitFor(async () => (await selfMetric(exporter.metricsUrl, 'edge_remote_write_oldest_pending_age_seconds', 'receiver="vm"'))! < 2, 'the backlog to be sent', 120_000);
    console.log(`catch-up: ${pendingBefore} samples pending when VictoriaMetrics came back, sent within ${((Date.now() - back) / 1000).toFixed(1)} s`);
    const duplicatesBefore = (await exported(vmUrl, ENERGY)).length - new Set(await exported(vmUrl, ENERGY)).size;

    // Killed again while sending normally: what it sent and was not acknowledged is sent again, nothing more.
    await exporter.service.kill();
    const restarted = Date.now();
    exporter = await startExporter('exporter', 0.5, receivers);
    const energy = () => recording.series.filter((series) => series.labels.__name__ === 'energy_joules_total');
    const ran = () => [...new Set(energy().flatMap((series) => series.samples.map((sample) => sample.timestamp)))].sort((a, b) => a - b);
    await waitFor(() => ran().filter((at) => at > restarted).length >= 6, 'cycles after the second restart at the recorder');
    await waitFor(async () => (await exported(vmUrl, ENERGY)).at(-1)! > restarted, 'cycles after the second restart in VictoriaMetrics');

    const stored = await exported(vmUrl, ENERGY);
    // Both receivers hold a prefix of the cycles run (each sends at its own pace): compared up to the shorter.
    const upTo = Math.min(stored.at(-1)!, ran().at(-1)!);
    const cycles = ran().filter((at) => at <= upTo);
    const unique = [...new Set(stored)].filter((at) => at <= upTo);
    expect(cycles.length).toBeGreaterThan(30);
    // No gap: every cycle run is there.
    expect(cycles.filter((at) => !unique.includes(at))).toEqual([]);
    // Nothing the recorder lacks, but a cycle written to VictoriaMetrics' queue and not yet to the recorder's when
    // a SIGKILL came (one per kill at most).
    expect(unique.length - cycles.length).toBeLessThanOrEqual(2);
    // No duplicate from the outage and the first kill; from the second, at most the batch that was in flight: a batch
    // holds at most max_samples_per_send (2000) samples, and a cycle's samples are not split.
    expect(duplicatesBefore).toBe(0);
    const perCycle = recording.series.filter((series) => series.samples[0]!.timestamp === cycles[0]).length;
    expect(stored.length - new Set(stored).size).toBeLessThanOrEqual(Math.ceil(2000 / perCycle) + 1);
  } finally {
    recording.server.close();
  }
});

test('a tiny max_disk_mb with the receiver down drops the oldest, counts them, and collection goes on', async () => {
  const queueDir = join(dir, 'queue');
  await mkdir(queueDir);
  const { metricsUrl } = await startExporter('exporter', 0.1, [{ url: 'http://127.0.0.1:9/api/v1/write', name: 'down', queue: { dir: queueDir, max_disk_mb: 0.02 } }]);
  const dropped = () => selfMetric(metricsUrl, 'edge_remote_write_samples_dropped_total', 'receiver="down"', 'reason="max_disk"');
  await waitFor(async () => ((await dropped()) ?? 0) > 0, 'samples dropped for max_disk_mb', 60_000);
  const appended = async () => (await selfMetric(metricsUrl, 'edge_remote_write_samples_appended_total', 'receiver="down"'))!;
  const before = await appended();
  await waitFor(async () => (await appended()) > before, 'collection (and appending) to go on');
  const files = await readdir(queueDir);
  const bytes = (await Promise.all(files.map((file) => stat(join(queueDir, file))))).reduce((sum, file) => sum + file.size, 0);
  expect(bytes).toBeLessThanOrEqual(0.02 * 2 ** 20 + 100);
  expect((await fetch(metricsUrl)).status).toBe(200);
});

test('bearer and basic auth through a proxy that checks them: the right credentials reach VictoriaMetrics, wrong ones are refused and counted', async () => {
  const vmPort = await freePort();
  const vmUrl = `http://127.0.0.1:${vmPort}`;
  await startVictoriaMetrics(vmPort);
  const accepted = new Set([`Bearer fleet-token`, `Basic ${Buffer.from('orin:pa55').toString('base64')}`]);
  // The proxy a central receiver sits behind: 401 without the right Authorization, else the request passed on.
  const proxy = createServer((incoming, outgoing) => {
    if (!accepted.has(incoming.headers.authorization ?? '')) {
      incoming.resume();
      outgoing.writeHead(401).end('unauthorized');
      return;
    }
    const upstream = request(`${vmUrl}${incoming.url}`, { method: incoming.method, headers: incoming.headers }, (answer) => {
      outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(outgoing);
    });
    incoming.pipe(upstream);
  });
  proxy.listen(0, '127.0.0.1');
  await once(proxy, 'listening');
  const proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}/api/v1/write`;
  try {
    await writeFile(join(dir, 'password'), 'pa55\n');
    const queue = { batch_send_deadline: '1s' };
    const { metricsUrl } = await startExporter('exporter', 0.5, [
      { url: proxyUrl, name: 'bearer', bearer_token: 'fleet-token', queue },
      { url: `${proxyUrl}?via=basic`, name: 'basic', basic_auth: { username: 'orin', password_file: join(dir, 'password') }, queue },
      { url: `${proxyUrl}?via=wrong`, name: 'wrong', basic_auth: { username: 'orin', password: 'guess' }, queue },
    ]);
    const sent = (receiver: string) => selfMetric(metricsUrl, 'edge_remote_write_samples_sent_total', `receiver="${receiver}"`);
    const rejected = () => selfMetric(metricsUrl, 'edge_remote_write_samples_dropped_total', 'receiver="wrong"', 'reason="rejected"');
    await waitFor(async () => (await sent('bearer'))! > 0 && (await sent('basic'))! > 0 && (await rejected())! > 0, 'both sending and the wrong password refused');
    expect(await sent('wrong')).toBe(0);
    // Through the proxy, into VictoriaMetrics.
    await waitFor(async () => (await exported(vmUrl, ENERGY)).length >= 4, 'the samples in VictoriaMetrics');
  } finally {
    proxy.close();
  }
});

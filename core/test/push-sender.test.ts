import { once } from 'node:events';
import { writeFile } from 'node:fs/promises';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { parseConfig } from '../src/config/schema';
import { render, type ExpositionFamily } from '../src/metrics/exposition';
import { SelfMetrics } from '../src/metrics/self-metrics';
import { decodeRequestBody, type DecodedSeries } from '../src/push/encode';
import { PushManager } from '../src/push/manager';
import { exporterSandbox, memoryLogger, pluginSource, seriesValue, tempDir, waitFor, type ExporterSandbox } from './helpers';

interface Received {
  headers: IncomingMessage['headers'];
  series: DecodedSeries[];
}

/** A remote-write receiver on the loopback: `answer` decides each request's fate; what it acknowledged is kept. */
async function receiver(answer: (request: IncomingMessage, response: ServerResponse, received: Received) => boolean | void) {
  const acknowledged: Received[] = [];
  const requests: Received[] = [];
  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const received = { headers: request.headers, series: decodeRequestBody(Buffer.concat(chunks)) };
    requests.push(received);
    if (answer(request, response, received) === false) return;
    if (!response.headersSent) {
      acknowledged.push(received);
      response.writeHead(204).end();
    }
  };
  const server: Server = createServer((request, response) => void handle(request, response));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v1/write`;
  return { url, acknowledged, requests, close: () => new Promise((resolve) => server.closeAllConnections() ?? server.close(resolve)) };
}

/** One cycle: `count` series of power_total_watts (label `rail`), each worth `value`. */
function cycleFamilies(value: number, count = 3): ExpositionFamily[] {
  return [{
    name: 'power_total_watts',
    help: 'Power',
    type: 'gauge',
    samples: Array.from({ length: count }, (_, i) => ({ name: 'power_total_watts', labels: [['device_type', 'jetson_orin'], ['hostname', 'orin-01'], ['rail', `r${i}`]] as const, value: value + i })),
  }];
}

let dir: string;
let cleanup: () => Promise<void>;
let manager: PushManager | undefined;
let closeReceiver: (() => Promise<unknown>) | undefined;
let self: SelfMetrics;
const log = memoryLogger();

beforeEach(async () => {
  ({ path: dir, cleanup } = await tempDir());
  self = new SelfMetrics();
  log.lines.length = 0;
});
afterEach(async () => {
  await manager?.stop();
  manager = undefined;
  await closeReceiver?.();
  await cleanup();
});

/** Tests hand cycles to `append` themselves: no runtime to listen to. */
const noRuntime = () => () => undefined;

/** A push manager for one receiver at `url`, from a config as written in config.yaml. */
async function pushTo(url: string, entry: Record<string, unknown> = {}, env: NodeJS.ProcessEnv = {}): Promise<PushManager> {
  const config = parseConfig({ device_id: 'orin-01', remote_write: [{ url, name: 'central', timeout: 2, ...entry, queue: { batch_send_deadline: '10ms', ...(entry.queue as object) } }] }, 'test');
  manager = new PushManager(self, log.logger, env, noRuntime);
  await manager.configure(manager.plan(config, join(dir, 'config.yaml')));
  return manager;
}

async function selfMetric(selector: string): Promise<number | undefined> {
  return seriesValue(render(await self.families([]), 'prometheus'), selector);
}

const samplesOf = (received: Received[]) => received.flatMap(({ series }) => series);
/** Collection times within max_age: a minute ago, plus seconds. */
const t0 = Date.now() - 60_000;
const at = (seconds: number) => t0 + seconds * 1000;

test('each cycle arrives as remote-write 1.0 with its timestamp, the labels of /metrics plus instance and job, sorted', async () => {
  const server = await receiver(() => undefined);
  closeReceiver = server.close;
  const push = await pushTo(server.url);
  push.append(cycleFamilies(10), at(0));
  push.append(cycleFamilies(20), at(1));
  await waitFor(() => samplesOf(server.acknowledged).length === 6, 'six samples at the receiver');

  const { headers } = server.acknowledged[0]!;
  expect(headers['content-encoding']).toBe('snappy');
  expect(headers['content-type']).toBe('application/x-protobuf');
  expect(headers['x-prometheus-remote-write-version']).toBe('0.1.0');
  const first = samplesOf(server.acknowledged)[0]!;
  expect(Object.keys(first.labels)).toEqual(['__name__', 'device_type', 'hostname', 'instance', 'job', 'rail']);
  expect(first.labels).toEqual({ __name__: 'power_total_watts', device_type: 'jetson_orin', hostname: 'orin-01', instance: 'orin-01', job: 'edge-power', rail: 'r0' });
  expect(samplesOf(server.acknowledged).map((series) => [series.labels.rail, series.samples])).toEqual([
    ['r0', [{ value: 10, timestamp: at(0) }]],
    ['r1', [{ value: 11, timestamp: at(0) }]],
    ['r2', [{ value: 12, timestamp: at(0) }]],
    ['r0', [{ value: 20, timestamp: at(1) }]],
    ['r1', [{ value: 21, timestamp: at(1) }]],
    ['r2', [{ value: 22, timestamp: at(1) }]],
  ]);
  await waitFor(async () => (await selfMetric('edge_remote_write_samples_sent_total{receiver="central"}')) === 6, 'sent_total 6');
  expect(await selfMetric('edge_remote_write_samples_appended_total{receiver="central"}')).toBe(6);
  expect(await selfMetric('edge_remote_write_pending_samples{receiver="central"}')).toBe(0);
  expect(await selfMetric('edge_remote_write_last_success_timestamp_seconds{receiver="central"}')).toBeGreaterThan(0);
  // A series that carries an identity label itself (from `labels:`) keeps its own.
  push.append([{ name: 'up_like', help: '', type: 'gauge', samples: [{ name: 'up_like', labels: [['instance', 'rack-3'], ['device_type', 'x']], value: 1 }] }], at(2));
  await waitFor(() => samplesOf(server.acknowledged).length === 7, 'the seventh sample');
  expect(samplesOf(server.acknowledged)[6]!.labels).toEqual({ __name__: 'up_like', device_type: 'x', instance: 'rack-3', job: 'edge-power' });
});

test('a receiver that answers 400 to everything does not block the queue: each batch is dropped, counted, logged once', async () => {
  const server = await receiver((_, response) => void response.writeHead(400).end('out of bounds'));
  closeReceiver = server.close;
  const push = await pushTo(server.url, { queue: { max_samples_per_send: 3 } });
  for (let n = 0; n < 5; n++) push.append(cycleFamilies(n), Date.now());
  await waitFor(async () => (await selfMetric('edge_remote_write_samples_dropped_total{receiver="central",reason="rejected"}')) === 15, 'all 15 samples dropped as rejected');
  expect(await selfMetric('edge_remote_write_pending_samples{receiver="central"}')).toBe(0);
  expect(await selfMetric('edge_remote_write_samples_retried_total{receiver="central"}')).toBe(0);
  expect(server.requests).toHaveLength(5);
  expect(log.lines.filter((line) => line.includes('HTTP 400'))).toEqual([expect.stringContaining('(out of bounds): dropped, not retried')]);
});

test('429 and 503 are retried until the receiver takes the batch: every sample once, in order', async () => {
  const answers = [503, 429, 503];
  const server = await receiver((_, response) => {
    const status = answers.shift();
    if (status) response.writeHead(status, status === 429 ? { 'retry-after': '0' } : {}).end('busy');
  });
  closeReceiver = server.close;
  const push = await pushTo(server.url);
  push.append(cycleFamilies(1), at(1));
  push.append(cycleFamilies(2), at(2));
  await waitFor(async () => (await selfMetric('edge_remote_write_samples_sent_total{receiver="central"}')) === 6, 'the batch accepted after three refusals', 15_000);
  expect(server.requests).toHaveLength(4);
  expect(samplesOf(server.acknowledged).map((series) => series.samples[0]!.timestamp)).toEqual([at(1), at(1), at(1), at(2), at(2), at(2)]);
  expect(await selfMetric('edge_remote_write_samples_retried_total{receiver="central"}')).toBe(18);
  expect(log.lines.filter((line) => line.includes('retrying with backoff'))).toHaveLength(1);
  expect(log.lines.some((line) => line.includes('sending again'))).toBe(true);
});

test('a receiver that accepts the request and never answers is bounded by timeout, then retried', async () => {
  let hung = 0;
  const server = await receiver(() => {
    return hung++ === 0 ? false : undefined; // never answers the first
  });
  closeReceiver = server.close;
  const push = await pushTo(server.url, { timeout: '1s' });
  push.append(cycleFamilies(5), at(5));
  await waitFor(() => server.acknowledged.length === 1, 'the batch sent again after the timeout', 15_000);
  expect(log.lines.some((line) => line.includes('no answer within 1 s (timeout)'))).toBe(true);
  expect(samplesOf(server.acknowledged)).toHaveLength(3);
});

test.each([
  ['bearer_token', { bearer_token: 's3cret' }, 'Bearer s3cret'],
  ['bearer_token_file', { bearer_token_file: 'token.txt' }, 'Bearer from-file'],
  ['basic_auth', { basic_auth: { username: 'edge', password: 'pw' } }, `Basic ${Buffer.from('edge:pw').toString('base64')}`],
  ['basic_auth password_file', { basic_auth: { username: 'edge', password_file: 'token.txt' } }, `Basic ${Buffer.from('edge:from-file').toString('base64')}`],
])('%s is sent; a receiver that checks it takes the samples', async (_, auth, expected) => {
  await writeFile(join(dir, 'token.txt'), 'from-file\n');
  const server = await receiver((request, response) => {
    if (request.headers.authorization !== expected) response.writeHead(401).end('unauthorized');
  });
  closeReceiver = server.close;
  const push = await pushTo(server.url, { ...auth, headers: { 'X-Scope-OrgID': 'fleet' } });
  push.append(cycleFamilies(1), at(1));
  await waitFor(() => server.acknowledged.length === 1, 'the authorized request');
  expect(server.acknowledged[0]!.headers['x-scope-orgid']).toBe('fleet');
  expect(await selfMetric('edge_remote_write_samples_dropped_total{receiver="central",reason="rejected"}')).toBe(0);
});

test('what was queued while the receiver was away is sent when it is back, after a restart of the exporter too', async () => {
  const queue = { dir: 'queue' };
  const first = await pushTo('http://127.0.0.1:9/api/v1/write', { queue }); // the discard port: nothing listens
  for (let n = 0; n < 4; n++) first.append(cycleFamilies(n), at(n + 1));
  await waitFor(async () => (await selfMetric('edge_remote_write_samples_retried_total{receiver="central"}'))! > 0, 'a failed send');
  await first.stop();

  const server = await receiver(() => undefined);
  closeReceiver = server.close;
  self = new SelfMetrics();
  await pushTo(server.url, { queue });
  await waitFor(() => samplesOf(server.acknowledged).length === 12, 'the backlog of four cycles');
  expect(samplesOf(server.acknowledged).map((series) => series.samples[0]!.timestamp)).toEqual([1, 2, 3, 4].flatMap((n) => [at(n), at(n), at(n)]));
});

test('by default the queue is beside the config file, in a folder named by the URL; two receivers may not share one', () => {
  const plan = (remote_write: unknown[]) => new PushManager(new SelfMetrics(), log.logger, {}, noRuntime).plan(parseConfig({ remote_write }, 'test'), join(dir, 'config.yaml'));
  const [a, b] = plan([{ url: 'http://a:8428/api/v1/write' }, { url: 'http://b:8428/api/v1/write' }]).receivers;
  expect(a!.queueDir.startsWith(join(dir, '.remote-write'))).toBe(true);
  expect(a!.queueDir).not.toBe(b!.queueDir);
  expect(plan([{ url: 'http://a:8428/api/v1/write', name: 'renamed' }]).receivers[0]!.queueDir).toBe(a!.queueDir);
  expect(a!.name).toBe('a:8428/api/v1/write');
  expect(() => plan([{ url: 'http://a:8428/api/v1/write', queue: { dir: 'q' } }, { url: 'http://b:8428/api/v1/write', queue: { dir: 'q' } }])).toThrow(/remote_write\[1\]: same name or queue dir as remote_write\[0\]/);
  expect(() => plan([{ url: 'http://a/', bearer_token: 'x', basic_auth: { username: 'u' } }])).toThrow(/remote_write\[0\]: bearer_token and basic_auth are exclusive/);
  expect(() => plan([{ url: 'http://a/', bearer_token_file: 'missing' }])).toThrow(`${join(dir, 'config.yaml')}: remote_write[0].bearer_token_file: cannot read ${join(dir, 'missing')}`);
});

test('https: a receiver with a certificate of its own CA is reached with tls.ca_file, or insecure_skip_verify; without either it is not', async () => {
  // A self-signed certificate for 127.0.0.1, made for this test.
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'ca.pem'), '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
  let requests = 0;
  const server = createHttpsServer({ key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'ca.pem')) }, (request, response) => {
    requests++;
    request.resume();
    request.on('end', () => response.writeHead(204).end());
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  closeReceiver = () => new Promise((resolve) => server.closeAllConnections() ?? server.close(resolve));
  const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}/api/v1/write`;
  let runs = 0;
  const sentWith = async (entry: Record<string, unknown>) => {
    self = new SelfMetrics();
    const push = await pushTo(url, { ...entry, queue: { dir: `queue-${++runs}` } });
    push.append(cycleFamilies(1), at(1));
    await waitFor(async () => (await selfMetric('edge_remote_write_samples_sent_total{receiver="central"}'))! > 0 || (await selfMetric('edge_remote_write_samples_retried_total{receiver="central"}'))! > 0, 'an answer or a failure');
    const sent = await selfMetric('edge_remote_write_samples_sent_total{receiver="central"}');
    await push.stop();
    manager = undefined;
    return sent;
  };
  expect(await sentWith({ tls: { ca_file: 'ca.pem' } })).toBe(3);
  expect(await sentWith({ tls: { insecure_skip_verify: true } })).toBe(3);
  expect(await sentWith({})).toBe(0);
  expect(log.lines.some((line) => /self[- ]signed certificate/.test(line))).toBe(true);
  expect(requests).toBe(2);
});

describe('in the exporter', () => {
  let sandbox: ExporterSandbox;
  beforeEach(async () => {
    sandbox = await exporterSandbox({ 'edge-collector-good': pluginSource('edge-collector-good', 'good', 'good') }, log.logger);
  });
  afterEach(() => sandbox.stop());

  test('remote_write is hot-reloaded: a receiver added starts, a bad entry keeps the config in force, a removed one stops', async () => {
    const server = await receiver(() => undefined);
    closeReceiver = server.close;
    const base = 'device_type: good\ndevice_id: orin-07\ninterval: 0.2\nnew_metrics_default: true\n';
    const exporter = await sandbox.start(base);
    const text = () => exporter.metricsText('prometheus');
    const entry = `remote_write:\n  - url: ${server.url}\n    name: central\n    queue: { batch_send_deadline: 10ms }\n`;
    await writeFile(sandbox.configPath, base + entry);
    await waitFor(() => samplesOf(server.acknowledged).some((series) => series.labels.__name__ === 'good_power_watts'), 'samples pushed after the edit');
    const pushed = samplesOf(server.acknowledged).find((series) => series.labels.__name__ === 'good_power_watts')!;
    expect(pushed.labels).toMatchObject({ device_type: 'good', instance: 'orin-07', job: 'edge-power', sensor: 'main' });
    expect(pushed.samples[0]!.value).toBe(1.5);
    await waitFor(async () => (await text()).includes('edge_remote_write_samples_sent_total{'), 'the push self-metrics');

    await writeFile(sandbox.configPath, `${base}${entry}    bearer_token_file: missing-token\n`);
    await waitFor(() => log.lines.some((line) => line.includes('remote_write[0].bearer_token_file: cannot read')), 'the refused reload');
    const count = server.acknowledged.length;
    await waitFor(() => server.acknowledged.length > count, 'pushing to go on with the config in force');

    await writeFile(sandbox.configPath, base);
    await waitFor(async () => !(await text()).includes('receiver="central"'), 'the receiver and its series gone');
    const after = server.requests.length;
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(server.requests.length).toBe(after);
  });
});

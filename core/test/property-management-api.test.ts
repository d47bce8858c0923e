import { readFile } from 'node:fs/promises';
import { request } from 'node:http';
import { connect } from 'node:net';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import type { Exporter } from '../src/exporter';
import type { Listening } from '../src/http/server';
import { exporterSandbox, memoryLogger, pluginSource, waitFor, type ExporterSandbox } from './helpers';

/**
 * The HTTP listener of a real exporter (metrics and management routes on one port, with a token) answering
 * generated requests: any method, path, headers and body. None gets a 5xx or a dropped connection, nothing
 * changes the config, and the exporter keeps serving.
 */

const TOKEN = 'mgmt-7d1e0c5a9b3f';

interface Answer {
  status: number;
  body: string;
}

function send(port: number, method: string, path: string, headers: Record<string, string>, body: Buffer | undefined): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.setTimeout(10_000, () => req.destroy(new Error(`${method} ${path}: no answer within 10 s`)));
    req.on('error', reject);
    req.end(body);
  });
}

/** Bytes written on a raw connection; resolves with the status line of the answer. */
function sendRaw(port: number, bytes: Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.end(bytes));
    let answer = '';
    socket.setTimeout(10_000, () => socket.destroy(new Error('no answer within 10 s')));
    socket.on('data', (chunk: Buffer) => (answer += chunk.toString('latin1')));
    socket.on('close', () => resolve(answer.split('\r\n')[0] ?? ''));
    socket.on('error', reject);
  });
}

const segment = fc.oneof(
  fc.constantFrom('metrics', 'enable', 'list', 'reload', 'healthz', '..', '.', '', '%2e%2e', '%2F', '%00', 'METRICS', 'Reload', '*', '%', '%zz', ';x=1'),
  fc.webSegment(),
  fc.string({ maxLength: 8 }).map(encodeURIComponent),
);
const path = fc.oneof(
  fc.constantFrom('/metrics', '/metrics/', '/metrics/enable', '/metrics/list', '/reload', '/healthz', '/', '//reload', '/metrics/../reload', '/reload?x=1&x=2', '/metrics/enable#frag', '*'),
  fc.array(segment, { minLength: 1, maxLength: 5 }).map((parts) => `/${parts.join('/')}`),
  fc.tuple(fc.constantFrom('/metrics/enable', '/reload', '/metrics/list'), fc.webQueryParameters()).map(([route, query]) => `${route}?${query}`),
);
const method = fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS', 'TRACE', 'PROPFIND', 'MKCOL', 'LOCK', 'SEARCH', 'PURGE');
const headerValue = fc.stringMatching(/^[\x20-\x7e]{0,40}$/);
const headers = fc.record(
  {
    authorization: fc.oneof(fc.constant(`Bearer ${TOKEN}`), fc.constant(`bearer ${TOKEN}`), fc.constant(`Bearer ${TOKEN} `), fc.constant(`Bearer ${TOKEN.slice(0, -1)}`), fc.constant('Basic YWRtaW46YWRtaW4='), headerValue),
    'content-type': fc.oneof(fc.constantFrom('application/json', 'application/json; charset=utf-16', 'application/json; charset=bogus', 'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', '*/*'), headerValue),
    'content-encoding': fc.constantFrom('gzip', 'deflate', 'br', 'identity', 'x-unknown'),
    accept: fc.oneof(fc.constantFrom('application/openmetrics-text;version=1.0.0', 'application/json', '*/*'), headerValue),
    'x-forwarded-for': headerValue,
    expect: fc.constantFrom('100-continue'),
  },
  { requiredKeys: [] },
);
const body = fc.oneof(
  fc.constant(undefined),
  fc.jsonValue().map((value) => Buffer.from(JSON.stringify(value) ?? 'null')),
  fc.dictionary(fc.string({ maxLength: 30 }), fc.oneof(fc.boolean(), fc.jsonValue({ maxDepth: 1 })), { maxKeys: 4 }).map((value) => Buffer.from(JSON.stringify(value))),
  fc.string({ maxLength: 200 }).map((text) => Buffer.from(text)),
  fc.uint8Array({ maxLength: 200 }).map((bytes) => Buffer.from(bytes)),
  fc.jsonValue().map((value) => gzipSync(JSON.stringify(value) ?? 'null')),
  fc.nat(40).map((depth) => Buffer.from(`${'{"a":'.repeat(depth * 100)}1${'}'.repeat(depth * 100)}`)),
  fc.integer({ min: 60_000, max: 200_000 }).map((size) => Buffer.from(JSON.stringify({ good_power_watts: true, padding: 'x'.repeat(size) }))),
);

describe('the management API on generated requests', () => {
  let sandbox: ExporterSandbox;
  let exporter: Exporter;
  let listening: Listening;
  let configPath: string;
  const log = memoryLogger();

  beforeAll(async () => {
    sandbox = await exporterSandbox({ 'edge-collector-good': pluginSource('edge-collector-good', 'good', 'good') }, log.logger);
    configPath = sandbox.configPath;
    ({ exporter, listening } = await sandbox.serve(`device_type: good\ninterval: 0.1\nport: 0\nreload_port: 0\nlisten_address: 127.0.0.1\nmanagement_token: ${TOKEN}\nmetrics:\n  good_power_watts: true\n`));
    await waitFor(async () => (await exporter.metricsText('prometheus')).includes('good_power_watts{'), 'a first cycle');
  });

  afterAll(() => sandbox.stop());

  test('1500 generated requests: a 2xx only where the request is right, else a 4xx, never a 5xx; nothing changes', async () => {
    const before = await readFile(configPath, 'utf8');
    const statuses = new Map<number, number>();
    // Half of them aimed at the routes that read a body, with the right token, so that they get past routing and auth.
    const aimed = fc.tuple(fc.constantFrom('POST', 'POST', 'POST', 'PUT'), fc.constantFrom('/metrics/enable', '/reload', '/metrics/enable?x=1'), headers, body).map(
      ([verb, target, sent, payload]) => [verb, target, { ...sent, authorization: `Bearer ${TOKEN}` }, payload] as const,
    );
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.tuple(method, path, headers, body), aimed), async ([verb, target, sent, payload]) => {
        const answer = await send(listening.port, verb, target, sent, payload);
        statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
        expect(answer.status).toBeGreaterThanOrEqual(200);
        expect(answer.status).toBeLessThan(500);
        if (answer.status === 200 && /^\/(reload|metrics\/list|metrics\/enable)\b/i.test(target)) {
          expect(sent.authorization?.trim()).toMatch(new RegExp(`^Bearer ${TOKEN}$`, 'i'));
        }
      }),
      { numRuns: 1500 },
    );
    expect(await readFile(configPath, 'utf8')).toBe(before);
    expect(exporter.listMetrics().metrics).toEqual({ good_power_watts: true });
    // The requests reached every kind of refusal: bad body, no token, no route, wrong method, too large, wrong type.
    expect([...statuses.keys()]).toEqual(expect.arrayContaining([400, 401, 404, 405, 413, 415]));
    expect(log.lines.filter((line) => line.startsWith('error:'))).toEqual([]);
    expect((await send(listening.port, 'GET', '/healthz', {}, undefined)).status).toBe(200);
  });

  test('300 generated raw byte streams get a 4xx or a closed connection, and the exporter keeps serving', async () => {
    const requestLine = fc.tuple(method, fc.stringMatching(/^[\x00-\x7f]{0,30}$/), fc.constantFrom('HTTP/1.1', 'HTTP/1.0', 'HTTP/2.0', 'HTTP/9', ''));
    const raw = fc.oneof(
      fc.uint8Array({ maxLength: 300 }).map((bytes) => Buffer.from(bytes)),
      fc.tuple(requestLine, fc.array(fc.tuple(fc.string({ maxLength: 10 }), fc.string({ maxLength: 20 })), { maxLength: 4 }), fc.string({ maxLength: 50 })).map(([[verb, target, version], fields, text]) =>
        Buffer.from(`${verb} ${target} ${version}\r\n${fields.map(([name, value]) => `${name}: ${value}\r\n`).join('')}Content-Length: ${text.length}\r\n\r\n${text}`, 'latin1'),
      ),
    );
    await fc.assert(
      fc.asyncProperty(raw, async (bytes) => {
        const statusLine = await sendRaw(listening.port, bytes);
        if (statusLine !== '') expect(statusLine).toMatch(/^HTTP\/1\.[01] [1-4]\d\d /);
      }),
      { numRuns: 300 },
    );
    const health = await send(listening.port, 'GET', '/healthz', {}, undefined);
    expect(health).toEqual({ status: 200, body: '{"status":"ok"}' });
  });
});

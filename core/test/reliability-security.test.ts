import { readFile, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { stringify } from 'yaml';
import type { Exporter } from '../src/exporter';
import type { Listening } from '../src/http/server';
import { exporterSandbox, memoryLogger, pluginSource, waitFor, type ExporterSandbox } from './helpers';

/**
 * What an attacker can put into /metrics, the config file and the log: label values and metric names carrying
 * quotes, newlines and braces come out escaped or are refused, bodies are bounded, and the token stays secret.
 */

interface Series {
  name: string;
  labels: Record<string, string>;
  value: string;
}

const SAMPLE_LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{((?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*",?)*)\})? (\S+)$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"/g;

/**
 * Parses an exposition strictly: every line must be `# HELP`, `# TYPE`, `# EOF` (OpenMetrics) or a sample
 * whose label values are escaped as the formats require. Throws naming the first line that is not.
 */
function parseExposition(text: string): Series[] {
  const series: Series[] = [];
  const lines = text.split('\n');
  expect(lines.pop()).toBe('');
  for (const line of lines) {
    if (/^# (HELP|TYPE) [a-zA-Z_:][a-zA-Z0-9_:]* .*$/.test(line) || line === '# EOF') continue;
    const match = SAMPLE_LINE.exec(line);
    if (!match) throw new Error(`not an exposition line: ${JSON.stringify(line)}`);
    const labels: Record<string, string> = {};
    for (const [, name, escaped] of (match[2] ?? '').matchAll(LABEL)) {
      labels[name!] = escaped!.replace(/\\(.)/g, (_, char: string) => (char === 'n' ? '\n' : char));
    }
    series.push({ name: match[1]!, labels, value: match[3]! });
  }
  return series;
}

describe('injection and secrets', () => {
  let sandbox: ExporterSandbox;
  let exporter: Exporter;
  let listening: Listening;
  let configPath: string;
  const log = memoryLogger();
  const TOKEN = 'tok-5f2b8c1e9d7a6034';
  // Every metric listed, so that the exporter never writes the file itself while a test edits it.
  const base = { device_type: 'good', interval: 0.05, port: 0, reload_port: 0, listen_address: '127.0.0.1', management_token: TOKEN, metrics: { good_power_watts: true, forger_power_watts: true } };

  beforeAll(async () => {
    // A plugin whose label values try to end the series and start a forged one.
    const forging = `return [{ name: 'forger_power_watts', value: 1, labels: { sensor: 'x"} 1\\nforged_metric{a="b"} 666\\n# TYPE forged_metric gauge\\n{\\\\' } }];`;
    sandbox = await exporterSandbox(
      {
        'edge-collector-good': pluginSource('edge-collector-good', 'good', 'good'),
        'edge-collector-forger': pluginSource('edge-collector-forger', 'forger', 'forger', forging),
      },
      log.logger,
    );
    configPath = sandbox.configPath;
    ({ exporter, listening } = await sandbox.serve(stringify({ ...base, collectors: [{ type: 'forger' }] })));
    await waitFor(async () => (await exporter.metricsText('prometheus')).includes('forger_power_watts{'), 'a first cycle');
  });

  afterAll(() => sandbox.stop());

  const url = (path: string) => `http://127.0.0.1:${listening.port}${path}`;
  const scrape = async (accept?: string) => (await fetch(url('/metrics'), accept ? { headers: { accept } } : {})).text();
  const authorized = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };

  test("a plugin's label value cannot end its series or forge another: it comes out escaped, in both formats", async () => {
    for (const accept of [undefined, 'application/openmetrics-text; version=1.0.0']) {
      const series = parseExposition(await scrape(accept));
      expect(series.filter((one) => one.name.startsWith('forged'))).toEqual([]);
      expect(series.find((one) => one.name === 'forger_power_watts')?.labels.sensor).toBe('x"} 1\nforged_metric{a="b"} 666\n# TYPE forged_metric gauge\n{\\');
    }
  });

  test("40 generated sets of config labels: quotes, newlines, backslashes and braces come out escaped and intact", async () => {
    const labelName = fc.stringMatching(/^[a-z][a-z0-9_]{0,8}$/).filter((name) => !['sensor', 'marker', 'hostname'].includes(name));
    const tricky = fc.oneof(
      fc.string({ unit: 'grapheme', maxLength: 20 }),
      fc.array(fc.constantFrom('"', '\\', '\n', '{', '}', '=', ',', ' ', '# ', '\\n', '\\"', 'x'), { maxLength: 12 }).map((parts) => parts.join('')),
    );
    let round = 0;
    await fc.assert(
      fc.asyncProperty(fc.dictionary(labelName, tricky, { minKeys: 1, maxKeys: 4 }), async (labels) => {
        const marker = `round${round++}`;
        // Quoted strings: yaml's block scalars do not round-trip a value such as " \n".
        await writeFile(configPath, stringify({ ...base, collectors: [{ type: 'forger' }], labels: { ...labels, marker } }, { blockQuote: false }));
        expect((await exporter.reload()).ok).toBe(true);
        const served = async (accept?: string) => parseExposition(await scrape(accept)).find((one) => one.name === 'good_power_watts' && one.labels.marker === marker);
        const prometheus = await waitFor(() => served(), 'the new labels to be served');
        const openMetrics = await served('application/openmetrics-text; version=1.0.0');
        for (const one of [prometheus, openMetrics]) {
          expect(one?.labels).toEqual({ device_type: 'good', hostname: expect.any(String), ...labels, marker, sensor: 'main' });
        }
      }),
      { numRuns: 40 },
    );
  });

  test('metric names that carry exposition syntax, paths or control characters are refused and change nothing', async () => {
    const before = await readFile(configPath, 'utf8');
    const names = fc.oneof(
      fc.constantFrom('good_power_watts{sensor="x"}', 'good_power_watts\n', 'good_power_watts 1', '../../etc/passwd', 'good_rail_{rail}_watts', 'good_rail_a"_watts', 'good_rail_a\\n_watts', 'good power watts', '__proto__', 'constructor', ''),
      fc.string({ maxLength: 30 }).filter((name) => !/^[a-zA-Z_:][a-zA-Z0-9_:]*$/.test(name)),
      fc.tuple(fc.constantFrom('good_rail_', 'good_power_watts'), fc.constantFrom('"', '\n', '{', '}', ' ', '/', '\\', '\u0000', '\u2028'), fc.string({ maxLength: 5 })).map((parts) => parts.join('')),
    );
    await fc.assert(
      fc.asyncProperty(names, fc.boolean(), async (name, enabled) => {
        const response = await fetch(url('/metrics/enable'), { method: 'POST', headers: authorized, body: JSON.stringify({ [name]: enabled }) });
        expect(response.status).toBe(400);
      }),
      { numRuns: 300 },
    );
    expect(await readFile(configPath, 'utf8')).toBe(before);
    expect(Object.keys(exporter.listMetrics().metrics).every((name) => /^[a-zA-Z_:][a-zA-Z0-9_:]*$/.test(name))).toBe(true);
  });

  function sendRaw(path: string, headers: Record<string, string>, body?: Buffer): Promise<number> {
    return new Promise((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: listening.port, method: 'POST', path, headers, agent: false }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      req.on('error', reject);
      req.end(body);
    });
  }

  test('request size limits: a compressed body that inflates past the limit gets 413, huge headers 431; the exporter stays up', async () => {
    const bomb = gzipSync(Buffer.from(JSON.stringify({ good_power_watts: true, padding: 'x'.repeat(20_000_000) })));
    expect(bomb.length).toBeLessThan(64 * 1024);
    expect(await sendRaw('/metrics/enable', { ...authorized, 'content-encoding': 'gzip' }, bomb)).toBe(413);
    expect(await sendRaw('/metrics/enable', { ...authorized, 'x-padding': 'x'.repeat(100_000) })).toBe(431);
    expect((await fetch(url('/healthz'))).status).toBe(200);
  });

  test('the management token is in no log line, no /metrics and no /metrics/list, whatever was tried', async () => {
    const guesses = [TOKEN.slice(0, -1), TOKEN.toUpperCase(), `${TOKEN}x`, '', 'Bearer', TOKEN.slice(0, 4)];
    for (const guess of guesses) {
      expect(await sendRaw('/reload', { authorization: `Bearer ${guess}` })).toBe(401);
    }
    // A reload of a file broken on the token's own line.
    const good = await readFile(configPath, 'utf8');
    await writeFile(configPath, good.replace(`management_token: ${TOKEN}`, `management_token: "${TOKEN}\n  oops: [`));
    expect((await exporter.reload()).ok).toBe(false);
    await writeFile(configPath, good.replace(`management_token: ${TOKEN}`, `management_token: [${TOKEN}]`));
    expect((await exporter.reload()).ok).toBe(false);
    await writeFile(configPath, good);
    expect((await exporter.reload()).ok).toBe(true);
    const list = await (await fetch(url('/metrics/list'), { headers: authorized })).text();
    for (const text of [log.lines.join('\n'), await scrape(), await scrape('application/openmetrics-text'), list]) {
      expect(text).not.toContain(TOKEN);
      expect(text).not.toContain(TOKEN.slice(4));
    }
  });
});

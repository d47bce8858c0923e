import { rename, writeFile } from 'node:fs/promises';
import { stringify } from 'yaml';
import type { Exporter } from '../src/exporter';
import type { Listening } from '../src/http/server';
import { exporterSandbox, memoryLogger, pluginSource, waitFor, type ExporterSandbox } from './helpers';

/**
 * /metrics scraped as fast as eight clients can for a few seconds while metrics are switched on and off through
 * the API and the config is edited and reloaded: every scrape succeeds, and none shows a config half applied
 * (two labels written together always agree; two metrics switched together are both there or both absent).
 */

const HAMMER_MS = 3000;
const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})? (\S+)$/;

describe('/metrics under load while the config changes', () => {
  let sandbox: ExporterSandbox;
  let exporter: Exporter;
  let listening: Listening;
  let configPath: string;
  const log = memoryLogger();

  beforeAll(async () => {
    const rails = "return [{ name: 'good_power_watts', value: 1.5, labels: { sensor: 'main' } }, { name: 'good_rail_a_watts', value: 1 }, { name: 'good_rail_b_watts', value: 2 }];";
    sandbox = await exporterSandbox({ 'edge-collector-good': pluginSource('edge-collector-good', 'good', 'good', rails) }, log.logger);
    configPath = sandbox.configPath;
    ({ exporter, listening } = await sandbox.serve(config(0, true)));
    await waitFor(async () => (await exporter.metricsText('prometheus')).includes('good_rail_a_watts{'), 'a first cycle');
  });

  afterAll(() => sandbox.stop());

  /** Generation `n` of the config: two labels that must always be served together, and the two rails. */
  function config(n: number, rails: boolean): string {
    return stringify({
      device_type: 'good',
      interval: 0.02,
      port: 0,
      reload_port: 0,
      listen_address: '127.0.0.1',
      labels: { generation: `g${n}`, mirror: `g${n}` },
      metrics: { good_power_watts: true, good_rail_a_watts: rails, good_rail_b_watts: rails },
    });
  }

  const url = (path: string) => `http://127.0.0.1:${listening.port}${path}`;

  test(`8 clients scraping for ${HAMMER_MS / 1000} s while metrics are toggled and the config reloaded: no failed scrape, nothing half applied`, async () => {
    const deadline = Date.now() + HAMMER_MS;
    const failures: string[] = [];
    const generations = new Set<string>();
    let scrapes = 0;
    let toggles = 0;
    let reloads = 0;

    const scraper = async (): Promise<void> => {
      while (Date.now() < deadline) {
        const response = await fetch(url('/metrics')).catch((error: Error) => error);
        if (response instanceof Error || response.status !== 200) {
          failures.push(response instanceof Error ? response.message : `HTTP ${response.status}`);
          continue;
        }
        const text = await response.text();
        scrapes++;
        const names = new Set<string>();
        for (const line of text.split('\n')) {
          if (line === '' || line.startsWith('# ')) continue;
          const match = SAMPLE.exec(line);
          if (!match) {
            failures.push(`not a sample: ${line}`);
            continue;
          }
          names.add(match[1]!);
          const generation = /[{,]generation="([^"]*)"/.exec(line)?.[1];
          const mirror = /[{,]mirror="([^"]*)"/.exec(line)?.[1];
          if (generation !== mirror) failures.push(`half-applied labels: ${line}`);
          if (generation) generations.add(generation);
        }
        if (!names.has('good_power_watts')) failures.push('good_power_watts is missing');
        if (names.has('good_rail_a_watts') !== names.has('good_rail_b_watts')) failures.push('only one of the two rails switched together is served');
      }
    };
    const toggler = async (): Promise<void> => {
      for (let on = false; Date.now() < deadline; on = !on) {
        const response = await fetch(url('/metrics/enable'), {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ good_rail_a_watts: on, good_rail_b_watts: on }),
        });
        if (response.status !== 200) failures.push(`toggle: HTTP ${response.status} ${await response.text()}`);
        toggles++;
      }
    };
    // Reloads every 20 ms; every 8th after an edit, saved as careful editors do: a new file renamed over the old.
    const reloader = async (): Promise<void> => {
      for (let n = 1; Date.now() < deadline; n++) {
        if (n % 8 === 0) {
          await writeFile(`${configPath}.new`, config(n, n % 16 === 0));
          await rename(`${configPath}.new`, configPath);
        }
        const response = await fetch(url('/reload'), { method: 'POST' });
        if (response.status !== 200) failures.push(`reload: HTTP ${response.status}`);
        reloads++;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    };

    await Promise.all([...Array.from({ length: 8 }, scraper), toggler(), reloader()]);
    expect(failures.slice(0, 10)).toEqual([]);
    expect(scrapes).toBeGreaterThan(50);
    expect(toggles).toBeGreaterThan(2);
    expect(reloads).toBeGreaterThan(5);
    expect(generations.size).toBeGreaterThan(1);
  });
});

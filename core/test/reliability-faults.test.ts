import { rm, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { Listening } from '../src/http/server';
import { exporterSandbox, memoryLogger, pluginSource, seriesValue, waitFor, writePackage, type ExporterSandbox } from './helpers';

/**
 * Faults of a plugin, injected and taken away again through a control file while the real exporter runs: a
 * collect() that throws, and one that does not return until the fault goes. Each must show in the self-metrics
 * and the log (once per fault), leave the other collector and the scrapes alone, and end when the fault goes.
 */
describe('a plugin that fails, injected again and again', () => {
  let sandbox: ExporterSandbox;
  let listening: Listening;
  let faultFile: string;
  const log = memoryLogger();

  beforeEach(async () => {
    log.lines.length = 0;
    sandbox = await exporterSandbox({ 'edge-collector-good': pluginSource('edge-collector-good', 'good', 'good') }, log.logger);
    faultFile = join(sandbox.path, 'fault');
    // `throw`: collect() throws; `hang`: collect() returns only once the file is gone.
    const faulty = `
const fs = require('node:fs');
const fault = () => { try { return fs.readFileSync(${JSON.stringify(faultFile)}, 'utf8'); } catch { return ''; } };
const sample = [{ name: 'faulty_power_watts', value: 2, labels: { sensor: 'main' } }];
if (fault() === 'throw') throw new Error('sensor at 0x41 did not answer');
if (fault() === 'hang') return new Promise((resolve) => { const poll = setInterval(() => { if (fault() !== 'hang') { clearInterval(poll); resolve(sample); } }, 20); });
return sample;`;
    await writePackage(join(sandbox.path, 'node_modules'), 'edge-collector-faulty', { 'index.js': pluginSource('edge-collector-faulty', 'faulty', 'faulty', faulty) });
    ({ listening } = await sandbox.serve('device_type: good\ninterval: 0.1\nport: 0\nreload_port: 0\nlisten_address: 127.0.0.1\nnew_metrics_default: true\ncollectors:\n  - type: faulty\n'));
  });

  afterEach(async () => {
    await rm(faultFile, { force: true });
    await sandbox.stop();
  });

  const labels = (collector: string) => `{device_type="good",hostname="${hostname()}",collector="${collector}"}`;
  let scrapes = 0;
  async function scrape(): Promise<string> {
    const response = await fetch(`http://127.0.0.1:${listening.port}/metrics`);
    expect(response.status).toBe(200);
    scrapes++;
    return response.text();
  }
  const up = async (collector: string) => seriesValue(await scrape(), `edge_collector_up${labels(collector)}`);
  const errors = async (collector: string) => seriesValue(await scrape(), `edge_collector_errors_total${labels(collector)}`) ?? 0;

  test('12 faults (6 throwing, 6 hanging): each reported once, the good collector untouched, each recovered from', async () => {
    await waitFor(async () => (await up('faulty')) === 1 && (await up('good')) === 1, 'both collectors up');
    for (let round = 0; round < 6; round++) {
      for (const fault of ['throw', 'hang']) {
        const errorsBefore = await errors('faulty');
        await writeFile(faultFile, fault);
        await waitFor(async () => (await up('faulty')) === 0, `the ${fault} fault to show in edge_collector_up`);
        expect(await errors('faulty')).toBeGreaterThan(errorsBefore);
        const text = await scrape();
        expect(seriesValue(text, `edge_collector_up${labels('good')}`)).toBe(1);
        expect(text).toContain('good_power_watts{');
        await rm(faultFile);
        await waitFor(async () => (await up('faulty')) === 1, `recovery from the ${fault} fault`);
        expect(await scrape()).toContain('faulty_power_watts{');
      }
    }
    const lines = (text: string) => log.lines.filter((line) => line.includes(text)).length;
    expect(lines('collector faulty (edge-collector-faulty) failed: sensor at 0x41 did not answer')).toBe(6);
    expect(lines('collector faulty (edge-collector-faulty) failed: collect() did not finish within 100 ms')).toBe(6);
    expect(lines('collector faulty recovered')).toBe(12);
    expect(log.lines.filter((line) => line.includes('collector good'))).toEqual([]);
    expect(scrapes).toBeGreaterThan(50);
  });
});

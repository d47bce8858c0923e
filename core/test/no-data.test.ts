import { readFile, rm, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { Listening } from '../src/http/server';
import { exporterSandbox, memoryLogger, pluginSource, seriesValue, waitFor, writePackage, type ExporterSandbox } from './helpers';

/**
 * A collector whose hardware is absent throws core's `NoDataError`: it is down, logged once at info, and not
 * counted as an error; when the hardware comes back it is up again.
 */
describe('a collector that finds no hardware', () => {
  let sandbox: ExporterSandbox;
  let listening: Listening;
  let sensorFile: string;
  let callsFile: string;
  const log = memoryLogger();

  beforeEach(async () => {
    log.lines.length = 0;
    sandbox = await exporterSandbox({}, log.logger);
    sensorFile = join(sandbox.path, 'sensor');
    callsFile = join(sandbox.path, 'calls');
    // The plugin takes NoDataError from the built plugin entry, as an installed plugin does.
    const collect = `
const { NoDataError } = require(${JSON.stringify(join(__dirname, '..', 'dist', 'plugin.js'))});
const fs = require('node:fs');
fs.appendFileSync(${JSON.stringify(callsFile)}, '.');
if (!fs.existsSync(${JSON.stringify(sensorFile)})) throw new NoDataError('no sensor at ${sensorFile}');
return [{ name: 'absent_power_watts', value: 3, labels: { sensor: 'main' } }];`;
    await writePackage(join(sandbox.path, 'node_modules'), 'edge-collector-absent', { 'index.js': pluginSource('edge-collector-absent', 'absent', 'absent', collect) });
    ({ listening } = await sandbox.serve('device_type: absent\ninterval: 0.1\nport: 0\nreload_port: 0\nlisten_address: 127.0.0.1\nnew_metrics_default: true\n'));
  });

  afterEach(async () => {
    await rm(sensorFile, { force: true });
    await sandbox.stop();
  });

  const labels = `{device_type="absent",hostname="${hostname()}",collector="absent"}`;
  async function scrape(): Promise<string> {
    const response = await fetch(`http://127.0.0.1:${listening.port}/metrics`);
    expect(response.status).toBe(200);
    return response.text();
  }

  test('is down without errors, logged once at info, and up once the hardware is there', async () => {
    await waitFor(async () => seriesValue(await scrape(), `edge_collector_up${labels}`) === 0, 'the collector to be down');
    // Several cycles, each finding no data again.
    await waitFor(async () => (await readFile(callsFile, 'utf8')).length >= 5, 'five collections');
    const text = await scrape();
    expect(seriesValue(text, `edge_collector_up${labels}`)).toBe(0);
    expect(seriesValue(text, `edge_collector_errors_total${labels}`)).toBe(0);
    expect(log.lines.filter((line) => line.includes('no sensor at'))).toEqual([`info: collector absent (edge-collector-absent) has no data: no sensor at ${sensorFile}`]);
    expect(log.lines.filter((line) => line.startsWith('error:'))).toEqual([]);

    await writeFile(sensorFile, '');
    await waitFor(async () => seriesValue(await scrape(), `edge_collector_up${labels}`) === 1, 'the collector to be up');
    expect(await scrape()).toContain('absent_power_watts{');
    expect(log.lines).toContain('info: collector absent recovered');
  });
});

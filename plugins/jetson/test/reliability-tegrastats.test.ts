import { hostname } from 'node:os';
import { join } from 'node:path';
import { Exporter, createLogger, serve, type Listening } from '@edge-metrics/core';
import { FixtureTree } from '@edge-metrics/core/testing';
import { fakeTegrastats, fixture, waitFor } from './helpers';

/**
 * tegrastats killed and hanging under the real exporter: each fault shows in edge_collector_up and the log
 * (a few lines per fault, not one per cycle), the other metrics of the exporter go on, and the collector comes
 * back by itself once tegrastats runs again.
 */

describe('tegrastats faults under the exporter', () => {
  let exporter: Exporter;
  let listening: Listening;
  let tree: FixtureTree;
  const logs: string[] = [];

  beforeAll(async () => {
    tree = await FixtureTree.create();
    const { line } = await fixture('orin-agx-jp5');
    // A tegrastats that records its pid and prints a recorded Orin line every --interval ms.
    const tegrastats = await fakeTegrastats(tree, `
fs.writeFileSync(${JSON.stringify(tree.path('pid'))}, String(process.pid));
setInterval(() => process.stdout.write(${JSON.stringify(line)} + '\\n'), Number(process.argv[3]));`);
    await tree.write('config.yaml', `device_type: jetson_orin
interval: 0.1
port: 0
reload_port: 0
listen_address: 127.0.0.1
new_metrics_default: true
plugin_dirs: [${JSON.stringify(join(__dirname, '..', '..', '..', 'node_modules'))}]
options:
  tegrastats_path: ${JSON.stringify(tegrastats)}
  sample_stale_s: 1
  restart_backoff_max_s: 1
`);
    exporter = await Exporter.create({ configPath: tree.path('config.yaml'), cwd: tree.root, env: {}, logger: createLogger('debug', (entry) => logs.push(entry)) });
    await exporter.start();
    listening = await serve(exporter);
  });

  afterAll(async () => {
    await listening?.close();
    await exporter?.stop();
    await tree.dispose();
  });

  async function scrape(): Promise<string> {
    const response = await fetch(`http://127.0.0.1:${listening.port}/metrics`);
    expect(response.status).toBe(200);
    return response.text();
  }
  const upLine = `edge_collector_up{device_type="jetson_orin",hostname="${hostname()}",collector="jetson_orin"}`;
  const up = async () => (await scrape()).split('\n').find((entry) => entry.startsWith(upLine))?.split(' ')[1];
  // Only ever a real child's id: a pid file caught half-written reads as 0, and kill(0) would signal this whole process group.
  const pid = async () =>
    waitFor(async () => {
      const id = Number((await tree.read('pid').catch(() => '')).trim());
      return Number.isInteger(id) && id > 1 && id !== process.pid ? id : undefined;
    });
  const failedLines = () => logs.filter((entry) => entry.includes('collector jetson_orin (edge-collector-jetson) failed')).length;

  test('4 faults (2 kills, 2 hangs): each reported in edge_collector_up and a few log lines, each recovered from', async () => {
    await waitFor(async () => ((await up()) === '1' && (await scrape()).includes('power_total_watts{') ? true : undefined));
    for (const [fault, signal] of [['kill', 'SIGKILL'], ['hang', 'SIGSTOP'], ['kill', 'SIGKILL'], ['hang', 'SIGSTOP']] as const) {
      const before = { pid: await pid(), failed: failedLines(), recovered: logs.filter((entry) => entry.includes('collector jetson_orin recovered')).length };
      process.kill(before.pid, signal);
      await waitFor(async () => ((await up()) === '0' ? true : undefined));
      // The host's own metrics go on while the collector is down.
      expect(await scrape()).toContain('edge_config_info{');
      await waitFor(async () => ((await up()) === '1' && (await pid()) !== before.pid ? true : undefined));
      const failed = failedLines() - before.failed;
      expect([fault, failed >= 1 && failed <= 3]).toEqual([fault, true]);
      expect(logs.filter((entry) => entry.includes('collector jetson_orin recovered')).length).toBe(before.recovered + 1);
    }
    expect(logs.some((entry) => entry.includes('was killed by signal SIGKILL'))).toBe(true);
    expect(logs.some((entry) => entry.includes('has printed no usable line'))).toBe(true);
  });
});

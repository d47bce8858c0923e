import { writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { pluginSource, seriesValue, spawnExporter, tempDir, waitFor, writePackage } from './helpers';

/**
 * Plugins that return what no sample should be, through the real exporter process: each one's damage stays with
 * that collector, and the host collector, the other samples and the self-metrics are still served every cycle.
 */
describe('a hostile sample is contained in its collector', () => {
  let dir: { path: string; cleanup: () => Promise<void> };
  beforeEach(async () => {
    dir = await tempDir();
  });
  afterEach(() => dir.cleanup());

  const plugins: Record<string, string> = {
    // A BigInt with no name (JSON.stringify throws on it), and a sample whose name forges a log line.
    bigint: `return [{ value: 10n }, { name: 'bigint_power_watts\\nerror: FORGED by a name', value: 1 }, { name: 'bigint_power_watts', value: 1, labels: { sensor: 'ok' } }];`,
    cyclic: `const sample = { value: 1 }; sample.self = sample; return [sample];`,
    getter: `return [{ get name() { throw new Error('no name today'); }, value: 1 }];`,
    flood: `return Array.from({ length: 20000 }, (_, i) => ({ name: 'flood_power_watts', value: i, labels: { sensor: 's' + i } }));`,
    forger: `throw new Error('sensor gone\\nerror: FORGED by an error');`,
  };

  test('BigInt, cyclic and unreadable samples, 20,000 series and forged log lines', async () => {
    for (const [type, body] of Object.entries(plugins)) {
      await writePackage(join(dir.path, 'node_modules'), `edge-collector-${type}`, { 'index.js': pluginSource(`edge-collector-${type}`, type, type, body) });
    }
    const collectors = Object.keys(plugins).map((type) => `  - type: ${type}\n`).join('');
    await writeFile(join(dir.path, 'config.yaml'), `device_type: host\nplugin_dirs: [node_modules]\ninterval: 0.5\nnew_metrics_default: true\nport: 0\nreload_port: 0\nlisten_address: 127.0.0.1\ncollectors:\n${collectors}`);
    const exporter = await spawnExporter(dir.path);
    try {
      const text = await waitFor(async () => {
        const body = await (await fetch(exporter.metricsUrl)).text();
        return body.includes('host_cpu_usage_percent{') && (seriesValue(body, 'edge_collector_dropped_samples_total{') ?? 0) > 0 && body;
      }, 'host CPU usage and the self-metrics');
      const self = (metric: string, collector: string) => seriesValue(text, `${metric}{device_type="host",hostname="${hostname()}",collector="${collector}"}`);

      expect(text).toMatch(/^host_memory_total_bytes\{/m);
      expect(self('edge_collector_up', 'host')).toBe(1);
      expect(text).toMatch(/^bigint_power_watts\{.*sensor="ok"\} 1$/m);
      for (const type of ['bigint', 'cyclic', 'getter']) expect(self('edge_collector_dropped_samples_total', type)).toBeGreaterThan(0);
      expect(text.split('\n').filter((line) => line.startsWith('flood_power_watts{'))).toHaveLength(10_000);
      expect(self('edge_collector_dropped_samples_total', 'flood')).toBeGreaterThanOrEqual(10_000);
      expect(self('edge_collector_up', 'forger')).toBe(0);

      const lines = exporter.stderr().trimEnd().split('\n');
      expect(lines.filter((line) => !/^(debug|info|warn|error): /.test(line))).toEqual([]);
      const forged = lines.filter((line) => line.includes('FORGED'));
      expect(forged).toHaveLength(2);
      expect(forged.join('\n')).toContain("'bigint_power_watts\\nerror: FORGED by a name' matches no metric family");
      expect(forged.join('\n')).toContain('failed: sensor gone\\nerror: FORGED by an error');
      expect(lines.filter((line) => line.includes('more than the 10000 one collector may return'))).toHaveLength(1);
    } finally {
      await exporter.stop();
    }
  });
});

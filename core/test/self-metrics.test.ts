import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { implausibleSelfMetrics, runCli, spawnExporter, tempDir, waitFor } from './helpers';

/**
 * The exporter's own metrics, read from the real CLI: no NaN, no infinity, no absurd value (prom-client's event-loop
 * histogram, reset every cycle while it sampled once a second, served a minimum of 9.2e9 s and a NaN mean).
 */
describe('self-metrics are plausible numbers', () => {
  let dir: { path: string; cleanup: () => Promise<void> };
  beforeEach(async () => {
    dir = await tempDir();
  });
  afterEach(() => dir.cleanup());

  test('in --once', async () => {
    await writeFile(join(dir.path, 'config.yaml'), 'device_type: host\ninterval: 0.2\n');
    const once = runCli(['--once'], dir.path);
    expect(once.code).toBe(0);
    expect(once.stdout).toMatch(/^process_resident_memory_bytes\{/m);
    expect(implausibleSelfMetrics(once.stdout)).toEqual([]);
  });

  test('in a running exporter, after a few cycles', async () => {
    await writeFile(join(dir.path, 'config.yaml'), 'device_type: host\ninterval: 0.2\nport: 0\nreload_port: 0\nlisten_address: 127.0.0.1\n');
    const exporter = await spawnExporter(dir.path);
    try {
      // Each cycle's exposition differs from the last (durations, lag): four different ones are four cycles.
      const seen = new Set<string>();
      const text = await waitFor(async () => {
        const body = await (await fetch(exporter.metricsUrl)).text();
        if (body.includes('edge_collector_up')) seen.add(body);
        return seen.size >= 4 && body;
      }, 'four collection cycles');
      expect(text).toMatch(/^nodejs_eventloop_lag_seconds\{/m);
      expect(implausibleSelfMetrics(text)).toEqual([]);
      // The process's CPU time, counted by the exporter under prom-client's names: user + system = total.
      const cpu = (name: string) => Number(new RegExp(`^${name}\\{[^}]*\\} (\\S+)`, 'm').exec(text)?.[1]);
      for (const name of ['process_cpu_user_seconds_total', 'process_cpu_system_seconds_total', 'process_cpu_seconds_total']) {
        expect(text).toContain(`# TYPE ${name} counter`);
        expect(cpu(name)).toBeGreaterThan(0);
      }
      expect(cpu('process_cpu_seconds_total')).toBeCloseTo(cpu('process_cpu_user_seconds_total') + cpu('process_cpu_system_seconds_total'), 6);
      expect(text).not.toMatch(/^nodejs_eventloop_lag_(min|max|mean|stddev|p50|p90|p99)_seconds/m);
    } finally {
      await exporter.stop();
    }
  });
});

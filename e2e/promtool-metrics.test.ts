import { spawnSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CLI, REPO, Service, tempDir } from './helpers';

/** What `edge-metrics-exporter --once` prints for a config, checked by `promtool check metrics`. */
function lint(args: string[]): { exposition: string; problems: string; code: number | null } {
  const once = spawnSync(process.execPath, [CLI, '--once', ...args], { cwd: REPO, encoding: 'utf8', timeout: 60_000 });
  expect(once.status).toBe(0);
  return { exposition: once.stdout, ...promtool(once.stdout) };
}

function promtool(exposition: string): { problems: string; code: number | null } {
  const check = spawnSync('promtool', ['check', 'metrics'], { input: exposition, encoding: 'utf8' });
  return { problems: check.stdout + check.stderr, code: check.status };
}

describe('promtool check metrics', () => {
  test('passes on the host collector with process metrics', async () => {
    // The built-in defaults' selection (every metric on), from a file: a named file that is missing is an error.
    const dir = await tempDir();
    await writeFile(join(dir.path, 'host.yaml'), 'device_type: host\nnew_metrics_default: true\n');
    const result = lint(['--config', join(dir.path, 'host.yaml')]);
    await dir.cleanup();
    expect(result.exposition).toContain('host_memory_total_bytes');
    expect(result.problems).toBe('');
    expect(result.code).toBe(0);
  });

  test("passes on the full Jetson metric set of the replay demo, but for the old exporter's four _mb names", () => {
    const result = lint(['--config', 'examples/jetson-replay/config.yaml']);
    expect(result.exposition).toContain('energy_joules_total');
    expect(result.exposition).toContain('jetson_cpu_core11_freq_mhz');
    // Users of the old exporter query these names, so they stay as they were; promtool's linter (exit code 3,
    // not the 1 of an invalid exposition) flags their abbreviated unit, and nothing else.
    expect(result.problems.trim().split('\n').sort()).toEqual([
      'jetson_ram_total_mb metric names should not contain abbreviated units',
      'jetson_ram_used_mb metric names should not contain abbreviated units',
      'jetson_swap_total_mb metric names should not contain abbreviated units',
      'jetson_swap_used_mb metric names should not contain abbreviated units',
    ]);
    expect(result.code).toBe(3);
  });

  test("passes on the config server's own /metrics, process metrics included", async () => {
    const dir = await tempDir();
    const server = Service.start('config server', process.execPath, [join(REPO, 'config-server', 'dist', 'cli.js'), '--listen', '127.0.0.1', '--port', '0', '--db', join(dir.path, 'config-server.db')], { cwd: dir.path });
    try {
      const port = await server.waitForOutput(/listening on http:\/\/127\.0\.0\.1:(\d+)/);
      const exposition = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      expect(exposition).toContain('config_server_http_requests_total');
      expect(exposition).toContain('process_cpu_seconds_total');
      expect(promtool(exposition)).toEqual({ problems: '', code: 0 });
    } finally {
      await server.stop();
      await dir.cleanup();
    }
  });
});

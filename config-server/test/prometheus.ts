import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { Service } from '../../e2e/helpers';
import { Exporter } from './exporter-process';
import { tempDir } from './helpers';

/**
 * The power picture of a fleet for real: exporters on the Jetson replay demo, and Debian's Prometheus finding them
 * through the config server's /sd, as a fleet's Prometheus does, and scraping them every second.
 */
const REPOSITORY = join(__dirname, '..', '..');

/** The AGX Orin of the replayed trace: the sum of its four rails, 4788 + 798 + 3842 + 707 mW, the same on every line. */
export const REPLAY_WATTS = 10.135;

/** The demo's config, runnable from any folder on free ports. */
const REPLAY_CONFIG = readFileSync(join(REPOSITORY, 'examples', 'jetson-replay', 'config.yaml'), 'utf8')
  .replace(/^port: \d+$/m, 'port: 0')
  .replace(/^reload_port: \d+$/m, 'reload_port: 0')
  .replace('examples/jetson-replay/fake-tegrastats', join(REPOSITORY, 'examples', 'jetson-replay', 'fake-tegrastats'));

/**
 * A real exporter replaying the trace as `deviceId` (stopped by `killExporters`), reported to the config server at
 * `base` with the port of its /metrics, so that /sd lists it.
 */
export async function startReplayExporter(base: string, token: string, deviceId: string): Promise<Exporter> {
  const exporter = await Exporter.start(await tempDir(), { DEVICE_ID: deviceId }, REPLAY_CONFIG);
  const metricsPort = Number(new URL((await exporter.ports()).metrics).port);
  const reply = await fetch(`${base}/devices/${deviceId}/status`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ metrics_port: metricsPort, address: '127.0.0.1', device_type: 'jetson_orin' }),
  });
  if (!reply.ok) throw new Error(`POST /devices/${deviceId}/status: ${reply.status} ${await reply.text()}`);
  return exporter;
}

/**
 * Debian's Prometheus listening at `url` (the one the config server was given as --prometheus-url), taking its
 * targets from `base`/sd with `token`; resolves once it serves its API. The caller stops it.
 */
export async function startPrometheus(url: string, base: string, token: string): Promise<Service> {
  const dir = await tempDir();
  await writeFile(join(dir, 'token'), token);
  await writeFile(
    join(dir, 'prometheus.yml'),
    stringify({
      global: { scrape_interval: '1s', evaluation_interval: '1s' },
      scrape_configs: [
        {
          job_name: 'edge-power-fleet',
          honor_labels: true,
          http_sd_configs: [{ url: `${base}/sd`, refresh_interval: '1s', authorization: { type: 'Bearer', credentials_file: join(dir, 'token') } }],
        },
      ],
    }),
  );
  const prometheus = Service.start('prometheus', 'prometheus', [
    `--config.file=${join(dir, 'prometheus.yml')}`,
    `--storage.tsdb.path=${join(dir, 'data')}`,
    `--web.listen-address=${new URL(url).host}`,
  ], { cwd: dir });
  try {
    await prometheus.waitForOutput(/Server is ready to receive web requests/);
  } catch (error) {
    await prometheus.stop();
    throw error;
  }
  return prometheus;
}

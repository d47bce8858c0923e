import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { freePort, Service, waitFor } from './helpers';

/**
 * The exporter (the Jetson replay demo), the config server and a real Prometheus, all on the loopback, with
 * deploy/prometheus/prometheus.yml and its rules. The device's config is provisioned at the config server; the
 * exporter fetches it from there, follows it, and reports the port it serves /metrics on. Prometheus scrapes the
 * exporter as a static target (job edge-power) and finds it again through the config server's /sd (job
 * edge-power-fleet).
 */
const repository = join(__dirname, '..');
const DEVICE_ID = 'e2e-orin';
const TOKEN = 'e2e-admin-token';
const demoConfig = readFileSync(join(repository, 'examples', 'jetson-replay', 'config.yaml'), 'utf8');
/** The replay demo as it is, on ports the system picks. */
const deviceConfig = demoConfig.replace(/^port: \d+$/m, 'port: 0').replace(/^reload_port: \d+$/m, 'reload_port: 0');

let dir: string;
const services: Service[] = [];
let exporterPort: string;
let prometheusUrl: string;
let startedAt: number;
let configServerUrl: string;

interface Series {
  metric: Record<string, string>;
  value: [number, string];
}

async function query(promql: string): Promise<Series[]> {
  const response = await fetch(`${prometheusUrl}/api/v1/query?query=${encodeURIComponent(promql)}`);
  const body = (await response.json()) as { status: string; error?: string; data: { result: Series[] } };
  if (body.status !== 'success') throw new Error(`${promql}: ${body.error}`);
  return body.data.result;
}

/** The result of `promql` once it has at least `count` series (Prometheus scrapes and evaluates every second). */
const seriesOf = (promql: string, count = 1): Promise<Series[]> =>
  waitFor(async () => {
    const result = await query(promql);
    return result.length >= count ? result : undefined;
  }, `Prometheus to have ${count} series of ${promql}`);

/** Stores a new version of the device's config at the config server, as an operator does. */
async function putConfig(yaml: string): Promise<void> {
  const response = await fetch(`${configServerUrl}/config/${DEVICE_ID}`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/yaml' },
    body: yaml,
  });
  if (!response.ok) throw new Error(`PUT /config/${DEVICE_ID}: ${response.status} ${await response.text()}`);
}

const prometheusLog = (): string => services.find((service) => service.name === 'prometheus')?.log ?? '';

function start(name: string, command: string, args: string[], env: NodeJS.ProcessEnv = {}): Service {
  const service = Service.start(name, command, args, { cwd: name === 'prometheus' ? dir : repository, env });
  services.push(service);
  return service;
}

beforeAll(async () => {
  startedAt = Date.now() / 1000;
  dir = await mkdtemp(join(tmpdir(), 'edge-metrics-e2e-'));

  const configServer = start('config server', process.execPath, [join(repository, 'config-server', 'dist', 'cli.js'), '--listen', '127.0.0.1', '--port', '0', '--db', join(dir, 'config-server.db')], {
    CONFIG_SERVER_TOKEN: TOKEN,
  });
  configServerUrl = `http://127.0.0.1:${await configServer.waitForOutput(/listening on http:\/\/127\.0\.0\.1:(\d+)/)}`;

  // The device's config, provisioned at the config server; the local file is its fallback.
  await putConfig(deviceConfig);
  await writeFile(join(dir, 'exporter.yaml'), deviceConfig);
  const exporter = start('exporter', process.execPath, [join(repository, 'core', 'dist', 'cli.js'), '--config', join(dir, 'exporter.yaml')], {
    CONFIG_SERVER_URL: configServerUrl,
    CONFIG_SERVER_TOKEN: TOKEN,
    DEVICE_ID,
  });
  exporterPort = await exporter.waitForOutput(/serving \/metrics on 127\.0\.0\.1:(\d+)/);

  // deploy/prometheus/prometheus.yml, pointed at these processes, scraping and evaluating every second.
  const prometheusConfig = parse(readFileSync(join(repository, 'deploy', 'prometheus', 'prometheus.yml'), 'utf8'));
  prometheusConfig.global = { scrape_interval: '1s', evaluation_interval: '1s' };
  prometheusConfig.rule_files = prometheusConfig.rule_files.map((file: string) => join(repository, 'deploy', 'prometheus', file));
  delete prometheusConfig.alerting;
  const [staticJob, fleetJob] = prometheusConfig.scrape_configs;
  staticJob.static_configs = [{ targets: [`127.0.0.1:${exporterPort}`] }];
  Object.assign(fleetJob.http_sd_configs[0], { url: `${configServerUrl}/sd`, refresh_interval: '1s' });
  fleetJob.http_sd_configs[0].authorization.credentials_file = join(dir, 'config-server-token');
  await writeFile(join(dir, 'config-server-token'), TOKEN);
  await writeFile(join(dir, 'prometheus.yml'), stringify(prometheusConfig));

  const port = await freePort();
  prometheusUrl = `http://127.0.0.1:${port}`;
  const prometheus = start('prometheus', 'prometheus', [
    `--config.file=${join(dir, 'prometheus.yml')}`,
    `--storage.tsdb.path=${join(dir, 'data')}`,
    `--web.listen-address=127.0.0.1:${port}`,
  ]);
  await prometheus.waitForOutput(/Server is ready to receive web requests/);
}, 120_000);

afterAll(async () => {
  for (const service of services.reverse()) await service.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

test('Prometheus scrapes the exporter: up is 1', async () => {
  const [up] = await seriesOf('up{job="edge-power"}');
  expect(up!.metric).toEqual({ __name__: 'up', job: 'edge-power', instance: `127.0.0.1:${exporterPort}` });
  expect(up!.value[1]).toBe('1');
});

test('power_total_watts and a growing energy_joules_total, with the device_type and hostname labels', async () => {
  const labels = { job: 'edge-power', instance: `127.0.0.1:${exporterPort}`, device_type: 'jetson_orin', hostname: hostname() };
  const [power] = await seriesOf('power_total_watts{job="edge-power"}');
  expect(power!.metric).toEqual({ __name__: 'power_total_watts', ...labels });
  // The AGX Orin of the trace: the sum of its four rails, 4788 + 798 + 3842 + 707 mW.
  expect(Number(power!.value[1])).toBeCloseTo(10.135, 6);
  const [energy] = await seriesOf('energy_joules_total{job="edge-power"} > 0');
  expect(energy!.metric).toEqual({ __name__: 'energy_joules_total', ...labels });
});

test('every Jetson metric the replay demo enables is in Prometheus, with its labels', async () => {
  const enabled = Object.entries(parse(demoConfig).metrics as Record<string, boolean>)
    .filter(([name, on]) => on && name.startsWith('jetson_'))
    .map(([name]) => name);
  const series = await seriesOf('{__name__=~"jetson_.+", job="edge-power"}', enabled.length);
  expect(series.map((one) => one.metric.__name__).sort()).toEqual([...enabled].sort());
  for (const one of series) expect(one.metric).toMatchObject({ device_type: 'jetson_orin', hostname: hostname() });
  const [gpuRail] = series.filter((one) => one.metric.__name__ === 'jetson_power_vdd_gpu_soc_watts');
  expect(Number(gpuRail!.value[1])).toBeCloseTo(4.788, 6);
});

test("Prometheus discovers the exporter through the config server's /sd and scrapes it with the server's labels", async () => {
  // The exporter's port report can wait behind its sync's long-poll (55 s); then /sd's refresh and a scrape.
  const target = await waitFor(async () => {
    const response = await fetch(`${prometheusUrl}/api/v1/targets?state=active`);
    const body = (await response.json()) as { data: { activeTargets: Array<{ scrapePool: string; health: string; labels: Record<string, string> }> } };
    return body.data.activeTargets.find((candidate) => candidate.scrapePool === 'edge-power-fleet' && candidate.health === 'up');
  }, () => `the edge-power-fleet target to be up; Prometheus logged:\n${prometheusLog()}`, 120_000);
  expect(target.labels).toEqual({ job: 'edge-power-fleet', instance: `127.0.0.1:${exporterPort}`, device_id: DEVICE_ID, device_type: 'jetson_orin' });
  const [power] = await seriesOf('power_total_watts{job="edge-power-fleet"}');
  expect(power!.metric).toEqual({
    __name__: 'power_total_watts',
    job: 'edge-power-fleet',
    instance: `127.0.0.1:${exporterPort}`,
    device_id: DEVICE_ID,
    device_type: 'jetson_orin',
    hostname: hostname(),
  });
});

test("the alerting and recording rules load into Prometheus and evaluate on the exporter's series without error", async () => {
  const groups = await waitFor(async () => {
    const response = await fetch(`${prometheusUrl}/api/v1/rules`);
    const body = (await response.json()) as { data: { groups: Array<{ name: string; rules: Array<{ name: string; health: string; lastError?: string }> }> } };
    const loaded = body.data.groups;
    return loaded.length > 0 && loaded.every((group) => group.rules.every((rule) => rule.health !== 'unknown')) ? loaded : undefined;
  }, 'every rule to be evaluated once');
  expect(groups.map((group) => group.name).sort()).toEqual(['edge-metrics-alerts', 'edge-metrics-fleet', 'edge-metrics-temperatures', 'edge-metrics-thresholds']);
  const failing = groups.flatMap((group) => group.rules.filter((rule) => rule.health !== 'ok').map((rule) => `${rule.name}: ${rule.lastError}`));
  expect(failing).toEqual([]);
  const [cpu] = await seriesOf('edge:temperature_celsius{family="jetson", sensor="cpu", job="edge-power"}');
  expect([43.5, 43.906]).toContain(Number(cpu!.value[1]));
});

test('a config changed at the config server reaches the device and Prometheus, and the device reports its sync', async () => {
  const [before] = await seriesOf('edge_config_info{job="edge-power"} == 1');
  expect(before!.metric.source).toBe('server');
  await putConfig(`${deviceConfig}labels:\n  site: e2e\n`);
  const [power] = await seriesOf('power_total_watts{job="edge-power", site="e2e"}');
  expect(power!.metric).toMatchObject({ device_type: 'jetson_orin', hostname: hostname(), site: 'e2e' });
  // The inputs of EdgeConfigLocalFallback and EdgeConfigSyncBacklog.
  const [lastSuccess] = await seriesOf('edge_config_sync_last_success_timestamp_seconds{job="edge-power", site="e2e"}');
  expect(Number(lastSuccess!.value[1])).toBeGreaterThanOrEqual(Math.floor(startedAt));
  const [pending] = await seriesOf('edge_config_sync_pending_changes{job="edge-power", site="e2e"}');
  expect(pending!.value[1]).toBe('0');
});

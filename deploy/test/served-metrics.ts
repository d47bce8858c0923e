import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Exporter, FamilyIndex, createLogger, hostPlugin, type MetricFamily } from '@edge-metrics/core';
import { createConfigServer } from '@edge-metrics/config-server';
import * as jetson from 'edge-collector-jetson';
import * as lattepanda from 'edge-collector-lattepanda-rapl';
import * as orangepi from 'edge-collector-orangepi-sysfs';
import * as raspberrypi from 'edge-collector-raspberrypi-ina260';
import * as shelly from 'edge-collector-shelly';
import type { Selector } from './promql';

/** The plugins this repository ships, with core's built-in host collector. */
export const PLUGINS = [hostPlugin, jetson, raspberrypi, orangepi, lattepanda, shelly];

/** The metrics the exporter serves: every family of the plugins' manifests, and what a running exporter adds. */
export class ServedMetrics {
  private readonly index: FamilyIndex;
  /** One concrete name per family, with each `{placeholder}` filled twice (`0`, and its own name). */
  private readonly examples: string[];

  private constructor(
    families: MetricFamily[],
    private readonly ownNames: ReadonlySet<string>,
  ) {
    this.index = new FamilyIndex(families);
    this.examples = [
      ...ownNames,
      ...families.flatMap((family) => [family.name.replace(/\{[^}]*\}/g, '0'), family.name.replace(/\{([^}]*)\}/g, '$1')]),
    ];
  }

  /**
   * The plugins' families, and the names in the exposition of a real exporter that follows a real config server
   * (core's self-metrics, among them the config-sync ones, and the process metrics), with the host collector.
   */
  static async load(): Promise<ServedMetrics> {
    const dir = await mkdtemp(join(tmpdir(), 'edge-metrics-served-'));
    const logger = createLogger('silent');
    const configServer = createConfigServer({ dbPath: join(dir, 'config-server.db'), logger });
    try {
      const { port } = await configServer.listen(0, '127.0.0.1');
      const configPath = join(dir, 'config.yaml');
      await writeFile(configPath, 'device_type: host\nnew_metrics_default: true\n');
      const env = { CONFIG_SERVER_URL: `http://127.0.0.1:${port}`, DEVICE_ID: 'served-metrics' };
      const exporter = await Exporter.create({ configPath, cwd: dir, env, logger });
      await exporter.start();
      try {
        const text = await exposition(exporter);
        const ownNames = new Set([...text.matchAll(/^# TYPE (\S+) /gm)].map((match) => match[1]!));
        return new ServedMetrics(PLUGINS.flatMap((plugin) => plugin.manifest.metrics), ownNames);
      } finally {
        await exporter.stop();
      }
    } finally {
      await configServer.close();
      await rm(dir, { recursive: true, force: true });
    }
  }

  /**
   * Why a selector asks for something the exporter does not serve, or undefined when it is served. A
   * `__name__=~` regular expression must match a served name with each of its alternatives.
   */
  problem(selector: Selector): string | undefined {
    if (selector.name !== undefined) {
      return this.ownNames.has(selector.name) || this.index.find(selector.name) ? undefined : `${selector.name} is not a metric the exporter serves`;
    }
    const byName = selector.matchers.find((matcher) => matcher.label === '__name__');
    if (!byName || byName.op !== '=~') return 'a selector without a metric name must choose names with __name__=~';
    const unmatched = byName.value.split('|').filter((alternative) => !this.examples.some((name) => new RegExp(`^(?:${alternative})$`).test(name)));
    return unmatched.length === 0 ? undefined : `__name__=~"${byName.value}": ${unmatched.join(', ')} matches no metric the exporter serves`;
  }
}

/** The exporter's exposition once its collectors have reported (the host collector needs two readings). */
async function exposition(exporter: Exporter): Promise<string> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const text = await exporter.metricsText('prometheus');
    if (text.includes('\nhost_cpu_usage_percent{')) return text;
    if (Date.now() > deadline) throw new Error(`the exporter served no host metrics within 20 s:\n${text}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

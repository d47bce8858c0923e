import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { FamilyIndex, parseConfig, resolveOptions, type ExporterConfig, type PluginManifest } from '@edge-metrics/core';
import { PLUGINS } from './served-metrics';

/** The example configs of examples/configs, each checked as the exporter checks a config at start. */
const folder = join(__dirname, '..', '..', 'examples', 'configs');
const files = readdirSync(folder).filter((file) => file.endsWith('.yaml'));
const configs = new Map(files.map((file) => [file, parseConfig(parse(readFileSync(join(folder, file), 'utf8')), file)] as const));

function pluginFor(deviceType: string, where: string): PluginManifest {
  const plugin = PLUGINS.find((candidate) => candidate.manifest.deviceTypes.includes(deviceType));
  if (!plugin) throw new Error(`${where}: no plugin serves device type '${deviceType}'`);
  return plugin.manifest;
}

/** The collectors a config creates: its device_type's, then one per `collectors:` entry, with their options. */
function collectorsOf(file: string, config: ExporterConfig) {
  return [
    { manifest: pluginFor(config.device_type, `${file}: device_type`), options: config.options, where: `${file}: options` },
    ...config.collectors.map((extra, index) => ({
      manifest: pluginFor(extra.type, `${file}: collectors[${index}].type`),
      options: extra.options,
      where: `${file}: collectors[${index}].options`,
    })),
  ];
}

describe.each(files)('examples/configs/%s', (file) => {
  const config = configs.get(file)!;

  test("is valid for core's config schema, and its options for each plugin's options schema", () => {
    for (const { manifest, options, where } of collectorsOf(file, config)) {
      expect(() => resolveOptions(manifest, options, where)).not.toThrow();
    }
  });

  test('names in metrics: only metrics its plugins can produce', () => {
    const families = new FamilyIndex(collectorsOf(file, config).flatMap(({ manifest }) => manifest.metrics));
    expect(Object.keys(config.metrics).filter((name) => families.find(name) === undefined)).toEqual([]);
  });
});

test('there is a config for each device, for a Jetson with a Shelly beside it, and for a device managed by the config server', () => {
  const all = [...configs.values()];
  expect(new Set(all.map((config) => config.device_type))).toEqual(new Set(['jetson_orin', 'raspberrypi', 'orangepi', 'lattepanda', 'shelly']));
  expect(all.some((config) => config.device_type.startsWith('jetson') && config.collectors.some((extra) => extra.type === 'shelly'))).toBe(true);
  expect(all.some((config) => config.config_server?.url !== undefined)).toBe(true);
});

test('a config with a mistake is refused, naming the file and the field', () => {
  const shelly = PLUGINS.find((plugin) => plugin.manifest.name === 'edge-collector-shelly')!.manifest;
  expect(() => resolveOptions(shelly, { host: '192.168.1.20', totl: true }, 'shelly.yaml: options')).toThrow(/shelly\.yaml: options.*totl/);
  expect(() => parseConfig({ device_type: 'jetson_orin', interval: 0 }, 'jetson-orin.yaml')).toThrow(/^jetson-orin\.yaml: interval/);
});

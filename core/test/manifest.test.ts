import { checkPlugin, resolveOptions } from '../src/manifest';
import { FamilyIndex, familyNameRegExp } from '../src/metric-names';
import { isPluginPackageName, normalizePackageName } from '../src/plugin-names';
import type { PluginManifest } from '../src/plugin-api';
import { readmeMetricProblems, readmeOptionProblems, readmeProblems } from '../src/testing';

const manifest: PluginManifest = {
  name: 'edge-collector-demo',
  apiVersion: 1,
  deviceTypes: ['demo'],
  metrics: [
    { name: 'demo_power_watts', help: 'Power', type: 'gauge', unit: 'watts' },
    { name: 'demo_cpu_core{N}_usage_percent', help: 'Per-core usage', type: 'gauge', unit: 'percent' },
  ],
  optionsSchema: { type: 'object', additionalProperties: false, properties: { path: { type: 'string', default: '/sys' } } },
};
const plugin = { manifest, create: () => ({ collect: () => [] }) };

describe('checkPlugin', () => {
  test('accepts a valid plugin', () => {
    expect(checkPlugin(plugin, 'edge-collector-demo')).toEqual([]);
  });

  test.each([
    [{ ...manifest, deviceTypes: 'demo' }, 'manifest.deviceTypes: must be an array'],
    [{ ...manifest, metrics: [{ name: 'bad-name', help: 'x', type: 'gauge' }] }, 'manifest.metrics[0].name: "bad-name" does not match'],
    [{ ...manifest, metrics: [{ name: 'x', help: 'x', type: 'histogram' }] }, 'manifest.metrics[0].type: must be one of "gauge", "counter"'],
    [{ ...manifest, metrics: [{ name: 'x', help: 'x', type: 'gauge', labels: ['hostname'] }] }, 'manifest.metrics[0].labels[0]'],
    [{ ...manifest, extra: 1 }, "manifest: unknown key 'extra'"],
    [{ ...manifest, apiVersion: 2 }, 'manifest.apiVersion 2 is not supported'],
    [{ ...manifest, name: 'edge-collector-other' }, "manifest.name 'edge-collector-other' is not the package name 'edge-collector-demo'"],
    [{ ...manifest, metrics: [manifest.metrics[0], manifest.metrics[0]] }, "'demo_power_watts' is declared twice"],
    [{ ...manifest, metrics: [{ name: 'demo_energy_joules', help: 'x', type: 'counter' }] }, "counter 'demo_energy_joules' must end in _total"],
  ])('rejects a bad manifest with a message naming the field (%#)', (bad, message) => {
    expect(checkPlugin({ ...plugin, manifest: bad }, 'edge-collector-demo').join('\n')).toContain(message);
  });

  test('rejects a module without create or manifest', () => {
    expect(checkPlugin({ manifest }, 'edge-collector-demo')).toEqual(["the module exports no 'create' function"]);
    expect(checkPlugin({}, 'edge-collector-demo')).toEqual(["the module exports no 'manifest'"]);
    expect(checkPlugin(undefined)).toEqual(['the module exports no plugin object']);
  });
});

describe('resolveOptions', () => {
  test('fills in defaults without changing the input', () => {
    const given = {};
    expect(resolveOptions(manifest, given, 'options')).toEqual({ path: '/sys' });
    expect(given).toEqual({});
  });

  test('names the plugin and the field of an invalid option', () => {
    expect(() => resolveOptions(manifest, { path: 3, typo: true }, 'config.yaml: options')).toThrow(
      expect.objectContaining({
        code: 'EME_OPTIONS_INVALID',
        message: "invalid options for edge-collector-demo: config.yaml: options: unknown key 'typo'; config.yaml: options.path: must be a string",
      }),
    );
  });
});

describe('metric names', () => {
  test('a pattern matches its concrete names only', () => {
    const regexp = familyNameRegExp('jetson_cpu_core{N}_usage_percent');
    expect(regexp.test('jetson_cpu_core0_usage_percent')).toBe(true);
    expect(regexp.test('jetson_cpu_core11_usage_percent')).toBe(true);
    expect(regexp.test('jetson_cpu_core_usage_percent')).toBe(false);
    expect(regexp.test('xjetson_cpu_core1_usage_percent')).toBe(false);
  });

  test('FamilyIndex prefers an exact name to a pattern', () => {
    const index = new FamilyIndex([
      { name: 'a_{x}_watts', help: 'pattern', type: 'gauge' },
      { name: 'a_total_watts', help: 'exact', type: 'gauge' },
    ]);
    expect(index.find('a_total_watts')?.help).toBe('exact');
    expect(index.find('a_gpu_watts')?.help).toBe('pattern');
    expect(index.find('b_gpu_watts')).toBeUndefined();
  });

  test('plugin package names', () => {
    expect(normalizePackageName('jetson')).toBe('edge-collector-jetson');
    expect(normalizePackageName('@acme/meter')).toBe('@acme/edge-collector-meter');
    expect(normalizePackageName('@acme/edge-collector-meter')).toBe('@acme/edge-collector-meter');
    expect(isPluginPackageName('edge-collector-shelly')).toBe(true);
    expect(isPluginPackageName('@acme/edge-collector-x')).toBe(true);
    expect(isPluginPackageName('edge-collector-')).toBe(false);
    expect(isPluginPackageName('my-edge-collector-x')).toBe(false);
  });
});

describe('README metrics table', () => {
  const readme = `# demo

## Metrics

| metric | type | unit | labels | meaning |
| --- | --- | --- | --- | --- |
| \`demo_power_watts\` | gauge | watts |  | Power |
| \`demo_cpu_core{N}_usage_percent\` | gauge | percent | | Per-core usage |

## Options
| \`not_a_metric\` | row | of | another | table |
`;

  test('agrees with a manifest that declares the same families', () => {
    expect(readmeMetricProblems(readme, manifest)).toEqual([]);
  });

  test('names each disagreement', () => {
    const other = { ...manifest, metrics: [{ ...manifest.metrics[0]!, unit: 'milliwatts', labels: ['rail'] }, { name: 'demo_new_total', help: 'x', type: 'counter' as const }] };
    expect(readmeMetricProblems(readme, other)).toEqual([
      "demo_power_watts: the README says unit 'watts', the manifest 'milliwatts'",
      "demo_power_watts: the README says labels '', the manifest 'rail'",
      "demo_new_total is in the manifest but not in the README's metrics table",
      "demo_cpu_core{N}_usage_percent is in the README's metrics table but not in the manifest",
    ]);
  });
});

describe('README options table', () => {
  const readme = `# demo

## Options

| option | default | meaning |
| --- | --- | --- |
| \`root\` | \`/sys\` | where sysfs is |
| \`pattern\` | \`''\` | empty: every sensor |
| \`sensors\` | \`[main]\` | the sensors |
| \`strict\` | \`false\` | stop at the first bad file |

## Metrics

| metric | type | unit | labels | meaning |
| --- | --- | --- | --- | --- |
| \`demo_power_watts\` | gauge | watts |  | Power |
`;
  const withOptions = (properties: Record<string, unknown>): PluginManifest => ({
    ...manifest,
    metrics: [manifest.metrics[0]!],
    optionsSchema: { type: 'object', additionalProperties: false, properties },
  });
  const agreeing = { root: { type: 'string', default: '/sys' }, pattern: { type: 'string', default: '' }, sensors: { type: 'array', default: ['main'] }, strict: { type: 'boolean', default: false } };

  test('agrees with a schema that declares the same options and defaults', () => {
    expect(readmeOptionProblems(readme, withOptions(agreeing))).toEqual([]);
    expect(readmeProblems(readme, withOptions(agreeing))).toEqual([]);
  });

  test('names each disagreement', () => {
    const { strict: _, ...rest } = agreeing;
    expect(readmeOptionProblems(readme, withOptions({ ...rest, root: { type: 'string', default: '/host/sys' }, timeout_ms: { type: 'integer' } }))).toEqual([
      'option root: the README says default `/sys`, the manifest `/host/sys`',
      "option timeout_ms is in the manifest's optionsSchema but not in the README's options table",
      "option strict is in the README's options table but not in the manifest's optionsSchema",
    ]);
  });

  test('a README without an options table misses every option; readmeProblems adds the metric problems', () => {
    expect(readmeProblems('# demo\n', withOptions({ root: { type: 'string' } }))).toEqual([
      "demo_power_watts is in the manifest but not in the README's metrics table",
      "option root is in the manifest's optionsSchema but not in the README's options table",
    ]);
  });
});

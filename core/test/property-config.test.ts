import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import fc from 'fast-check';
import { stringify } from 'yaml';
import { loadConfigFile } from '../src/config/load';
import { parseConfig } from '../src/config/schema';
import { ExporterError } from '../src/errors';
import { tempDir } from './helpers';

/**
 * The config loader on generated configs: a valid config with exactly one field made invalid must be refused
 * with an ExporterError whose message names that field, never with another kind of error or a stack trace.
 */

const LABEL_NAME = fc.stringMatching(/^[a-zA-Z_][a-zA-Z0-9_]{0,15}$/).filter((name) => !name.startsWith('__') && name !== 'device_type' && name !== 'hostname');
const METRIC_NAME = fc.stringMatching(/^[a-zA-Z_:][a-zA-Z0-9_:]{0,30}$/);
const DEVICE_ID = fc.stringMatching(/^[A-Za-z0-9._-]{1,64}$/);

/** Configs the schema accepts, with label values holding anything (quotes, newlines, braces, emoji). */
const validConfig = fc.record(
  {
    device_type: fc.stringMatching(/^[a-z][a-z0-9_]{0,20}$/),
    device_id: DEVICE_ID,
    interval: fc.double({ min: 0.001, max: 3600, noNaN: true }),
    port: fc.integer({ min: 0, max: 65535 }),
    reload_port: fc.integer({ min: 0, max: 65535 }),
    listen_address: fc.constantFrom('127.0.0.1', '0.0.0.0', '::1', 'localhost'),
    labels: fc.dictionary(LABEL_NAME, fc.string({ unit: 'grapheme', maxLength: 20 }), { maxKeys: 4 }),
    metrics: fc.dictionary(METRIC_NAME, fc.boolean(), { maxKeys: 6 }),
    enabled_metrics: fc.array(METRIC_NAME, { maxLength: 4 }),
    new_metrics_default: fc.boolean(),
    options: fc.dictionary(LABEL_NAME, fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 }),
    collectors: fc.array(fc.record({ type: fc.stringMatching(/^[a-z][a-z0-9_]{0,10}$/), name: DEVICE_ID }, { requiredKeys: ['type'] }), { maxLength: 3 }),
    plugin_dirs: fc.array(fc.string({ minLength: 1, maxLength: 10 }), { maxLength: 2 }),
    management_token: fc.string({ minLength: 1, maxLength: 20 }),
    log_level: fc.constantFrom('debug', 'info', 'warn', 'error'),
  },
  { requiredKeys: [] },
);

type Config = Record<string, unknown>;

/** One way to break a config, and the words its error must contain. */
interface Breakage {
  apply(config: Config): void;
  names: string;
}

const notA = {
  string: fc.oneof(fc.double(), fc.boolean(), fc.constant(null), fc.array(fc.integer(), { maxLength: 2 }), fc.constant({ a: 1 })),
  number: fc.oneof(fc.string({ maxLength: 8 }), fc.boolean(), fc.constant(null), fc.array(fc.integer(), { maxLength: 2 }), fc.constant({ a: 1 })),
  boolean: fc.oneof(fc.string({ maxLength: 8 }), fc.integer(), fc.constant(null), fc.array(fc.boolean(), { maxLength: 2 }), fc.constant({ a: true })),
  object: fc.oneof(fc.string({ maxLength: 8 }), fc.integer(), fc.boolean(), fc.constant(null), fc.array(fc.integer(), { maxLength: 2 })),
  array: fc.oneof(fc.string({ maxLength: 8 }), fc.integer(), fc.boolean(), fc.constant(null), fc.constant({ a: 1 })),
};

const set = (path: string, value: unknown, names = path): Breakage => ({
  apply: (config) => {
    config[path] = value;
  },
  names: `${names}:`,
});

const breakage: fc.Arbitrary<Breakage> = fc.oneof(
  ...(['device_type', 'device_id', 'listen_address', 'management_token'] as const).map((field) => notA.string.map((value) => set(field, value))),
  ...(['interval', 'port', 'reload_port'] as const).map((field) => notA.number.map((value) => set(field, value))),
  notA.boolean.map((value) => set('new_metrics_default', value)),
  ...(['labels', 'metrics', 'options', 'config_server'] as const).map((field) => notA.object.map((value) => set(field, value))),
  ...(['collectors', 'plugin_dirs', 'enabled_metrics'] as const).map((field) => notA.array.map((value) => set(field, value))),
  fc.oneof(fc.double({ max: 0 }), fc.double({ min: 3600.001, noDefaultInfinity: false, noNaN: true })).map((value) => set('interval', value)),
  fc.oneof(fc.integer({ max: -1 }), fc.integer({ min: 65536 }), fc.double({ min: 0.1, max: 65535, noInteger: true })).map((value) => set('port', value)),
  fc.string({ maxLength: 10 }).filter((level) => !['debug', 'info', 'warn', 'error'].includes(level)).map((value) => set('log_level', value)),
  fc.string({ maxLength: 10 }).filter((type) => !/^[a-z][a-z0-9_]*$/.test(type)).map((value) => set('device_type', value)),
  fc.string({ maxLength: 70 }).filter((id) => !/^[A-Za-z0-9._-]{1,64}$/.test(id)).map((value) => set('device_id', value)),
  fc.constant(set('management_token', '')),
  fc.stringMatching(/^[a-z_]{1,20}$/)
    .filter((key) => !['device_type', 'device_id', 'interval', 'port', 'reload_port', 'listen_address', 'labels', 'metrics', 'enabled_metrics', 'new_metrics_default', 'options', 'collectors', 'plugin_dirs', 'management_token', 'log_level', 'config_server'].includes(key))
    // defineProperty: `__proto__` must become a key, as JSON and YAML parsers make it.
    .map((key) => ({ apply: (config: Config) => void Object.defineProperty(config, key, { value: 1, enumerable: true }), names: `unknown key '${key}'` })),
  fc.tuple(LABEL_NAME, notA.string).map(([name, value]) => ({
    apply: (config: Config) => void (config.labels = { ...(config.labels as object), [name]: value }),
    names: `labels.${name}:`,
  })),
  fc.constantFrom('device_type', 'hostname', '__name__', '9lives', 'has space', 'dash-ed').map((name) => ({
    apply: (config: Config) => void (config.labels = { [name]: 'x' }),
    names: `labels: key '${name}'`,
  })),
  fc.tuple(METRIC_NAME, notA.boolean).map(([name, value]) => ({
    apply: (config: Config) => void (config.metrics = { ...(config.metrics as object), [name]: value }),
    names: `metrics.${name}:`,
  })),
  fc.constantFrom('has space', '1starts_with_digit', 'dash-ed', 'brace{x}', 'quote"d').map((name) => ({
    apply: (config: Config) => void (config.metrics = { [name]: true }),
    names: `metrics: key '${name}'`,
  })),
  fc.nat(2).map((index) => ({
    apply: (config: Config) => void (config.collectors = [...Array.from({ length: index }, () => ({ type: 'host' })), { name: 'x' }]),
    names: `collectors[${index}]: missing required key 'type'`,
  })),
  fc.string({ maxLength: 70 }).filter((name) => !/^[A-Za-z0-9._-]{1,64}$/.test(name)).map((name) => ({
    apply: (config: Config) => void (config.collectors = [{ type: 'host', name }]),
    names: `collectors[0].name:`,
  })),
  fc.string({ maxLength: 20 }).filter((url) => !/^https?:\/\//.test(url)).map((url) => ({
    apply: (config: Config) => void (config.config_server = { url }),
    names: 'config_server.url:',
  })),
  fc.oneof(fc.double({ max: 0 }), fc.double({ min: 300.001, noNaN: true })).map((timeout) => ({
    apply: (config: Config) => void (config.config_server = { timeout }),
    names: 'config_server.timeout:',
  })),
  fc.tuple(fc.nat(3), fc.string({ maxLength: 10 }).filter((name) => !/^[a-zA-Z_:][a-zA-Z0-9_:]*$/.test(name))).map(([index, name]) => ({
    apply: (config: Config) => void (config.enabled_metrics = [...Array.from({ length: index }, () => 'ok_name'), name]),
    names: `enabled_metrics[${index}]:`,
  })),
);

const invalidConfig = fc.tuple(validConfig, breakage).map(([config, broken]) => {
  const copy: Config = structuredClone(config);
  broken.apply(copy);
  return { config: copy, names: broken.names };
});

function expectClearError(error: unknown, where: string, names: string): void {
  expect(error).toBeInstanceOf(ExporterError);
  const { code, message } = error as ExporterError;
  expect(code).toBe('EME_CONFIG_INVALID');
  expect(message.startsWith(`${where}: `)).toBe(true);
  expect(message).toContain(names);
  expect(message).not.toMatch(/\n\s+at /);
}

function thrownBy(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  throw new Error('expected an error, but the config was accepted');
}

describe('the config loader on generated configs', () => {
  test('accepts every generated valid config', () => {
    fc.assert(
      fc.property(validConfig, (config) => {
        const parsed = parseConfig(config, 'config.yaml');
        expect(parsed.device_type).toBe(config.device_type ?? 'auto');
        expect(parsed.labels).toEqual(config.labels ?? {});
      }),
      { numRuns: 500 },
    );
  });

  test('refuses 4000 configs with one field broken, naming the field, with an ExporterError and no stack trace', () => {
    fc.assert(
      fc.property(invalidConfig, ({ config, names }) => {
        expectClearError(thrownBy(() => parseConfig(config, 'config.yaml')), 'config.yaml', names);
      }),
      { numRuns: 4000 },
    );
  });

  describe('through files', () => {
    let dir: { path: string; cleanup: () => Promise<void> };
    beforeAll(async () => {
      dir = await tempDir();
    });
    afterAll(() => dir.cleanup());

    test('a broken field written as YAML is named together with the file', async () => {
      const file = join(dir.path, 'config.yaml');
      await fc.assert(
        fc.asyncProperty(invalidConfig, async ({ config, names }) => {
          await writeFile(file, stringify(config));
          const error = await loadConfigFile(file).then(
            () => new Error('expected an error, but the config was accepted'),
            (thrown: unknown) => thrown,
          );
          expectClearError(error, file, names);
        }),
        { numRuns: 400 },
      );
    });

    test('any text at all gives a config or an ExporterError naming the file', async () => {
      const file = join(dir.path, 'config.yaml');
      const yamlish = fc
        .array(fc.oneof(fc.constantFrom('interval: ', 'labels:\n  ', 'metrics: {', '- ', '&a ', '*a', '!!str ', '!!int ', '? ', '"', "'", '#', '\n', '  ', ': ', '{', '}', '[', ']', ',', '\t', '%YAML 1.2\n---\n', '...\n'), fc.string({ maxLength: 6 })), { maxLength: 30 })
        .map((parts) => parts.join(''));
      await fc.assert(
        fc.asyncProperty(fc.oneof(yamlish, fc.string({ unit: 'binary', maxLength: 200 })), async (text) => {
          await writeFile(file, text);
          try {
            await loadConfigFile(file);
          } catch (error) {
            expect(error).toBeInstanceOf(ExporterError);
            expect(['EME_CONFIG_PARSE', 'EME_CONFIG_INVALID']).toContain((error as ExporterError).code);
            expect((error as ExporterError).message.startsWith(file)).toBe(true);
            expect((error as ExporterError).message).not.toMatch(/\n\s+at /);
          }
        }),
        { numRuns: 1000 },
      );
    });
  });
});

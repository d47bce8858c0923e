import type { FromSchema, JSONSchema } from 'json-schema-to-ts';
import { hostname } from 'node:os';
import { ExporterError } from '../errors';
import { describeAjvErrors, validatorFor } from '../validation';
import { sizeProblems } from './limits';

/** Seconds, or a Prometheus duration such as 30s, 5m, 7d. */
const duration = {
  anyOf: [
    { type: 'number', exclusiveMinimum: 0 },
    { type: 'string', pattern: '^([0-9]+(ms|s|m|h|d|w|y))+$' },
  ],
} as const;

/**
 * The config.yaml JSON schema: the one definition of every key's type, limits and default. The TypeScript type of a
 * config is derived from it, `schemas/config.schema.json` (published, shared with the config server) is generated
 * from it (`npm run generate:schema`), and `keys.ts` says how a change of each key applies.
 */
const schema = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  $id: 'https://edge-metrics.dev/schemas/config.schema.json',
  title: 'Edge Metrics Exporter config (config.yaml)',
  type: 'object',
  additionalProperties: false,
  properties: {
    device_type: {
      type: 'string',
      pattern: '^[a-z][a-z0-9_]*$',
      default: 'auto',
      description: "A device type served by an installed plugin (e.g. jetson_orin), 'host', or 'auto'",
    },
    device_id: {
      type: 'string',
      pattern: '^[A-Za-z0-9._-]{1,64}$',
      description: "This device's id at the config server; default: the hostname",
    },
    interval: {
      type: 'number',
      exclusiveMinimum: 0,
      maximum: 3600,
      default: 1,
      description: 'Collection interval in seconds',
    },
    port: { type: 'integer', minimum: 0, maximum: 65535, default: 9100 },
    reload_port: { type: 'integer', minimum: 0, maximum: 65535, default: 9101 },
    listen_address: { type: 'string', minLength: 1, default: '0.0.0.0' },
    labels: {
      type: 'object',
      default: {},
      propertyNames: {
        pattern: '^[a-zA-Z_][a-zA-Z0-9_]*$',
        not: { anyOf: [{ enum: ['device_type', 'hostname'] }, { pattern: '^__' }] },
      },
      additionalProperties: { type: 'string' },
    },
    metrics: {
      type: 'object',
      default: {},
      propertyNames: { pattern: '^[a-zA-Z_:][a-zA-Z0-9_:]*$' },
      additionalProperties: { type: 'boolean' },
    },
    enabled_metrics: {
      type: 'array',
      description: 'The old list format; converted to the metrics map',
      items: { type: 'string', pattern: '^[a-zA-Z_:][a-zA-Z0-9_:]*$' },
    },
    new_metrics_default: {
      type: 'boolean',
      description: 'Whether auto-discovered metrics start enabled; default false (true when there is no config file)',
    },
    options: { type: 'object', default: {} },
    collectors: {
      type: 'array',
      default: [],
      items: {
        type: 'object',
        required: ['type'],
        additionalProperties: false,
        properties: {
          type: { type: 'string', pattern: '^[a-z][a-z0-9_]*$' },
          name: { type: 'string', pattern: '^[A-Za-z0-9._-]{1,64}$' },
          options: { type: 'object', default: {} },
        },
      },
    },
    plugin_dirs: { type: 'array', default: [], items: { type: 'string', minLength: 1 } },
    management_token: { type: 'string', minLength: 1 },
    log_level: { enum: ['debug', 'info', 'warn', 'error'], default: 'info' },
    config_server: {
      type: 'object',
      additionalProperties: false,
      properties: {
        url: { type: 'string', pattern: '^https?://' },
        timeout: { type: 'number', exclusiveMinimum: 0, maximum: 300 },
        token: { type: 'string', minLength: 1 },
        sync_interval: { type: 'number', exclusiveMinimum: 0, maximum: 86400 },
      },
    },
    remote_write: {
      type: 'array',
      default: [],
      description: 'Prometheus remote-write receivers this device pushes every cycle to, through an on-disk queue each; local only (never synced)',
      items: {
        type: 'object',
        required: ['url'],
        additionalProperties: false,
        properties: {
          url: { type: 'string', pattern: '^https?://' },
          name: { type: 'string', pattern: '^[A-Za-z0-9._-]{1,64}$', description: "The receiver label of the self-metrics; default: the URL's host and path" },
          bearer_token: { type: 'string', minLength: 1 },
          bearer_token_file: { type: 'string', minLength: 1 },
          basic_auth: {
            type: 'object',
            required: ['username'],
            additionalProperties: false,
            properties: {
              username: { type: 'string', minLength: 1 },
              password: { type: 'string' },
              password_file: { type: 'string', minLength: 1 },
            },
          },
          headers: { type: 'object', additionalProperties: { type: 'string' } },
          tls: {
            type: 'object',
            additionalProperties: false,
            properties: {
              ca_file: { type: 'string', minLength: 1 },
              insecure_skip_verify: { type: 'boolean', default: false },
            },
          },
          timeout: { ...duration, default: '30s' },
          queue: {
            type: 'object',
            default: {},
            additionalProperties: false,
            properties: {
              dir: { type: 'string', minLength: 1, description: 'Default: .remote-write/<hash of the URL> beside the config file' },
              max_disk_mb: { type: 'number', exclusiveMinimum: 0, default: 512 },
              max_age: { ...duration, default: '7d' },
              max_samples_per_send: { type: 'integer', minimum: 1, maximum: 100000, default: 2000 },
              batch_send_deadline: { ...duration, default: '5s' },
            },
          },
        },
      },
    },
  },
} as const satisfies JSONSchema;

/** The config.yaml JSON schema, shared with the config server (also `@edge-metrics/core/schemas/config.schema.json`). */
export const configSchema: Record<string, unknown> = schema;

/** The text of `schemas/config.schema.json`: the schema above, as JSON. */
export function configSchemaJson(): string {
  return `${JSON.stringify(schema, null, 2)}\n`;
}

/** A top-level key of config.yaml. */
export type ConfigKey = keyof typeof schema.properties;

/** A config as the schema admits it, each default applied (ajv fills them in). */
type SchemaConfig = FromSchema<typeof schema>;

/**
 * A validated config with every default applied: the schema's, `device_id` (the hostname) and `new_metrics_default`
 * filled in by `parseConfig`, which also turns `enabled_metrics` into the `metrics` map.
 */
export type ExporterConfig = Omit<SchemaConfig, 'enabled_metrics' | 'device_id' | 'new_metrics_default'> & {
  device_id: string;
  new_metrics_default: boolean;
};

export type CollectorConfig = ExporterConfig['collectors'][number];

export type ConfigServerSettings = NonNullable<ExporterConfig['config_server']>;

/** One `remote_write:` entry, as validated (durations still as written). */
export type RemoteWriteConfig = ExporterConfig['remote_write'][number];

/**
 * Checks a config against the schema and the size limits without changing it; returns the problems as sentences
 * that name the field (empty when valid). The config server uses this for PUT bodies.
 */
export function configProblems(raw: unknown): string[] {
  // JSON `null`, YAML `~`, a comment-only or empty document: nothing a device could apply.
  if (raw === null || raw === undefined) return ['the config is empty (null): it must be an object of keys and values'];
  // An oversized config is refused before the schema: its thousands of entries would each add a problem.
  const tooLarge = sizeProblems(raw);
  if (tooLarge.length > 0) return tooLarge;
  const validate = validatorFor(configSchema);
  return validate(structuredClone(raw)) ? [] : describeAjvErrors(validate.errors);
}

/**
 * Validates a parsed config.yaml and returns it complete: the schema's defaults, `device_id` defaulting to the
 * hostname, the old `enabled_metrics` list merged into the `metrics` map (an explicit `metrics` entry wins).
 * `where` names the source in errors, e.g. the file path. `newMetricsDefault` is used when the config leaves
 * `new_metrics_default` unset.
 */
export function parseConfig(raw: unknown, where: string, newMetricsDefault = false): ExporterConfig {
  const tooLarge = sizeProblems(raw);
  if (tooLarge.length > 0) throw new ExporterError('EME_CONFIG_TOO_LARGE', `${where}: ${tooLarge.join('; ')}`);
  const config = structuredClone(raw ?? {}) as Record<string, unknown>;
  const validate = validatorFor(configSchema);
  if (!validate(config)) {
    throw new ExporterError('EME_CONFIG_INVALID', `${where}: ${describeAjvErrors(validate.errors).join('; ')}`);
  }
  const { enabled_metrics: enabledList, ...rest } = config as Record<string, unknown> & { enabled_metrics?: string[] };
  const parsed = rest as unknown as ExporterConfig;
  if (enabledList) {
    parsed.metrics = { ...Object.fromEntries(enabledList.map((name) => [name, true])), ...parsed.metrics };
  }
  parsed.device_id ??= hostname().replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 64);
  parsed.new_metrics_default ??= newMetricsDefault;
  return parsed;
}

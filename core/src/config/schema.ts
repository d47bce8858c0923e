import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { ExporterError } from '../errors';
import { describeAjvErrors, validatorFor } from '../validation';
import { sizeProblems } from './limits';

/** The config.yaml JSON schema, shared with the config server (also `@edge-metrics/core/schemas/config.schema.json`). */
export const configSchema: Record<string, unknown> = JSON.parse(
  readFileSync(join(__dirname, '..', '..', 'schemas', 'config.schema.json'), 'utf8'),
);

export interface CollectorConfig {
  type: string;
  name?: string;
  options: Record<string, unknown>;
}

export interface ConfigServerSettings {
  url?: string;
  timeout?: number;
  token?: string;
  sync_interval?: number;
}

/** One `remote_write:` entry, as validated (durations still as written). */
export interface RemoteWriteConfig {
  url: string;
  name?: string;
  bearer_token?: string;
  bearer_token_file?: string;
  basic_auth?: { username: string; password?: string; password_file?: string };
  headers?: Record<string, string>;
  tls?: { ca_file?: string; insecure_skip_verify?: boolean };
  timeout: number | string;
  queue: {
    dir?: string;
    max_disk_mb: number;
    max_age: number | string;
    max_samples_per_send: number;
    batch_send_deadline: number | string;
  };
}

/** A validated config with every default applied. */
export interface ExporterConfig {
  device_type: string;
  device_id: string;
  interval: number;
  port: number;
  reload_port: number;
  listen_address: string;
  labels: Record<string, string>;
  metrics: Record<string, boolean>;
  new_metrics_default: boolean;
  options: Record<string, unknown>;
  collectors: CollectorConfig[];
  plugin_dirs: string[];
  management_token?: string;
  log_level: 'debug' | 'info' | 'warn' | 'error';
  config_server?: ConfigServerSettings;
  remote_write: RemoteWriteConfig[];
}

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

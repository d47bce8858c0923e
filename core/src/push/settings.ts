import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { ExporterConfig, RemoteWriteConfig } from '../config/schema';
import { ExporterError, describeError } from '../errors';

/** One receiver, resolved from its `remote_write:` entry: everything the queue and the sender need. */
export interface ReceiverSettings {
  /** The `receiver` label of the self-metrics. */
  name: string;
  url: URL;
  headers: Record<string, string>;
  bearerToken?: string;
  bearerTokenFile?: string;
  basicAuth?: { username: string; password?: string; passwordFile?: string };
  /** PEM text of `tls.ca_file`, read when the config is applied. */
  ca?: string;
  insecureSkipVerify: boolean;
  timeoutMs: number;
  maxSamplesPerSend: number;
  batchSendDeadlineMs: number;
  queueDir: string;
  maxDiskBytes: number;
  maxAgeMs: number;
}

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000, y: 31_536_000_000 };

/** Seconds (a number) or a Prometheus duration (`30s`, `1h30m`, `7d`) in milliseconds. */
export function durationMs(value: number | string): number {
  if (typeof value === 'number') return value * 1000;
  let total = 0;
  for (const [, amount, unit] of value.matchAll(/(\d+)(ms|s|m|h|d|w|y)/g)) total += Number(amount) * UNIT_MS[unit!]!;
  return total;
}

/**
 * The receivers of a config: defaults applied (the queue beside the config file, in a folder named by a hash of the
 * URL, so that it follows the receiver across restarts and renames), credentials checked, the CA read. Throws an
 * ExporterError naming the file and the entry when one cannot be used, so that the config in force stays.
 */
export function resolveReceivers(config: ExporterConfig, configPath: string): ReceiverSettings[] {
  const receivers = config.remote_write.map((entry, index) => resolveReceiver(entry, `${configPath}: remote_write[${index}]`, dirname(configPath)));
  for (const [index, receiver] of receivers.entries()) {
    const earlier = receivers.findIndex((other) => other.name === receiver.name || other.queueDir === receiver.queueDir);
    if (earlier < index) {
      throw new ExporterError('EME_CONFIG_INVALID', `${configPath}: remote_write[${index}]: same name or queue dir as remote_write[${earlier}] (${receiver.name}); give each receiver its own name and queue.dir`);
    }
  }
  return receivers;
}

function resolveReceiver(entry: RemoteWriteConfig, where: string, configDir: string): ReceiverSettings {
  const url = new URL(entry.url);
  const auths = (['bearer_token', 'bearer_token_file', 'basic_auth'] as const).filter((key) => entry[key] !== undefined);
  if (auths.length > 1) throw new ExporterError('EME_CONFIG_INVALID', `${where}: ${auths.join(' and ')} are exclusive; keep one`);
  if (entry.basic_auth?.password !== undefined && entry.basic_auth.password_file !== undefined) {
    throw new ExporterError('EME_CONFIG_INVALID', `${where}.basic_auth: password and password_file are exclusive; keep one`);
  }
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded on first use: most exporters push nowhere
  const { createHash } = require('node:crypto') as typeof import('node:crypto');
  const hash = createHash('sha256').update(entry.url).digest('hex').slice(0, 16);
  const settings: ReceiverSettings = {
    name: entry.name ?? `${url.host}${url.pathname}`,
    url,
    headers: entry.headers ?? {},
    insecureSkipVerify: entry.tls?.insecure_skip_verify ?? false,
    timeoutMs: durationMs(entry.timeout),
    maxSamplesPerSend: entry.queue.max_samples_per_send,
    batchSendDeadlineMs: durationMs(entry.queue.batch_send_deadline),
    queueDir: resolve(configDir, entry.queue.dir ?? `.remote-write/${hash}`),
    maxDiskBytes: Math.floor(entry.queue.max_disk_mb * 2 ** 20),
    maxAgeMs: durationMs(entry.queue.max_age),
  };
  if (entry.bearer_token !== undefined) settings.bearerToken = entry.bearer_token;
  if (entry.bearer_token_file !== undefined) settings.bearerTokenFile = resolve(configDir, entry.bearer_token_file);
  if (entry.basic_auth) {
    const { username, password, password_file } = entry.basic_auth;
    settings.basicAuth = { username, ...(password !== undefined ? { password } : {}), ...(password_file !== undefined ? { passwordFile: resolve(configDir, password_file) } : {}) };
  }
  // Secret files are read at every request (so that a rotated token is used) but must be readable now.
  for (const [key, file] of [['bearer_token_file', settings.bearerTokenFile], ['basic_auth.password_file', settings.basicAuth?.passwordFile]] as const) {
    if (file !== undefined) readSecret(file, `${where}.${key}`);
  }
  if (entry.tls?.ca_file !== undefined) {
    const file = resolve(configDir, entry.tls.ca_file);
    try {
      settings.ca = readFileSync(file, 'utf8');
    } catch (error) {
      throw new ExporterError('EME_CONFIG_INVALID', `${where}.tls.ca_file: cannot read ${file}: ${describeError(error)}`);
    }
  }
  return settings;
}

/** A secret file's content without its trailing newline; `where` names the config field in the error. */
export function readSecret(file: string, where: string): string {
  try {
    return readFileSync(file, 'utf8').replace(/\r?\n$/, '');
  } catch (error) {
    throw new ExporterError('EME_CONFIG_INVALID', `${where}: cannot read ${file}: ${describeError(error)}`);
  }
}

/** The Authorization header of a receiver, secret files read now; undefined without credentials. */
export function authorization(receiver: ReceiverSettings): string | undefined {
  if (receiver.bearerToken !== undefined) return `Bearer ${receiver.bearerToken}`;
  if (receiver.bearerTokenFile !== undefined) return `Bearer ${readSecret(receiver.bearerTokenFile, 'bearer_token_file')}`;
  if (receiver.basicAuth) {
    const { username, password, passwordFile } = receiver.basicAuth;
    const secret = passwordFile !== undefined ? readSecret(passwordFile, 'basic_auth.password_file') : (password ?? '');
    return `Basic ${Buffer.from(`${username}:${secret}`).toString('base64')}`;
  }
  return undefined;
}

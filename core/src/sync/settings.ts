import { hostname } from 'node:os';
import type { ExporterConfig } from '../config/schema';
import { ExporterError } from '../errors';

export interface SyncSettings {
  /** The config server, or several replicas of it in order of preference (see `ConfigServerClient`). */
  urls: readonly URL[];
  deviceId: string;
  token?: string;
  /** Bounds start-up's fetch and every request but the long-poll. */
  timeoutMs: number;
  /** How long the server may hold a long-poll (seconds). */
  waitSeconds: number;
}

const DEFAULT_TIMEOUT_S = 5;
const LONG_POLL_S = 55;

/**
 * The config server settings: environment (`CONFIG_SERVER_URL`: one URL or several comma-separated, `CONFIG_TIMEOUT`, `CONFIG_SERVER_TOKEN`,
 * `DEVICE_ID`, as the old exporter's unit sets them) over the local file's `config_server:`. Undefined when no
 * server is configured: the exporter runs standalone.
 */
export function syncSettings(env: NodeJS.ProcessEnv, local: ExporterConfig | undefined): SyncSettings | undefined {
  const file = local?.config_server ?? {};
  const rawUrl = env.CONFIG_SERVER_URL || file.url;
  if (!rawUrl) return undefined;
  const urls = rawUrl.split(',').map((entry, index, entries) => {
    const where = entries.length > 1 ? ` entry ${index + 1}` : '';
    try {
      const url = new URL(entry.trim());
      if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('not http');
      return url;
    } catch {
      throw new ExporterError('EME_CONFIG_INVALID', `CONFIG_SERVER_URL${where}: '${entry.trim()}' is not an http:// or https:// URL`);
    }
  });
  const timeoutS = env.CONFIG_TIMEOUT !== undefined && env.CONFIG_TIMEOUT !== '' ? Number(env.CONFIG_TIMEOUT) : (file.timeout ?? DEFAULT_TIMEOUT_S);
  if (!Number.isFinite(timeoutS) || timeoutS <= 0) {
    throw new ExporterError('EME_CONFIG_INVALID', `CONFIG_TIMEOUT: '${env.CONFIG_TIMEOUT}' is not a number of seconds above 0`);
  }
  const deviceId = env.DEVICE_ID || local?.device_id || hostname();
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(deviceId) || deviceId === '.' || deviceId === '..') {
    throw new ExporterError('EME_CONFIG_INVALID', `DEVICE_ID: '${deviceId}' must be 1 to 64 letters, digits, '.', '_' or '-'`);
  }
  const token = env.CONFIG_SERVER_TOKEN || file.token;
  return {
    urls,
    deviceId,
    ...(token ? { token } : {}),
    timeoutMs: timeoutS * 1000,
    waitSeconds: Math.min(LONG_POLL_S, file.sync_interval ?? LONG_POLL_S),
  };
}

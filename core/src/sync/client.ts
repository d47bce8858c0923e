import { describeError } from '../errors';
import type { SyncSettings } from './settings';

export type RawConfig = Record<string, unknown>;

export type Fetched =
  | { kind: 'config'; version: number; updatedAt: number; config: RawConfig }
  /** A version the server stores that is not a config (e.g. `null`): the device reports it failed. */
  | { kind: 'unusable'; version: number; error: string }
  | { kind: 'unchanged' }
  | { kind: 'missing' };

export type Stored = { kind: 'stored'; version: number } | { kind: 'conflict' };

export interface DeviceReport {
  metrics_port?: number;
  device_type?: string;
  version?: number;
  status?: 'applied' | 'failed';
  error?: string;
}

/** The config server's HTTP API as this device uses it (see config-server/README.md, "How an exporter syncs"). */
export class ConfigServerClient {
  constructor(private readonly settings: SyncSettings) {}

  /**
   * `GET /config/{id}`; with `knownVersion` and `waitSeconds` a long-poll that the server holds until a newer
   * version exists. `signal` cancels it.
   */
  async fetchConfig(knownVersion?: number, waitSeconds = 0, signal?: AbortSignal): Promise<Fetched> {
    const query = waitSeconds > 0 && knownVersion !== undefined ? `?wait=${waitSeconds}` : '';
    const response = await this.request('GET', `/config/${this.settings.deviceId}${query}`, {
      headers: knownVersion !== undefined ? { 'If-None-Match': `"${knownVersion}"` } : {},
      timeoutMs: this.settings.timeoutMs + waitSeconds * 1000,
      ...(signal ? { signal } : {}),
    });
    if (response.status === 304) return { kind: 'unchanged' };
    if (response.status === 404) return { kind: 'missing' };
    await expectStatus(response, [200], 'GET');
    const version = versionOf(response);
    let config: unknown;
    try {
      config = await response.json();
    } catch (error) {
      throw new Error(`the config server answered with a body that is not JSON: ${describeError(error)}`);
    }
    if (typeof config !== 'object' || config === null || Array.isArray(config)) {
      const kind = config === null ? 'null' : Array.isArray(config) ? 'an array' : `a ${typeof config}`;
      return { kind: 'unusable', version, error: `the config is ${kind}, not an object (a map of config keys)` };
    }
    const updatedAt = Date.parse(response.headers.get('x-config-updated-at') ?? '');
    return { kind: 'config', version, updatedAt: Number.isNaN(updatedAt) ? 0 : updatedAt, config: config as RawConfig };
  }

  /** `PUT /config/{id}`: only over `ifMatch`, or only when the device has no config yet (`'none'`). */
  async storeConfig(config: RawConfig, precondition: number | 'none'): Promise<Stored> {
    const response = await this.request('PUT', `/config/${this.settings.deviceId}`, {
      headers: { 'Content-Type': 'application/json', ...(precondition === 'none' ? { 'If-None-Match': '*' } : { 'If-Match': `"${precondition}"` }) },
      body: JSON.stringify(config),
      timeoutMs: this.settings.timeoutMs,
    });
    if (response.status === 412) return { kind: 'conflict' };
    await expectStatus(response, [200, 201], 'PUT');
    return { kind: 'stored', version: versionOf(response) };
  }

  /** `POST /devices/{id}/status`; `unknown` when the server has no config for this device (it must register). */
  async report(report: DeviceReport): Promise<'reported' | 'unknown'> {
    const response = await this.request('POST', `/devices/${this.settings.deviceId}/status`, {
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(report),
      timeoutMs: this.settings.timeoutMs,
    });
    if (response.status === 404) return 'unknown';
    await expectStatus(response, [200], 'POST status');
    return 'reported';
  }

  private async request(
    method: string,
    path: string,
    options: { headers?: Record<string, string>; body?: string; timeoutMs: number; signal?: AbortSignal },
  ): Promise<Response> {
    const timeout = AbortSignal.timeout(options.timeoutMs);
    const signal = options.signal ? AbortSignal.any([timeout, options.signal]) : timeout;
    try {
      return await fetch(new URL(path.replace(/^\//, ''), withTrailingSlash(this.settings.url)), {
        method,
        headers: {
          'X-Config-Source': 'device',
          ...(this.settings.token ? { Authorization: `Bearer ${this.settings.token}` } : {}),
          ...options.headers,
        },
        ...(options.body !== undefined ? { body: options.body } : {}),
        signal,
      });
    } catch (error) {
      if (options.signal?.aborted) throw error;
      if (timeout.aborted) throw new Error(`no answer from ${this.settings.url.origin} within ${options.timeoutMs} ms`);
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      throw new Error(`cannot reach ${this.settings.url.origin}: ${cause?.code ?? cause?.message ?? describeError(error)}`);
    }
  }
}

function withTrailingSlash(url: URL): URL {
  return url.pathname.endsWith('/') ? url : new URL(`${url.href}/`);
}

function versionOf(response: Response): number {
  const version = Number(/^"(\d+)"$/.exec(response.headers.get('etag') ?? '')?.[1]);
  if (!Number.isSafeInteger(version) || version < 1) throw new Error(`the config server answered without a valid ETag (${response.headers.get('etag')})`);
  return version;
}

async function expectStatus(response: Response, ok: number[], what: string): Promise<void> {
  if (ok.includes(response.status)) return;
  const text = await response.text().catch(() => '');
  let detail = text.slice(0, 300);
  try {
    const body = JSON.parse(text) as { error?: string; problems?: string[] };
    if (body.error) detail = [body.error, ...(body.problems ?? [])].join('; ');
  } catch {
    // not JSON: the raw start of the body says enough
  }
  const hint = response.status === 401 || response.status === 403 ? ' (check CONFIG_SERVER_TOKEN)' : '';
  throw new Error(`the config server refused ${what} with ${response.status}${hint}: ${detail}`);
}

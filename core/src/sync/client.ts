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

/** How long a server that could not be reached is passed over before it is tried first again. */
const FAILBACK_MS = 30_000;
/** Answers of a proxy, or of a replica whose database is down: another replica may serve the request. */
const UNAVAILABLE = new Set([502, 503, 504]);

/**
 * The config server's HTTP API as this device uses it (see config-server/README.md, "How an exporter syncs").
 * With several URLs (replicas of one server) a request goes to the first one not passed over; a connection error,
 * a timeout or a 502/503/504 passes that one over for `FAILBACK_MS` (30 s) and sends the request to the next at once, so a
 * device follows the first replica again once it is back.
 */
export class ConfigServerClient {
  private readonly downUntil: number[];
  /** The server that answered last: the one log lines name. */
  private current: URL;

  private readonly onFailover: (message: string) => void;
  private readonly failbackMs: number;

  constructor(
    private readonly settings: SyncSettings,
    options: { onFailover?: (message: string) => void; failbackMs?: number } = {},
  ) {
    this.downUntil = settings.urls.map(() => 0);
    this.current = settings.urls[0];
    this.onFailover = options.onFailover ?? (() => undefined);
    this.failbackMs = options.failbackMs ?? FAILBACK_MS;
  }

  /** The origin of the server that answered last (or is tried first). */
  get origin(): string {
    return this.current.origin;
  }

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
    const now = Date.now();
    const order = this.settings.urls.map((_, index) => index);
    // Servers passed over go last, in their order: when every one failed lately, all are tried anyway.
    const tries = [...order.filter((index) => this.downUntil[index] <= now), ...order.filter((index) => this.downUntil[index] > now)];
    let failure: Error | undefined;
    for (const [attempt, index] of tries.entries()) {
      const url = this.settings.urls[index];
      const last = attempt === tries.length - 1;
      try {
        const response = await this.requestFrom(url, method, path, options);
        if (!last && UNAVAILABLE.has(response.status)) {
          failure = new Error(`${url.origin} answered ${response.status}`);
          await response.body?.cancel();
        } else {
          if (url !== this.current && failure) this.onFailover(`config server ${failure.message}: using ${url.origin}`);
          this.current = url;
          if (!UNAVAILABLE.has(response.status)) this.downUntil[index] = 0;
          return response;
        }
      } catch (error) {
        if (options.signal?.aborted || last) throw error;
        failure = error as Error;
      }
      this.downUntil[index] = Date.now() + this.failbackMs;
    }
    throw failure ?? new Error('no config server URL');
  }

  private async requestFrom(
    server: URL,
    method: string,
    path: string,
    options: { headers?: Record<string, string>; body?: string; timeoutMs: number; signal?: AbortSignal },
  ): Promise<Response> {
    const timeout = AbortSignal.timeout(options.timeoutMs);
    const signal = options.signal ? AbortSignal.any([timeout, options.signal]) : timeout;
    try {
      return await fetch(new URL(path.replace(/^\//, ''), withTrailingSlash(server)), {
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
      if (timeout.aborted) throw new Error(`no answer from ${server.origin} within ${options.timeoutMs} ms`);
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      throw new Error(`cannot reach ${server.origin}: ${cause?.code ?? cause?.message ?? describeError(error)}`);
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

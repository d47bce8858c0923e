/**
 * The HTTP side of a Shelly: GET a path, authenticate as the device's generation asks (Gen1: basic, Gen2+:
 * digest SHA-256), and return the parsed JSON. Errors say what went wrong in words an operator can act on; the
 * caller adds which plug.
 */
import { describeError } from '@edge-metrics/core/plugin';
import { digestAuthorization, newCnonce, parseDigestChallenge, unsupportedChallenge, type DigestChallenge } from './digest';

/** `none` for the always-open `/shelly`, `basic` for Gen1, `digest` for Gen2+. */
export type AuthScheme = 'none' | 'basic' | 'digest';

export interface Credentials {
  username: string;
  password?: string;
}

/**
 * Turns the `host` option into the device's base URL: a bare IP address or host name, `host:port`, or an
 * http(s) URL (whose path, if any, is kept as a prefix, e.g. behind a reverse proxy).
 */
export function baseUrlOf(host: string): URL {
  const text = host.trim();
  const candidate = /^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? text : `http://${text}`;
  const url = URL.canParse(candidate) ? new URL(candidate) : undefined;
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:') || url.hostname === '') {
    throw new Error(`options.host '${host}' is not an IP address, host name, host:port or http(s) URL`);
  }
  if (url.username !== '' || url.password !== '') {
    throw new Error(`options.host '${url.host}' carries credentials: give them as options.username and options.password`);
  }
  return url;
}

export class ShellyHttp {
  /** The last digest challenge: firmware 2.0+ accepts a nonce for many requests when `nc` counts up. */
  private challenge: DigestChallenge | undefined;
  private nonceCount = 0;
  /** The path prefix of the base URL without its trailing slash: '' for a device, '/plug1' behind a proxy. */
  private readonly prefix: string;

  constructor(
    private readonly base: URL,
    private readonly credentials: Credentials,
  ) {
    this.prefix = base.pathname.replace(/\/+$/, '');
  }

  /** Where the device is, for messages. */
  get where(): string {
    return `${this.base.origin}${this.prefix}`;
  }

  async getJson(path: string, auth: AuthScheme, signal: AbortSignal): Promise<unknown> {
    const target = `${this.prefix}${path}`;
    let response = await this.send(target, this.authorization(auth, target), signal);
    if (response.status === 401 && auth === 'digest' && this.credentials.password !== undefined) {
      const challenge = parseDigestChallenge(response.headers.get('www-authenticate'));
      if (challenge) {
        await response.body?.cancel();
        const unsupported = unsupportedChallenge(challenge);
        if (unsupported) throw new Error(`asks for HTTP digest authentication the way this plugin cannot answer: ${unsupported}`);
        this.challenge = challenge;
        this.nonceCount = 0;
        response = await this.send(target, this.authorization(auth, target), signal);
      }
    }
    if (response.status === 401) {
      await response.body?.cancel();
      throw new Error(this.authFailure(auth, path));
    }
    const text = await response.text();
    if (!response.ok) {
      const hint = response.status === 404 ? ` (is options.generation right for this device?)` : '';
      throw new Error(`answered HTTP ${response.status} to GET ${path}${hint}`);
    }
    try {
      return JSON.parse(text);
    } catch {
      throw new Error(`answered GET ${path} with something that is not JSON: ${JSON.stringify(text.slice(0, 60))}`);
    }
  }

  private async send(target: string, authorization: string | undefined, signal: AbortSignal): Promise<Response> {
    try {
      return await fetch(`${this.base.origin}${target}`, { signal, headers: authorization ? { authorization } : {} });
    } catch (error) {
      // fetch() reports every network failure as "fetch failed"; the cause says which.
      const cause = (error as { cause?: { message?: unknown } }).cause;
      throw new Error(typeof cause?.message === 'string' ? cause.message : describeError(error));
    }
  }

  private authorization(auth: AuthScheme, target: string): string | undefined {
    const { username, password } = this.credentials;
    if (password === undefined) return undefined;
    if (auth === 'basic') return `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
    if (auth === 'digest' && this.challenge) {
      this.nonceCount += 1;
      return digestAuthorization(this.challenge, {
        username,
        password,
        method: 'GET',
        uri: target,
        nc: this.nonceCount,
        cnonce: newCnonce(),
      });
    }
    return undefined;
  }

  private authFailure(auth: AuthScheme, path: string): string {
    if (auth === 'none') {
      return `asks for a password for GET ${path}, which Shelly devices leave open: set options.generation to skip detection`;
    }
    const scheme = auth === 'digest' ? 'HTTP digest, SHA-256' : 'HTTP basic';
    const user = `user '${this.credentials.username}'`;
    if (this.credentials.password === undefined) {
      return `requires a password (${scheme}, ${user}): set options.password`;
    }
    return `rejected the password (${scheme}, ${user}): check options.password${auth === 'basic' ? ' and options.username' : ''}`;
  }
}

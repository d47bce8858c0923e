import { sameDigest, secretDigest } from '@edge-metrics/core/plugin';
import { deviceIdProblem } from './device-id';
import { ConfigServerError } from './errors';

/** Who is making a request. An open server (no token configured) treats every caller as admin. */
export type Principal = { role: 'admin' } | { role: 'device'; deviceId: string };

/** A request whose bearer token is missing or matches no configured token. */
export interface Rejection {
  role: 'rejected';
  reason: string;
}

/**
 * Reads per-device tokens: `device_id=token` entries separated by commas (the environment variable) or by lines
 * (a file, where blank lines and lines starting with '#' are skipped). `where` names the source in errors, which
 * never quote a token.
 */
export function parseDeviceTokens(text: string, where: string, separator: ',' | '\n'): Map<string, string> {
  const tokens = new Map<string, string>();
  text.split(separator).forEach((line, index) => {
    const entry = line.trim();
    if (entry === '' || (separator === '\n' && entry.startsWith('#'))) return;
    const at = separator === '\n' ? `${where}:${index + 1}` : `${where} entry ${index + 1}`;
    const fail = (problem: string): never => {
      throw new ConfigServerError('ECS_TOKENS_INVALID', `${at}: ${problem}`);
    };
    const equals = entry.indexOf('=');
    if (equals < 0) fail('expected device_id=token');
    const deviceId = entry.slice(0, equals).trim();
    const token = entry.slice(equals + 1).trim();
    const problem = deviceIdProblem(deviceId);
    if (problem) fail(problem);
    if (token === '') fail(`the token of ${deviceId} is empty`);
    if (tokens.has(deviceId)) fail(`${deviceId} is listed twice`);
    tokens.set(deviceId, token);
  });
  return tokens;
}

/**
 * Tells admin and devices apart by their bearer tokens. Only SHA-256 digests of the tokens are kept and looked up: a
 * lookup's time can tell something of a digest, which does not lead back to a token.
 */
export class Authenticator {
  private readonly adminDigest: Buffer | undefined;
  /** Device by the hex digest of its token: one lookup per request, whatever the size of the fleet. */
  private readonly devicesByDigest: ReadonlyMap<string, string>;
  private readonly digestsByDevice: ReadonlyMap<string, Buffer>;

  constructor(adminToken: string | undefined, deviceTokens: ReadonlyMap<string, string>) {
    const fail = (problem: string): never => {
      throw new ConfigServerError('ECS_TOKENS_INVALID', problem);
    };
    if (adminToken === '') fail('the admin token is empty');
    if (adminToken === undefined && deviceTokens.size > 0) {
      fail('device tokens are set but no admin token: nobody could list devices or manage configs; set an admin token');
    }
    const owners = new Map<string, string>();
    for (const [deviceId, token] of deviceTokens) {
      if (token === adminToken) fail(`the token of device ${deviceId} is the admin token`);
      const owner = owners.get(token);
      if (owner) fail(`devices ${owner} and ${deviceId} have the same token`);
      owners.set(token, deviceId);
    }
    this.adminDigest = adminToken === undefined ? undefined : secretDigest(adminToken);
    this.digestsByDevice = new Map([...deviceTokens].map(([deviceId, token]) => [deviceId, secretDigest(token)]));
    this.devicesByDigest = new Map([...this.digestsByDevice].map(([deviceId, digest]) => [digest.toString('hex'), deviceId]));
  }

  /** True when no token is configured: every request is let in. */
  get open(): boolean {
    return this.adminDigest === undefined;
  }

  /** The digest of the token `principal` signs in with now; undefined when it has none (any more). */
  digestOf(principal: Principal): Buffer | undefined {
    if (principal.role === 'admin') return this.adminDigest;
    return this.digestsByDevice.get(principal.deviceId);
  }

  /** Who sends the `Authorization` header `authorization`. */
  identify(authorization: string | undefined): Principal | Rejection {
    if (this.open) return { role: 'admin' };
    const token = /^Bearer +(\S+) *$/i.exec(authorization ?? '')?.[1];
    if (token === undefined) return { role: 'rejected', reason: 'no bearer token (send Authorization: Bearer <token>)' };
    return this.identifyToken(token);
  }

  /** Whose token `token` is: the admin's (compared in constant time) or a device's (found by its digest). */
  identifyToken(token: string): Principal | Rejection {
    const presented = secretDigest(token);
    if (this.adminDigest && sameDigest(presented, this.adminDigest)) return { role: 'admin' };
    const deviceId = this.devicesByDigest.get(presented.toString('hex'));
    return deviceId === undefined ? { role: 'rejected', reason: 'wrong token' } : { role: 'device', deviceId };
  }
}

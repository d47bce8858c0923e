import type { Request, Response } from 'express';
import { parseBody, type BodyFormat } from './bodies';
import { HttpError } from './errors';
import type { ChangeSource } from './store';
import type { Principal } from './tokens';

/** The client's IP address, an IPv4-mapped IPv6 address (`::ffff:10.0.0.5`) written as IPv4. */
export function clientAddress(req: Request): string | null {
  const address = req.socket.remoteAddress;
  if (address === undefined) return null;
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice('::ffff:'.length) : address;
}

/** The caller, as the authentication middleware left it. */
export function principalOf(res: Response): Principal {
  return res.locals.principal as Principal;
}

/**
 * Whether the request acts for the device itself or for an operator: the header `X-Config-Source: device|admin`,
 * else `device` for a device token and `admin` for the admin token (or on an open server). A device token cannot
 * act as admin.
 */
export function requestSource(req: Request, res: Response): ChangeSource {
  const header = req.get('X-Config-Source')?.trim().toLowerCase();
  if (header !== undefined && header !== 'device' && header !== 'admin') {
    throw new HttpError(400, `X-Config-Source must be "device" or "admin", not ${JSON.stringify(header)}`);
  }
  const principal = principalOf(res);
  if (principal.role === 'device') {
    if (header === 'admin') throw new HttpError(403, 'a device token cannot make changes as admin');
    return 'device';
  }
  return (header as ChangeSource | undefined) ?? 'admin';
}

/** The long-poll time in seconds from `?wait=N`: 0 when absent, at most `maxSeconds`; 400 when not a number ≥ 0. */
export function waitSeconds(req: Request, maxSeconds: number): number {
  const raw = req.query.wait;
  if (raw === undefined) return 0;
  const seconds = typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : NaN;
  if (!Number.isFinite(seconds) || seconds < 0) {
    throw new HttpError(400, `wait must be a number of seconds from 0 to ${maxSeconds}, not ${JSON.stringify(raw)}`);
  }
  return Math.min(seconds, maxSeconds);
}

/** An AbortSignal that fires when the response closes, e.g. because the client went away. */
export function signalOnClose(res: Response): AbortSignal {
  const controller = new AbortController();
  res.once('close', () => controller.abort());
  return controller.signal;
}

/** `?limit=N` as an integer from 1 to `max`, `fallback` when absent; 400 otherwise. */
export function limitParam(req: Request, fallback: number, max: number): number {
  const raw = req.query.limit;
  if (raw === undefined) return fallback;
  const limit = typeof raw === 'string' ? Number(raw) : NaN;
  if (!Number.isInteger(limit) || limit < 1 || limit > max) {
    throw new HttpError(400, `limit must be an integer from 1 to ${max}, not ${JSON.stringify(raw)}`);
  }
  return limit;
}

export const JSON_TYPES = ['application/json', 'application/*+json'];
export const YAML_TYPES = ['application/yaml', 'application/x-yaml', 'text/yaml', 'text/x-yaml'];

/** The parsed request body in one of `formats` (read as text by express.text); 415 for any other media type. */
export function requestBody(req: Request, formats: readonly BodyFormat[]): unknown {
  const format: BodyFormat | undefined = req.is(JSON_TYPES) ? 'json' : req.is(YAML_TYPES) ? 'yaml' : undefined;
  if (format === undefined || !formats.includes(format) || typeof req.body !== 'string') {
    const wanted = formats.map((f) => (f === 'json' ? 'application/json' : 'application/yaml')).join(' or ');
    throw new HttpError(415, `send the body with Content-Type ${wanted}, not ${req.get('Content-Type') ?? 'none'}`);
  }
  return parseBody(req.body, format);
}

/** A handler for the methods a path does not serve. */
export function methodNotAllowed(allow: string): (req: Request, res: Response) => never {
  return (req, res) => {
    res.set('Allow', allow);
    throw new HttpError(405, `${req.method} is not served on ${req.path}; allowed: ${allow}`);
  };
}

/** Lets only the admin (or anyone on an open server) through. */
export function requireAdmin(_req: Request, res: Response, next: () => void): void {
  if (principalOf(res).role !== 'admin') {
    throw new HttpError(403, 'this route needs the admin token; a device token only serves its own /config and /devices paths');
  }
  next();
}

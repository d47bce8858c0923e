/**
 * HTTP digest authentication (RFC 7616) as Shelly's Gen2+ devices speak it: algorithm SHA-256, qop auth, user
 * `admin`, HA1 = SHA256(user:realm:password). A device challenges with
 * `WWW-Authenticate: Digest qop="auth", realm="<device id>", nonce="<nonce>", algorithm=SHA-256`.
 */
import { createHash, randomBytes } from 'node:crypto';

export interface DigestChallenge {
  realm: string;
  nonce: string;
  qop?: string;
  algorithm?: string;
  /** Echoed back when present, even when empty (the Shelly Wall Display sends `opaque=""` and requires it). */
  opaque?: string;
}

export interface DigestRequest {
  username: string;
  password: string;
  method: string;
  /** The request target as sent: path and query. */
  uri: string;
  /** The nonce count: how many requests this nonce has signed, this one included. */
  nc: number;
  cnonce: string;
}

const PARAMETER = /([A-Za-z0-9_-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))/g;

/** Reads a `WWW-Authenticate` header; undefined when it is not a digest challenge with a realm and a nonce. */
export function parseDigestChallenge(header: string | null | undefined): DigestChallenge | undefined {
  const match = /^\s*Digest\s+([\s\S]*)$/i.exec(header ?? '');
  if (!match) return undefined;
  const parameters = new Map<string, string>();
  for (const [, name, quoted, token] of match[1]!.matchAll(PARAMETER)) {
    parameters.set(name!.toLowerCase(), quoted !== undefined ? quoted.replace(/\\(.)/g, '$1') : token!);
  }
  const realm = parameters.get('realm');
  const nonce = parameters.get('nonce');
  if (realm === undefined || nonce === undefined) return undefined;
  return {
    realm,
    nonce,
    qop: parameters.get('qop'),
    algorithm: parameters.get('algorithm'),
    opaque: parameters.get('opaque'),
  };
}

/**
 * Why a challenge cannot be answered, or undefined when it can: only SHA-256 with qop auth is implemented,
 * which is what every Gen2+ Shelly asks for.
 */
export function unsupportedChallenge(challenge: DigestChallenge): string | undefined {
  if (challenge.algorithm?.toUpperCase() !== 'SHA-256') {
    return `digest algorithm ${challenge.algorithm ?? 'MD5 (none named)'} is not supported, only SHA-256`;
  }
  const qops = (challenge.qop ?? '').split(',').map((qop) => qop.trim());
  if (!qops.includes('auth')) return `digest qop "${challenge.qop ?? ''}" is not supported, only "auth"`;
  return undefined;
}

/** The `response` value: SHA256(HA1:nonce:nc:cnonce:qop:HA2) with HA2 = SHA256(method:uri). */
export function digestResponse(challenge: DigestChallenge, request: DigestRequest): string {
  const ha1 = sha256(`${request.username}:${challenge.realm}:${request.password}`);
  const ha2 = sha256(`${request.method}:${request.uri}`);
  return sha256(`${ha1}:${challenge.nonce}:${nonceCount(request.nc)}:${request.cnonce}:auth:${ha2}`);
}

/** The `Authorization` header answering `challenge` for `request`. */
export function digestAuthorization(challenge: DigestChallenge, request: DigestRequest): string {
  const parts = [
    `username=${quote(request.username)}`,
    `realm=${quote(challenge.realm)}`,
    `nonce=${quote(challenge.nonce)}`,
    `uri=${quote(request.uri)}`,
    'algorithm=SHA-256',
    `response=${quote(digestResponse(challenge, request))}`,
    'qop=auth',
    `nc=${nonceCount(request.nc)}`,
    `cnonce=${quote(request.cnonce)}`,
  ];
  if (challenge.opaque !== undefined) parts.push(`opaque=${quote(challenge.opaque)}`);
  return `Digest ${parts.join(', ')}`;
}

/** A fresh client nonce. */
export function newCnonce(): string {
  return randomBytes(16).toString('hex');
}

function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

function nonceCount(nc: number): string {
  return nc.toString(16).padStart(8, '0');
}

function quote(value: string): string {
  return `"${value.replace(/[\\"]/g, '\\$&')}"`;
}

import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Logger } from '@edge-metrics/core/plugin';
import type { Request } from 'express';
import { describeError, HttpError } from './errors';
import type { Store } from './store-api';
import type { Authenticator, Principal } from './tokens';

/** The console's session cookie. */
export const SESSION_COOKIE = 'ecs_session';
/** Expired sessions are refused at once; the rows are deleted this often. */
const SWEEP_INTERVAL_MS = 10 * 60 * 1000;
/** 32 random bytes in base64url. */
const COOKIE_VALUE_PATTERN = /^[A-Za-z0-9_-]{43}$/;

/** A signed-in console user. */
export interface Session {
  principal: Principal;
  csrfToken: string;
  expiresAt: number;
}

const sha256Hex = (text: string): string => createHash('sha256').update(text).digest('hex');
const randomToken = (): string => randomBytes(32).toString('base64url');

/**
 * Ties a session to the token it was opened with: an HMAC of the token's digest keyed by the cookie's value, which
 * the database does not hold. A session ends when its token changes or is removed, and a copy of the database
 * gives nothing to guess tokens against.
 */
const credentialOf = (cookieValue: string, tokenDigest: Buffer): string =>
  createHmac('sha256', cookieValue).update(tokenDigest).digest('hex');

/**
 * Console sessions, kept in the store so that every replica accepts them and a sign-out ends them everywhere: opened
 * with a token, found by the cookie's value, ended on sign-out, refused once expired and swept.
 */
export class SessionManager {
  private sweeper?: NodeJS.Timeout;

  constructor(
    private readonly store: Store,
    private readonly authenticator: Authenticator,
    readonly ttlSeconds: number,
    private readonly logger: Logger,
  ) {}

  /** Stores a new session of `principal` and answers the cookie's value and the session. */
  async open(principal: Principal, address: string | null): Promise<{ cookieValue: string; session: Session }> {
    const cookieValue = randomToken();
    const now = Date.now();
    const session: Session = { principal, csrfToken: randomToken(), expiresAt: now + this.ttlSeconds * 1000 };
    await this.store.addSession({
      key: sha256Hex(cookieValue),
      role: principal.role,
      device_id: principal.role === 'device' ? principal.deviceId : null,
      csrf_token: session.csrfToken,
      credential: credentialOf(cookieValue, this.authenticator.digestOf(principal)!),
      address,
      created_at: now,
      expires_at: session.expiresAt,
    });
    return { cookieValue, session };
  }

  /** The session of a cookie's value: stored, not expired, and its token unchanged since it was opened. */
  async find(cookieValue: string): Promise<Session | undefined> {
    if (!COOKIE_VALUE_PATTERN.test(cookieValue)) return undefined;
    const stored = await this.store.session(sha256Hex(cookieValue), Date.now());
    if (!stored) return undefined;
    const principal: Principal = stored.role === 'admin' ? { role: 'admin' } : { role: 'device', deviceId: stored.device_id ?? '' };
    const digest = this.authenticator.digestOf(principal);
    if (!digest || !sameText(stored.credential, credentialOf(cookieValue, digest))) return undefined;
    return { principal, csrfToken: stored.csrf_token, expiresAt: stored.expires_at };
  }

  /** The request's session and its cookie's value, when it sent a cookie of a live session. */
  async ofRequest(req: Request): Promise<{ session: Session; cookieValue: string } | undefined> {
    const cookieValue = sessionCookieValue(req);
    const session = cookieValue === undefined ? undefined : await this.find(cookieValue);
    return session && { session, cookieValue: cookieValue! };
  }

  /** Deletes the session of a cookie's value, if there is one. */
  async end(cookieValue: string): Promise<void> {
    if (COOKIE_VALUE_PATTERN.test(cookieValue)) await this.store.deleteSession(sha256Hex(cookieValue));
  }

  /** Deletes expired sessions now and every 10 minutes until `stop()`. */
  startSweeping(): void {
    const sweep = (): void => {
      this.store.sweepSessions(Date.now()).then(
        (count) => count > 0 && this.logger.debug(`deleted ${count} expired console session(s)`),
        (error: unknown) => this.logger.warn(`expired console sessions: not deleted (${describeError(error)}); retried in 10 minutes`),
      );
    };
    sweep();
    this.sweeper = setInterval(sweep, SWEEP_INTERVAL_MS);
    this.sweeper.unref();
  }

  stop(): void {
    clearInterval(this.sweeper);
  }
}

/** Compares two strings in constant time (for strings of one length: the length is no secret). */
function sameText(a: string, b: string): boolean {
  return a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));
}

/** The session cookie's value in the request, if it sent one. */
export function sessionCookieValue(req: Request): string | undefined {
  for (const pair of (req.get('Cookie') ?? '').split(';')) {
    const equals = pair.indexOf('=');
    if (equals > 0 && pair.slice(0, equals).trim() === SESSION_COOKIE) return pair.slice(equals + 1).trim();
  }
  return undefined;
}

/** Whether the request reached us over TLS, directly or through a proxy that says so. */
function overTls(req: Request): boolean {
  return req.secure || req.get('X-Forwarded-Proto')?.split(',')[0]?.trim().toLowerCase() === 'https';
}

/** The `Set-Cookie` value that gives the browser a session (`maxAgeSeconds` 0 removes it). */
export function sessionCookie(req: Request, cookieValue: string, maxAgeSeconds: number): string {
  return `${SESSION_COOKIE}=${cookieValue}; HttpOnly; SameSite=Strict; Path=/; Max-Age=${maxAgeSeconds}${overTls(req) ? '; Secure' : ''}`;
}

/** Methods that change nothing, which need no CSRF token. */
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * A write authenticated by the session cookie must carry the session's CSRF token (`X-CSRF-Token`, or the form field
 * `csrf_token` where given): a page of another site can make the browser send the cookie, but cannot read the token.
 */
export function checkCsrf(req: Request, session: Session, formToken?: unknown): void {
  if (SAFE_METHODS.has(req.method)) return;
  const sent = req.get('X-CSRF-Token') ?? (typeof formToken === 'string' ? formToken : undefined);
  if (sent === undefined || !sameText(sent, session.csrfToken)) {
    throw new HttpError(403, 'missing or wrong CSRF token: a write made with the console session must send X-CSRF-Token (from GET /ui/session)');
  }
}

/** A device's console session reads its own device only. */
export function checkReadOnly(req: Request, session: Session): void {
  if (session.principal.role === 'device' && !SAFE_METHODS.has(req.method)) {
    throw new HttpError(403, `a device's console session is read-only: ${req.method} needs the admin token`);
  }
}

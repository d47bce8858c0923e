import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';

/**
 * Requires `Authorization: Bearer <token>` when `token()` returns one. Compared in constant time, over hashes so
 * that the length of the token does not leak either.
 */
export function bearerAuth(token: () => string | undefined): RequestHandler {
  return (request, response, next) => {
    const expected = token();
    if (expected === undefined) return next();
    const match = /^Bearer (.+)$/.exec(request.get('authorization') ?? '');
    if (match && sameSecret(match[1]!, expected)) return next();
    response.status(401).set('WWW-Authenticate', 'Bearer').json({ status: 'error', error: 'missing or wrong bearer token' });
  };
}

export function sameSecret(given: string, expected: string): boolean {
  const digest = (value: string) => createHash('sha256').update(value).digest();
  return timingSafeEqual(digest(given), digest(expected));
}

import type { RequestHandler } from 'express';
import { sameDigest, secretDigest } from '../secret';

/**
 * Requires `Authorization: Bearer <token>` when `token()` returns one. Compared in constant time, over hashes so
 * that the length of the token does not leak either.
 */
export function bearerAuth(token: () => string | undefined): RequestHandler {
  return (request, response, next) => {
    const expected = token();
    if (expected === undefined) return next();
    const match = /^Bearer (.+)$/.exec(request.get('authorization') ?? '');
    if (match && sameDigest(secretDigest(match[1]!), secretDigest(expected))) return next();
    response.status(401).set('WWW-Authenticate', 'Bearer').json({ status: 'error', error: 'missing or wrong bearer token' });
  };
}

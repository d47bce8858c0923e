import { createHash, timingSafeEqual } from 'node:crypto';

/** A secret (a bearer token) as kept for comparing: its SHA-256. */
export function secretDigest(secret: string): Buffer {
  return createHash('sha256').update(secret).digest();
}

/** Compares two digests in constant time; digests have one length, so that of the secret does not leak either. */
export function sameDigest(given: Buffer, expected: Buffer): boolean {
  return timingSafeEqual(given, expected);
}

/**
 * node:crypto, loaded on the first comparison: every plugin imports this module through core's plugin API, and
 * crypto adds about 2 MiB to a process that never compares a token.
 */
function crypto(): typeof import('node:crypto') {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded on first use, see above
  return require('node:crypto') as typeof import('node:crypto');
}

/** A secret (a bearer token) as kept for comparing: its SHA-256. */
export function secretDigest(secret: string): Buffer {
  return crypto().createHash('sha256').update(secret).digest();
}

/** Compares two digests in constant time; digests have one length, so that of the secret does not leak either. */
export function sameDigest(given: Buffer, expected: Buffer): boolean {
  return crypto().timingSafeEqual(given, expected);
}

import { HttpError } from './errors';

/** A config version's entity tag: the version number in quotes, e.g. `"3"`. */
export function etagFor(version: number): string {
  return `"${version}"`;
}

interface EntityTag {
  weak: boolean;
  opaque: string;
}

const ENTITY_TAG = /^(W\/)?"([\x21\x23-\x7e]*)"$/;

/** `*` or the list of entity tags in an If-Match / If-None-Match header (RFC 9110 §13.1); 400 when malformed. */
function parseCondition(header: string, name: string): '*' | EntityTag[] {
  if (header.trim() === '*') return '*';
  return header.split(',').map((part) => {
    const match = ENTITY_TAG.exec(part.trim());
    if (!match) {
      throw new HttpError(400, `${name} must be '*' or entity tags such as "3" (the ETag as sent), not ${JSON.stringify(header)}`);
    }
    return { weak: match[1] !== undefined, opaque: match[2] };
  });
}

/**
 * Whether If-None-Match names the current version (weak comparison, as for GET). `current` is undefined when
 * the device has no config yet, which nothing matches.
 */
export function noneMatchHits(header: string, current: number | undefined): boolean {
  const condition = parseCondition(header, 'If-None-Match');
  if (current === undefined) return false;
  return condition === '*' || condition.some((tag) => tag.opaque === String(current));
}

/** Whether If-Match holds for the current version (strong comparison: weak tags never match). */
export function ifMatchHolds(header: string, current: number | undefined): boolean {
  const condition = parseCondition(header, 'If-Match');
  if (current === undefined) return false;
  return condition === '*' || condition.some((tag) => !tag.weak && tag.opaque === String(current));
}

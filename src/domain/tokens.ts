import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

// API tokens for `flowdeck serve`: `fdk_` and 32 random bytes in base64url (43 characters), so a
// token is recognisable in a config file or a leak scan and carries 256 bits of chance. The store
// keeps only the sha256 of the whole token: a stolen store file grants nothing, and a random token
// that long needs no slow hash (nothing to brute-force from a hash of 256 random bits).

export const TOKEN_PREFIX = 'fdk_';
const RANDOM_BYTES = 32;
const TOKEN_SHAPE = /^fdk_[A-Za-z0-9_-]{43}$/;
const HASH_SHAPE = /^[0-9a-f]{64}$/;

/** A new token. `random` is for tests that need a known token; real callers leave it. */
export function generateToken(random: (size: number) => Buffer = randomBytes): string {
  return `${TOKEN_PREFIX}${random(RANDOM_BYTES).toString('base64url')}`;
}

/** Whether `text` has a token's shape (checked before hashing: a header of junk costs nothing). */
export function looksLikeToken(text: string): boolean {
  return TOKEN_SHAPE.test(text);
}

/** What the store keeps: the sha256 of the whole token, lower-case hex. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** The last 4 characters, which lists show (`fdk_…abcd`) so an operator can tell tokens apart. */
export function tokenLast4(token: string): string {
  return token.slice(-4);
}

/** How a token is shown after its creation: never more than its prefix and last 4 characters. */
export function tokenHint(last4: string): string {
  return `${TOKEN_PREFIX}…${last4}`;
}

/**
 * Whether `token` is the one `storedHash` was made from, in time independent of where they differ
 * (compares the two digests' bytes with timingSafeEqual; a malformed stored hash never matches).
 */
export function tokenMatchesHash(token: string, storedHash: string): boolean {
  if (!HASH_SHAPE.test(storedHash)) return false;
  const actual = createHash('sha256').update(token, 'utf8').digest();
  return timingSafeEqual(actual, Buffer.from(storedHash, 'hex'));
}

import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ApiErrorBody } from '../domain/api.js';
import { errorBody } from './errors.js';
import type { TokenBuckets } from './rate-limit.js';

// Every request but a signed download needs `Authorization: Bearer <token>`; the token's user is
// who acts for the request. A missing, malformed, unknown or revoked token gets the same 401: the
// answer must not help anyone guess which. Then the token's bucket: over it, 429 with Retry-After.

export type VerifyToken = (token: string) => Promise<{ user: string; tokenId?: string | number } | undefined>;

/**
 * The 401 body: the spec's auth middleware answers `{ message }`, flowdeck's errors are
 * `{ errors: [...] }`; this body is both, so a client of either reads it.
 */
export const UNAUTHORIZED_BODY: ApiErrorBody & { message: string } = { message: 'invalid token', ...errorBody('unauthorized', 'invalid token') };

const BEARER = /^Bearer ([\x21-\x7e]+)$/;

declare module 'fastify' {
  interface FastifyRequest {
    /** The email of the token's user ('' before authentication, and on a signed download). */
    user: string;
    /** The token's id (or the token itself when the verifier gives none): its bucket's key. */
    tokenId: string | number;
  }
  interface FastifyContextConfig {
    /** A route that needs no token (a signed download: its signature is the credential). */
    public?: boolean;
  }
}

export function authHook(verifyToken: VerifyToken, buckets: TokenBuckets) {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> => {
    if (request.routeOptions.config.public) return undefined;
    const match = BEARER.exec(request.headers.authorization ?? '');
    // A verifier that fails (the store busy) is a 500, not a 401: the token may well be good.
    const identity = match ? await verifyToken(match[1]!) : undefined;
    if (!identity) {
      return reply.code(401).header('WWW-Authenticate', 'Bearer').send(UNAUTHORIZED_BODY);
    }
    request.user = identity.user;
    request.tokenId = identity.tokenId ?? match![1]!;
    // Per token, not per user: one script hammering the server does not lock its owner's laptop out.
    return takeFromBucket(buckets, request.tokenId, reply);
  };
}

/** One request from the token's bucket; over it, the 429 with Retry-After (and undefined otherwise). */
export function takeFromBucket(buckets: TokenBuckets, tokenId: string | number, reply: FastifyReply): FastifyReply | undefined {
  const taken = buckets.take(tokenId);
  if (taken.ok) return undefined;
  return reply
    .code(429)
    .header('Retry-After', String(taken.retryAfterSeconds))
    .send(errorBody('rate_limited', `too many requests for this token: retry in ${taken.retryAfterSeconds} s`));
}

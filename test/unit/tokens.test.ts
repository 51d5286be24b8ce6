import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { generateToken, hashToken, looksLikeToken, TOKEN_PREFIX, tokenHint, tokenLast4, tokenMatchesHash } from '../../src/domain/tokens.js';

// API tokens: `fdk_` + 32 random bytes base64url; the store keeps the sha256 hex of the whole token.

describe('API tokens', () => {
  it('are fdk_ and 32 random bytes in base64url, a new one each time', () => {
    const token = generateToken();
    expect(token).toMatch(/^fdk_[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(token.slice(TOKEN_PREFIX.length), 'base64url')).toHaveLength(32);
    expect(looksLikeToken(token)).toBe(true);
    const many = new Set(Array.from({ length: 200 }, () => generateToken()));
    expect(many.size).toBe(200);
  });

  it('encode the bytes they are given (the test seam), with no padding', () => {
    const token = generateToken((size) => Buffer.alloc(size, 0xff));
    expect(token).toBe(`fdk_${'_'.repeat(42)}8`);
    expect(token).not.toContain('=');
  });

  it('hash to the sha256 hex of the whole token, prefix included', () => {
    const token = generateToken();
    expect(hashToken(token)).toBe(createHash('sha256').update(token).digest('hex'));
    expect(hashToken(token)).toMatch(/^[0-9a-f]{64}$/);
    expect(hashToken(token)).not.toBe(hashToken(token.slice(TOKEN_PREFIX.length)));
  });

  it('show only their last 4 characters after creation', () => {
    const token = generateToken();
    expect(tokenLast4(token)).toBe(token.slice(-4));
    expect(tokenHint(tokenLast4(token))).toBe(`fdk_…${token.slice(-4)}`);
  });

  it('match their own hash only; a malformed stored hash matches nothing', () => {
    const token = generateToken();
    const other = generateToken();
    expect(tokenMatchesHash(token, hashToken(token))).toBe(true);
    expect(tokenMatchesHash(other, hashToken(token))).toBe(false);
    expect(tokenMatchesHash(token, hashToken(token).toUpperCase())).toBe(false);
    expect(tokenMatchesHash(token, hashToken(token).slice(0, 62))).toBe(false);
    expect(tokenMatchesHash(token, '')).toBe(false);
  });

  it('are told from text of another shape before any hashing', () => {
    const token = generateToken();
    for (const text of ['', 'fdk_', token.slice(0, -1), `${token}x`, `Bearer ${token}`, token.replace('fdk_', 'fdx_'), `fdk_${'+'.repeat(43)}`]) {
      expect(looksLikeToken(text), text).toBe(false);
    }
  });
});

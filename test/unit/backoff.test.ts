import { describe, expect, it } from 'vitest';
import { backoffDelay, DEFAULT_BACKOFF, nextAttemptDelay, parseRetryAfter, type BackoffPolicy } from '../../src/domain/backoff.js';

const NO_JITTER: BackoffPolicy = { baseDelayMs: 1000, factor: 2, maxDelayMs: 60_000, jitter: 0 };
const low = () => 0;
const high = () => 1;

describe('backoffDelay', () => {
  it('grows exponentially from the base and is capped', () => {
    expect([1, 2, 3, 4, 5, 6, 7].map((a) => backoffDelay(NO_JITTER, a, low))).toEqual([1000, 2000, 4000, 8000, 16_000, 32_000, 60_000]);
    expect(backoffDelay(NO_JITTER, 50, low)).toBe(60_000);
    expect(backoffDelay({ ...NO_JITTER, factor: 3 }, 3, low)).toBe(9000);
  });

  it('treats attempt 0 or less as the first attempt', () => {
    expect(backoffDelay(NO_JITTER, 0, low)).toBe(1000);
    expect(backoffDelay(NO_JITTER, -3, low)).toBe(1000);
  });

  it('randomises only the jitter share of the delay', () => {
    const policy: BackoffPolicy = { ...NO_JITTER, jitter: 0.2 };
    expect(backoffDelay(policy, 3, low)).toBe(3200);
    expect(backoffDelay(policy, 3, high)).toBe(4000);
    expect(backoffDelay(policy, 3, () => 0.5)).toBe(3600);
    for (let i = 0; i < 500; i++) {
      const d = backoffDelay(policy, 2);
      expect(d).toBeGreaterThanOrEqual(1600);
      expect(d).toBeLessThanOrEqual(2000);
    }
  });

  it('clamps the jitter share to 0..1', () => {
    expect(backoffDelay({ ...NO_JITTER, jitter: 5 }, 2, low)).toBe(0);
    expect(backoffDelay({ ...NO_JITTER, jitter: 5 }, 2, high)).toBe(2000);
    expect(backoffDelay({ ...NO_JITTER, jitter: -1 }, 2, low)).toBe(2000);
  });

  it('jitters the capped delay, never beyond the cap', () => {
    expect(backoffDelay({ ...NO_JITTER, jitter: 0.5 }, 30, high)).toBe(60_000);
    expect(backoffDelay({ ...NO_JITTER, jitter: 0.5 }, 30, low)).toBe(30_000);
  });

  it('has sane defaults', () => {
    expect(backoffDelay(DEFAULT_BACKOFF, 1, high)).toBe(1000);
    expect(backoffDelay(DEFAULT_BACKOFF, 100, high)).toBe(300_000);
  });
});

describe('parseRetryAfter', () => {
  const now = Date.UTC(2025, 2, 3, 8, 0, 0);

  it('reads delta-seconds', () => {
    expect(parseRetryAfter('1', now)).toBe(1000);
    expect(parseRetryAfter(' 120 ', now)).toBe(120_000);
    expect(parseRetryAfter('1.5', now)).toBe(1500);
    expect(parseRetryAfter('0', now)).toBe(0);
  });

  it('reads an HTTP date relative to now, never negative', () => {
    expect(parseRetryAfter(new Date(now + 30_000).toUTCString(), now)).toBe(30_000);
    expect(parseRetryAfter('Mon, 03 Mar 2025 08:02:00 GMT', now)).toBe(120_000);
    expect(parseRetryAfter(new Date(now - 60_000).toUTCString(), now)).toBe(0);
  });

  it('is undefined when absent or unreadable', () => {
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
    expect(parseRetryAfter('', now)).toBeUndefined();
    expect(parseRetryAfter('soon', now)).toBeUndefined();
  });
});

describe('nextAttemptDelay', () => {
  const now = Date.UTC(2025, 2, 3, 8, 0, 0);

  it('is the back-off when the target asks for nothing or for less', () => {
    expect(nextAttemptDelay(NO_JITTER, 3, undefined, now, low)).toBe(4000);
    expect(nextAttemptDelay(NO_JITTER, 3, '1', now, low)).toBe(4000);
    expect(nextAttemptDelay(NO_JITTER, 3, 'garbage', now, low)).toBe(4000);
  });

  it('waits as long as Retry-After asks when that is longer (seconds or date)', () => {
    expect(nextAttemptDelay(NO_JITTER, 1, '10', now, low)).toBe(10_000);
    expect(nextAttemptDelay(NO_JITTER, 1, new Date(now + 45_000).toUTCString(), now, low)).toBe(45_000);
    // with jitter, Retry-After is a floor the jitter cannot undercut
    expect(nextAttemptDelay({ ...NO_JITTER, jitter: 1 }, 1, '3', now, low)).toBe(3000);
  });

  it('never waits beyond the policy maximum, even when asked to', () => {
    expect(nextAttemptDelay(NO_JITTER, 1, '86400', now, low)).toBe(60_000);
  });
});

import { describe, expect, it } from 'vitest';
import { TokenBuckets } from '../../src/server/rate-limit.js';

// The per-token rate limit: a bucket of `capacity` requests refilled at `refillPerSecond`, on an
// injected clock (milliseconds) that the tests move by hand.

function clock(start = 10_000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => void (t += ms) };
}

function takeN(buckets: TokenBuckets, key: string | number, n: number): number {
  let ok = 0;
  for (let i = 0; i < n; i++) if (buckets.take(key).ok) ok++;
  return ok;
}

describe('TokenBuckets', () => {
  it('lets a burst of the capacity through at once, then refuses with Retry-After', () => {
    const c = clock();
    const buckets = new TokenBuckets({ now: c.now });
    expect(buckets.capacity).toBe(1000);
    expect(buckets.refillPerSecond).toBe(300);
    expect(takeN(buckets, 'a', 1000)).toBe(1000);
    expect(buckets.take('a')).toEqual({ ok: false, retryAfterSeconds: 1 });
  });

  it('refills at its rate, never past the capacity', () => {
    const c = clock();
    const buckets = new TokenBuckets({ capacity: 10, refillPerSecond: 2, now: c.now });
    expect(takeN(buckets, 'a', 10)).toBe(10);
    c.advance(499);
    expect(buckets.take('a').ok).toBe(false);
    c.advance(1);
    expect(buckets.take('a')).toEqual({ ok: true });
    expect(buckets.take('a').ok).toBe(false);
    c.advance(2000); // 4 more
    expect(takeN(buckets, 'a', 10)).toBe(4);
    c.advance(3_600_000);
    expect(takeN(buckets, 'a', 20)).toBe(10);
  });

  it('says how long until one request is available, rounded up to whole seconds, at least 1', () => {
    const c = clock();
    const buckets = new TokenBuckets({ capacity: 1, refillPerSecond: 0.25, now: c.now });
    expect(buckets.take('a').ok).toBe(true);
    expect(buckets.take('a')).toEqual({ ok: false, retryAfterSeconds: 4 });
    c.advance(1000);
    expect(buckets.take('a')).toEqual({ ok: false, retryAfterSeconds: 3 });
    c.advance(2500);
    expect(buckets.take('a')).toEqual({ ok: false, retryAfterSeconds: 1 }); // 0.5 s left
    c.advance(500);
    expect(buckets.take('a').ok).toBe(true);
    // A refused take costs nothing: waiting the time it said is enough.
    const fast = new TokenBuckets({ capacity: 2, refillPerSecond: 1, now: c.now });
    takeN(fast, 'b', 2);
    for (let i = 0; i < 50; i++) expect(fast.take('b')).toEqual({ ok: false, retryAfterSeconds: 1 });
    c.advance(1000);
    expect(fast.take('b').ok).toBe(true);
  });

  it('keeps one bucket per key', () => {
    const c = clock();
    const buckets = new TokenBuckets({ capacity: 3, refillPerSecond: 1, now: c.now });
    expect(takeN(buckets, 1, 5)).toBe(3);
    expect(takeN(buckets, 2, 5)).toBe(3);
    expect(takeN(buckets, 'other', 1)).toBe(1);
  });

  it('forgets buckets idle long enough to be full again, and only those', () => {
    const c = clock();
    const buckets = new TokenBuckets({ capacity: 10, refillPerSecond: 10, now: c.now }); // full again after 1 s
    for (let key = 0; key < 1000; key++) buckets.take(key);
    expect(buckets.size).toBe(1000);
    c.advance(500);
    takeN(buckets, 'busy', 10);
    c.advance(500); // the 1000 are full again; 'busy' has 5 of 10 back
    buckets.take('next');
    expect(buckets.size).toBe(2); // 'busy' and 'next'
    // A forgotten key starts full, exactly as if it had been kept.
    expect(takeN(buckets, 7, 20)).toBe(10);
    expect(takeN(buckets, 'busy', 20)).toBe(5);
  });

  it('adds nothing when the clock steps back', () => {
    const c = clock();
    const buckets = new TokenBuckets({ capacity: 2, refillPerSecond: 1, now: c.now });
    takeN(buckets, 'a', 2);
    c.advance(-5000);
    expect(buckets.take('a').ok).toBe(false);
  });

  it('refuses a bucket that could never let a request through', () => {
    expect(() => new TokenBuckets({ capacity: 0 })).toThrow(/at least 1/);
    expect(() => new TokenBuckets({ refillPerSecond: 0 })).toThrow(/more than 0/);
    expect(() => new TokenBuckets({ refillPerSecond: Number.NaN })).toThrow(/more than 0/);
  });
});

import { InvalidInputError } from '../domain/errors.js';

// Per-token rate limiting as the platform does it: a bucket of `capacity` requests per key, refilled
// continuously at `refillPerSecond`; a request takes one, and an empty bucket answers how long until
// the next one is there (the 429's Retry-After). Pure and clock-injected: tests move the clock.
//
// Memory stays bounded by the keys seen within one refill period: a bucket left alone long enough
// to fill up again is exactly a bucket never seen, so a sweep (at most once per such period, on a
// take) drops it and a later take starts it full.

export interface TokenBucketsOptions {
  /** Requests a key may make at once (the bucket's size). */
  capacity?: number;
  /** Requests added back per second, up to the capacity. */
  refillPerSecond?: number;
  /** Monotonic milliseconds. */
  now?: () => number;
}

export type TakeResult = { ok: true } | { ok: false; retryAfterSeconds: number };

interface Bucket {
  tokens: number;
  /** When `tokens` was last brought up to date. */
  at: number;
}

const OK: TakeResult = Object.freeze({ ok: true });

export class TokenBuckets {
  readonly capacity: number;
  readonly refillPerSecond: number;
  private readonly now: () => number;
  private readonly perMs: number;
  /** How long an untouched bucket takes to fill from empty: older than that, it is full. */
  private readonly fullAfterMs: number;
  private readonly buckets = new Map<string | number, Bucket>();
  private lastSweep: number;

  constructor({ capacity = 1000, refillPerSecond = 300, now = () => performance.now() }: TokenBucketsOptions = {}) {
    if (!Number.isFinite(capacity) || capacity < 1) throw new InvalidInputError(`a rate limit's bucket holds at least 1 request (got ${capacity})`, 'capacity');
    if (!Number.isFinite(refillPerSecond) || refillPerSecond <= 0) throw new InvalidInputError(`a rate limit refills at more than 0 requests per second (got ${refillPerSecond})`, 'refillPerSecond');
    this.capacity = capacity;
    this.refillPerSecond = refillPerSecond;
    this.now = now;
    this.perMs = refillPerSecond / 1000;
    this.fullAfterMs = capacity / this.perMs;
    this.lastSweep = now();
  }

  /** Takes one request from `key`'s bucket, or says in whole seconds (at least 1) when to come back. */
  take(key: string | number): TakeResult {
    const t = this.now();
    if (t - this.lastSweep >= this.fullAfterMs) this.sweep(t);
    let bucket = this.buckets.get(key);
    if (!bucket) {
      bucket = { tokens: this.capacity, at: t };
      this.buckets.set(key, bucket);
    } else {
      bucket.tokens = this.level(bucket, t);
      bucket.at = t;
    }
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return OK;
    }
    const waitMs = (1 - bucket.tokens) / this.perMs;
    return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil(waitMs / 1000)) };
  }

  /** Keys holding a bucket now (the rest are full by definition). */
  get size(): number {
    return this.buckets.size;
  }

  private level(bucket: Bucket, t: number): number {
    // A clock that stepped back adds nothing rather than taking away.
    return Math.min(this.capacity, bucket.tokens + Math.max(0, t - bucket.at) * this.perMs);
  }

  private sweep(t: number): void {
    this.lastSweep = t;
    for (const [key, bucket] of this.buckets) if (this.level(bucket, t) >= this.capacity) this.buckets.delete(key);
  }
}

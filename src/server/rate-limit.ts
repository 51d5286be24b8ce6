// Requests per token as the platform limits them: a bucket of `capacity` requests that refills at
// `refillPerSecond`, so a burst up to the capacity passes and a steady rate above the refill does not.
// Buckets live in memory, keyed by the caller (a token's id): a restart gives everyone a full bucket.

export interface TokenBucketOptions {
  capacity?: number;
  refillPerSecond?: number;
  /** The clock, in ms (tests give their own). */
  now?: () => number;
}

export type TakeResult = { ok: true } | { ok: false; retryAfterSeconds: number };

interface Bucket {
  tokens: number;
  at: number;
}

export class TokenBuckets {
  readonly capacity: number;
  readonly refillPerSecond: number;
  private readonly now: () => number;
  private readonly buckets = new Map<string, Bucket>();

  constructor({ capacity = 1000, refillPerSecond = 300, now = Date.now }: TokenBucketOptions = {}) {
    if (!(capacity >= 1)) throw new RangeError(`a bucket holds at least 1 request, got ${capacity}`);
    if (!(refillPerSecond > 0)) throw new RangeError(`the refill must be more than 0 per second, got ${refillPerSecond}`);
    this.capacity = capacity;
    this.refillPerSecond = refillPerSecond;
    this.now = now;
  }

  /** Takes one request from `key`'s bucket, or says in whole seconds (at least 1) when one is back. */
  take(key: string): TakeResult {
    const now = this.now();
    const bucket = this.buckets.get(key) ?? { tokens: this.capacity, at: now };
    bucket.tokens = Math.min(this.capacity, bucket.tokens + (Math.max(0, now - bucket.at) / 1000) * this.refillPerSecond);
    bucket.at = now;
    this.buckets.set(key, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return { ok: true };
    }
    return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - bucket.tokens) / this.refillPerSecond)) };
  }
}

// Capped exponential back-off, shared by automatic retries (retryAt) and `--backoff exponential`.

export interface BackoffPolicy {
  /** Delay before the first re-attempt, in ms. */
  baseDelayMs: number;
  factor: number;
  maxDelayMs: number;
  /** 0..1: the share of each delay that is randomised (full jitter at 1). */
  jitter: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { baseDelayMs: 1000, factor: 2, maxDelayMs: 5 * 60_000, jitter: 0.2 };

/** Delay before attempt `attempt` (1 = the first re-attempt); `random` is injectable for tests. */
export function backoffDelay(policy: BackoffPolicy, attempt: number, random: () => number = Math.random): number {
  const exponent = Math.max(0, attempt - 1);
  const raw = Math.min(policy.maxDelayMs, policy.baseDelayMs * policy.factor ** exponent);
  const jitterSpan = raw * Math.min(1, Math.max(0, policy.jitter));
  return Math.round(raw - jitterSpan + random() * jitterSpan);
}

/** Retry-After as delta-seconds or an HTTP date, in ms from `now`; undefined when absent or bad. */
export function parseRetryAfter(value: string | undefined, now: number): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(parseFloat(trimmed) * 1000);
  const at = Date.parse(trimmed);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now);
}

/** The wait before the next attempt: the back-off, but never sooner than the target asked. */
export function nextAttemptDelay(
  policy: BackoffPolicy,
  attempt: number,
  retryAfter: string | undefined,
  now: number,
  random: () => number = Math.random,
): number {
  const delay = backoffDelay(policy, attempt, random);
  const asked = parseRetryAfter(retryAfter, now);
  return asked === undefined ? delay : Math.min(policy.maxDelayMs, Math.max(delay, asked));
}

import type { BackoffPolicy } from '../domain/backoff.js';
import { InvalidInputError } from '../domain/errors.js';
import { formatDuration } from './options.js';

// `errors retry`'s flags checked together, before anything runs: a flag that would be silently
// ignored, or two that contradict each other, is refused with one line.

export interface RetryFlags {
  backoff?: 'exponential';
  maxAttempts: number;
  baseDelay: number;
  factor: number;
  maxDelay: number;
  jitter: number;
  wait?: boolean;
  report?: string;
  dryRun?: boolean;
}

const BACKOFF_FLAGS = ['maxAttempts', 'baseDelay', 'factor', 'maxDelay', 'jitter'] as const;
const shown = (ms: number) => (ms === 0 ? '0s' : formatDuration(ms));
const flagName = (key: string) => `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;

/**
 * The back-off policy the flags ask for (undefined without --backoff). `given` tells whether the
 * user typed a flag (commander's value source is "cli"), since the tuning flags all have defaults.
 */
export function backoffFromFlags(opts: RetryFlags, given: (key: string) => boolean): (BackoffPolicy & { maxAttempts: number }) | undefined {
  if (!opts.backoff) {
    const stray = BACKOFF_FLAGS.filter(given);
    if (stray.length > 0) throw new InvalidInputError(`${stray.map(flagName).join(', ')} only ${stray.length === 1 ? 'applies' : 'apply'} with --backoff exponential`, stray[0]);
    return undefined;
  }
  if (opts.baseDelay <= 0) throw new InvalidInputError(`--base-delay must be more than 0, got ${shown(opts.baseDelay)}`, 'baseDelay');
  if (opts.maxDelay <= 0) throw new InvalidInputError(`--max-delay must be more than 0, got ${shown(opts.maxDelay)}`, 'maxDelay');
  if (opts.maxDelay < opts.baseDelay) {
    throw new InvalidInputError(`--max-delay (${formatDuration(opts.maxDelay)}) is shorter than --base-delay (${formatDuration(opts.baseDelay)}); no delay could be as long as asked`, 'maxDelay');
  }
  return { maxAttempts: opts.maxAttempts, baseDelayMs: opts.baseDelay, factor: opts.factor, maxDelayMs: opts.maxDelay, jitter: opts.jitter };
}

/** --report writes what --wait saw; without it (or with --dry-run) there is nothing to write. */
export function checkReportFlags(opts: RetryFlags): void {
  if (opts.report === undefined) return;
  if (opts.dryRun) throw new InvalidInputError('--report is not written by a --dry-run (nothing is retried); leave one of them out', 'report');
  if (!opts.wait) throw new InvalidInputError('--report needs --wait (the outcome is known only when the job ran here)', 'report');
}

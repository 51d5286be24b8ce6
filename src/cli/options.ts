import { InvalidInputError } from '../domain/errors.js';

// Option values are parsed once, at the door, into typed values; a bad value is a usage error.

export function parsePositiveInt(name: string, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^\d+$/.test(value.trim()) || !Number.isInteger(n) || n < 1 || n > max) {
      throw new InvalidInputError(`--${name} must be a whole number from 1 to ${max}, got "${value}"`, name);
    }
    return n;
  };
}

export function parseChoice<T extends string>(name: string, choices: readonly T[]) {
  return (value: string): T => {
    if (!(choices as readonly string[]).includes(value)) {
      throw new InvalidInputError(`--${name} must be one of ${choices.join(', ')}, got "${value}"`, name);
    }
    return value as T;
  };
}

const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/;

/** "500ms", "2s", "5m", "1h" → milliseconds. A unit is required: a bare number is too easy to misread. */
export function parseDurationMs(name: string) {
  return (value: string): number => {
    const m = DURATION.exec(value.trim());
    if (!m) throw new InvalidInputError(`--${name} must be a duration with a unit, like 500ms, 2s, 5m or 1h, got "${value}"`, name);
    const n = parseFloat(m[1]!);
    const unit = m[2]!;
    return Math.round(n * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[unit]!);
  };
}

export function parseNumberIn(name: string, min: number, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n) || n < min || n > max) {
      throw new InvalidInputError(`--${name} must be a number from ${min} to ${max}, got "${value}"`, name);
    }
    return n;
  };
}

/** "50/s", "50" or "3000/m" → records per second. */
export function parseRate(value: string): number {
  const m = /^(\d+(?:\.\d+)?)(?:\/(s|m))?$/.exec(value.trim());
  const n = m ? parseFloat(m[1]!) / (m[2] === 'm' ? 60 : 1) : NaN;
  if (!m || !(n > 0)) throw new InvalidInputError(`--rate must look like 50/s or 600/m, got "${value}"`, 'rate');
  return n;
}

/** How a duration in ms reads in help text ("1s", "5m"). */
export function formatDuration(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}

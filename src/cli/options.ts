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

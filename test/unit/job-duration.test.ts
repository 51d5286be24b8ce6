import { describe, expect, it } from 'vitest';
import { duration } from '../../commands/jobs/show.js';
import type { Job } from '../../src/domain/api.js';

// The TOOK column of jobs list and the "took" of jobs show.

const took = (ms: number): string => {
  const start = Date.parse('2026-01-01T00:00:00.000Z');
  return duration({ startedAt: new Date(start).toISOString(), endedAt: new Date(start + ms).toISOString() } as Job);
};

describe('a job duration', () => {
  it('never shows 60 seconds: a remainder that rounds up carries into the minutes', () => {
    expect(took(86_399_600)).toBe('1440m0s');
    expect(took(119_700)).toBe('2m0s');
    expect(took(59_970)).toBe('1m0s');
  });

  it('keeps milliseconds, tenths of seconds and minutes with seconds', () => {
    expect(took(0)).toBe('0ms');
    expect(took(999)).toBe('999ms');
    expect(took(1_234)).toBe('1.2s');
    expect(took(59_900)).toBe('59.9s');
    expect(took(61_400)).toBe('1m1s');
    expect(took(3_600_000)).toBe('60m0s');
  });
});

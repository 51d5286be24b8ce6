import { expect, it } from 'vitest';
import { cheapEnough } from '../../src/tui/hooks.js';

// The refresh timer repeats a load every period when it is cheap and spaces out a slow one (at
// most a tenth of the time spent loading) — it never stops refreshing on a slow machine.

it('repeats a cheap load every period, never while it is still loading', () => {
  expect(cheapEnough({ loading: false, lastMs: 3, lastAt: 1_000 }, 2_000, 3_000)).toBe(true);
  expect(cheapEnough({ loading: false, lastMs: 3, lastAt: 1_000 }, 2_000, 2_999)).toBe(false);
  expect(cheapEnough({ loading: true, lastMs: 3, lastAt: 1_000 }, 2_000, 9_000)).toBe(false);
});

it('spaces out a slow load to a tenth of the time, but still repeats it', () => {
  // 500 ms a load: again 4.5 s after the last one ended, not every 2 s, and not never.
  expect(cheapEnough({ loading: false, lastMs: 500, lastAt: 10_000 }, 2_000, 12_000)).toBe(false);
  expect(cheapEnough({ loading: false, lastMs: 500, lastAt: 10_000 }, 2_000, 14_500)).toBe(true);
  // A loaded machine: a 20 ms load with a 50 ms period still refreshes, every 180 ms.
  expect(cheapEnough({ loading: false, lastMs: 20, lastAt: 0 }, 50, 180)).toBe(true);
});

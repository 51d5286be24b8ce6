import { describe, expect, it } from 'vitest';
import { KeyQueue, type KeyRoute } from '../../src/tui/input-queue.js';
import { completeStep, completionMatches } from '../../src/tui/state/completion.js';

// The app's one key queue, as plain logic: keys delivered one by one to the owner of the moment,
// held (in order) while nobody is ready, typed runs given to text inputs as one insert.

describe('KeyQueue', () => {
  it('delivers each key of a chunk to the owner the key before it left', () => {
    const got: string[] = [];
    let mode: 'view' | 'prompt' = 'view';
    const q = new KeyQueue({
      route: (): KeyRoute =>
        mode === 'view'
          ? { handle: (input) => (got.push(`view:${input}`), input === '/' ? (mode = 'prompt') : undefined) }
          : { handle: (input, key) => (got.push(`prompt:${key.return ? '⏎' : input}`), key.return ? (mode = 'view') : undefined), text: true },
    });
    q.feed('j/trace\rk');
    expect(got).toEqual(['view:j', 'view:/', 'prompt:trace', 'prompt:⏎', 'view:k']);
  });

  it('holds keys while the owner is not ready and delivers them in order on resume', () => {
    const got: string[] = [];
    let ready = false;
    const q = new KeyQueue({ route: () => (ready ? { handle: (input, key) => got.push(key.downArrow ? '↓' : input) } : 'hold') });
    q.feed('\u001B[B\u001B[B ');
    q.feed('\u001B[B');
    expect(got).toEqual([]);
    expect(q.size).toBe(4);
    ready = true;
    q.resume();
    expect(got).toEqual(['↓', '↓', ' ', '↓']);
    expect(q.lastSeq).toBe(4);
  });

  it('lets an interrupt (esc while held, ctrl-c) act at once and drop what waits', () => {
    const got: string[] = [];
    const interrupts: string[] = [];
    let ready = false;
    const q = new KeyQueue({
      route: () => (ready ? { handle: (input) => got.push(input) } : 'hold'),
      interrupt: (input, key, held) => {
        if (key.escape && held) return interrupts.push('esc') > 0;
        return false;
      },
    });
    q.feed('abc\u001B');
    expect(interrupts).toEqual(['esc']);
    ready = true;
    q.feed('d');
    expect(got).toEqual(['d']);
  });
});

describe('completion', () => {
  const flows = ['flows', 'jobs', 'quit', 'Shop orders to ERP', 'Shop customers to CRM', 'Orders to warehouse'];

  it('completes the whole input, prefix matches first, then anywhere, cycling on each tab', () => {
    expect(completionMatches('shop or', flows)).toEqual(['Shop orders to ERP']);
    expect(completionMatches('orders', flows)).toEqual(['Orders to warehouse', 'Shop orders to ERP']);
    let step = completeStep({ value: 'Shop or', cursor: 7 }, flows, 'whole');
    expect(step.input).toEqual({ value: 'Shop orders to ERP', cursor: 18 });
    step = completeStep({ value: 'to', cursor: 2 }, flows, 'whole');
    const seen = [step.input.value];
    for (let i = 0; i < 3; i++) {
      step = completeStep(step.input, flows, 'whole', step.completion);
      seen.push(step.input.value);
    }
    expect(seen).toEqual(['Shop orders to ERP', 'Shop customers to CRM', 'Orders to warehouse', 'Shop orders to ERP']);
  });

  it('completes the word before the cursor in word mode, keeping a negation', () => {
    expect(completeStep({ value: 'code:429 cla', cursor: 12 }, ['class:', 'class:value'], 'word').input).toEqual({ value: 'code:429 class:', cursor: 15 });
    expect(completeStep({ value: '!tag:Inv', cursor: 8 }, ['tag:Investigating'], 'word').input).toEqual({ value: '!tag:Investigating', cursor: 18 });
    expect(completeStep({ value: 'zzz', cursor: 3 }, ['class:'], 'word').input).toEqual({ value: 'zzz', cursor: 3 });
    const first = completeStep({ value: 'class:', cursor: 6 }, ['class:', 'class:a', 'class:b'], 'word');
    expect(first.input.value).toBe('class:a');
    expect(completeStep(first.input, ['class:', 'class:a', 'class:b'], 'word', first.completion).input.value).toBe('class:b');
  });
});

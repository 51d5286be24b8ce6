import type { Key } from 'ink';
import { keyOf, tokenizeKeys } from './keys.js';

// One queue for every key the app receives. The terminal hands over keys in chunks (a paste, tmux
// send-keys, a fast typist between two frames all arrive as one chunk); each key of a chunk is
// delivered on its own to whatever owns the keyboard once the key before it was handled — a view,
// a prompt, the help — so a `/` that opens a prompt gives that prompt the rest of the chunk. While
// the owner is not ready (a prompt loading its options, a view just pushed and not yet mounted, an
// answer being applied) keys wait in the queue, in order, and go on when `resume()` is called.

export interface QueuedKey {
  input: string;
  key: Key;
  /** Arrival order: every key of the app's life has its own, increasing. */
  seq: number;
}

export type KeyHandler = (input: string, key: Key, seq: number) => void;

/** Who takes the next key: a handler (which may take a run of typed text as one key), or nobody yet. */
export type KeyRoute = { handle: KeyHandler; text?: boolean } | 'hold';

export interface KeyQueueOptions {
  /** Asked before every key: the keyboard's owner now. */
  route(): KeyRoute;
  /**
   * Keys that act at once, ahead of the queue (ctrl-c quits; esc cancels a prompt that is loading).
   * Returns true when it took the key (the queue then drops what was waiting).
   */
  interrupt?(input: string, key: Key, held: boolean): boolean;
}

// eslint-disable-next-line no-control-regex
const PRINTABLE = /^[^\u0000-\u001f\u007f]$/u;

export class KeyQueue {
  private readonly queue: QueuedKey[] = [];
  private seq = 0;
  private draining = false;
  private again = false;

  constructor(private readonly options: KeyQueueOptions) {}

  /** The seq of the last key received (0 before any). */
  get lastSeq(): number {
    return this.seq;
  }

  /** How many keys wait. */
  get size(): number {
    return this.queue.length;
  }

  /** A raw chunk from the terminal. */
  feed(raw: string): void {
    for (const token of tokenizeKeys(raw)) {
      const [input, key] = keyOf(token);
      const held = this.queue.length > 0 || this.options.route() === 'hold';
      if (this.options.interrupt?.(input, key, held)) {
        this.queue.length = 0;
        continue;
      }
      this.queue.push({ input, key, seq: ++this.seq });
    }
    this.drain();
  }

  /** The owner may be ready now: deliver what waits. */
  resume(): void {
    this.drain();
  }

  /** Drops what waits. */
  clear(): void {
    this.queue.length = 0;
  }

  private drain(): void {
    // A handler can make the owner ready again (a synchronous render registering a view): it asks
    // for a drain while one runs; the running one goes on instead of nesting.
    if (this.draining) {
      this.again = true;
      return;
    }
    this.draining = true;
    try {
      do {
        this.again = false;
        while (this.queue.length > 0) {
          const route = this.options.route();
          if (route === 'hold') break;
          const next = this.queue.shift()!;
          if (route.text && isText(next)) {
            // A run of typed characters goes in as one insert (a long paste is one edit, not thousands).
            let input = next.input;
            let seq = next.seq;
            while (this.queue.length > 0 && isText(this.queue[0]!)) {
              const more = this.queue.shift()!;
              input += more.input;
              seq = more.seq;
            }
            route.handle(input, next.key, seq);
          } else {
            route.handle(next.input, next.key, next.seq);
          }
        }
      } while (this.again);
    } finally {
      this.draining = false;
    }
  }
}

function isText(k: QueuedKey): boolean {
  return PRINTABLE.test(k.input) && !k.key.ctrl && !k.key.meta && !k.key.return && !k.key.tab && !k.key.escape;
}

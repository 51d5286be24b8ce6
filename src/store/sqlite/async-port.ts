// SQLite runs every statement synchronously on one connection (better-sqlite3), which is what
// keeps it fast; the contract is async. A port here is the synchronous implementation behind the
// contract's promises, with a gate: while a transaction (BEGIN … awaited work … COMMIT) is open on
// the connection, calls from outside it wait for it to end, so nothing else's write can land in
// (or be rolled back with) a transaction it is not part of.

/** The synchronous shape of an async port: the same methods, answering their values directly. */
export type SyncOf<P> = {
  [K in keyof P]: P[K] extends (...args: infer A) => Promise<infer R> ? (...args: A) => R : P[K];
};

export class TransactionGate {
  private open = false;
  /** Settles when the transaction open now (or queued last) ends. */
  private tail: Promise<void> = Promise.resolve();

  get inTransaction(): boolean {
    return this.open;
  }

  /** A call from outside any transaction: now when none is open, else once it has ended. */
  call<R>(fn: () => R): Promise<R> {
    if (!this.open) {
      try {
        return Promise.resolve(fn());
      } catch (e) {
        return Promise.reject(e);
      }
    }
    return this.tail.then(() => this.call(fn));
  }

  /** Runs `body` as the only transaction: transactions queue, outside calls wait while it is open. */
  async exclusive<T>(body: () => Promise<T>): Promise<T> {
    const before = this.tail;
    let release!: () => void;
    this.tail = new Promise<void>((resolve) => (release = resolve));
    await before;
    // Outside calls that were already queued behind `before` may have just run; from here on they wait.
    this.open = true;
    try {
      return await body();
    } finally {
      this.open = false;
      release();
    }
  }
}

/**
 * The async port over `impl`'s synchronous methods. `gate` undefined: the port of a transaction's
 * `tx`, whose calls run at once (they are inside the transaction).
 */
export function asyncPort<P extends object>(impl: SyncOf<P>, gate: TransactionGate | undefined, names: ReadonlyArray<keyof P & string>): P {
  const port: Record<string, unknown> = {};
  const source = impl as unknown as Record<string, (...args: unknown[]) => unknown>;
  for (const name of names) {
    const method = source[name];
    if (typeof method !== 'function') throw new TypeError(`the SQLite store has no ${name}`);
    const bound = method.bind(impl);
    port[name] = gate
      ? (...args: unknown[]) => gate.call(() => bound(...args))
      : (...args: unknown[]) => {
          try {
            return Promise.resolve(bound(...args));
          } catch (e) {
            return Promise.reject(e);
          }
        };
  }
  return port as P;
}

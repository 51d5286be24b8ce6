// A retry's cancel reaches the requests it has in flight through this (kept apart from http.ts, so
// the sender can hold one without loading undici).

/**
 * What a cancel aborts: the requests in flight register here. A Set, not an AbortSignal: a retry
 * registers 100,000 of them, and EventTarget listeners cost ten times more.
 */
export class CancelScope {
  private readonly ends = new Set<() => void>();
  private canceledValue = false;

  get canceled(): boolean {
    return this.canceledValue;
  }

  /** Calls `end` on cancel (at once when already canceled); the returned function unregisters it. */
  add(end: () => void): () => void {
    if (this.canceledValue) {
      end();
      return () => {};
    }
    this.ends.add(end);
    return () => this.ends.delete(end);
  }

  cancel(): void {
    if (this.canceledValue) return;
    this.canceledValue = true;
    const ends = [...this.ends];
    this.ends.clear();
    for (const end of ends) end();
  }
}

import type { StorePorts } from './ports.js';

// The store as the services, the runtime and the workspace hold it: its ports, units of work, and
// its life. Built by openStore (src/store/open-store.ts) from the workspace's config.

export interface TransactionOptions {
  /**
   * A named lock the transaction holds to its end, so two processes (any hosts) never run the same
   * unit of work at once (the automatic-retry sweep): SQLite's write lock already is one; on
   * PostgreSQL it is a transaction-scoped advisory lock.
   */
  exclusive?: string;
}

export interface StoreTx extends StorePorts {
  /** Inside a transaction, a nested unit of work joins it. */
  withTransaction<T>(fn: (tx: StoreTx) => Promise<T>, options?: TransactionOptions): Promise<T>;
}

export interface Store extends StoreTx {
  readonly kind: 'sqlite' | 'postgres';
  /** Opened read-only (a snapshot copy of a store another process holds): every write fails. */
  readonly readonly: boolean;
  /** Where the data lives, for messages and `doctor`: a file path, or a URL without its password. */
  readonly location: string;
  /** Whether several workers (on any hosts) may share jobs: PostgreSQL. SQLite runs one per workspace. */
  readonly sharedWorkers: boolean;
  /**
   * Runs `fn` as one transaction: committed when it resolves, rolled back when it throws. Calls on
   * the store itself (not on `tx`) from elsewhere wait until it ends; `fn` must not wait on them.
   */
  withTransaction<T>(fn: (tx: StoreTx) => Promise<T>, options?: TransactionOptions): Promise<T>;
  /** Changes since this stamp was read, by any process: two equal stamps saw the same data. */
  changeStamp(): Promise<string>;
  close(): Promise<void>;
  /** Runs after the store closes (a read-only snapshot copy removes its files). */
  onClose(fn: () => void): void;
}

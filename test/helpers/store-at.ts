import { hostname } from 'node:os';
import { join } from 'node:path';
import { openStore } from '../../src/store/open-store.js';
import type { Store } from '../../src/store/contract/store.js';
import { testStore } from './store.js';
import { storeRows } from './store-sql.js';

// End-to-end tests watch a workspace that `flowdeck` processes write: its store opened read-only
// on its own (no Workspace: opening one would recover the very jobs the test watches).

/** The store of the workspace at `home` (its config.json's PostgreSQL URL, else its flowdeck.db), read-only unless `writable` (a test's setup, e.g. backdating). */
export async function storeAt(home: string, { writable = false } = {}): Promise<{ store: Store }> {
  return { store: await openStore({ home, dbFile: join(home, 'flowdeck.db'), readonly: !writable }) };
}

/** Pids of this host's workers registered in the store (SQLite: the one worker's lease in meta). */
export async function workerPids(owner: { store: Store }): Promise<number[]> {
  if (testStore() === 'postgres') {
    return (await storeRows<{ pid: number }>(owner, 'SELECT pid FROM workers WHERE host = ?', [hostname()])).map((r) => Number(r.pid));
  }
  const lease = await owner.store.meta.getMeta('worker_lease');
  return lease ? [(JSON.parse(lease) as { pid: number }).pid] : [];
}

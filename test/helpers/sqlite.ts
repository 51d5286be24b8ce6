import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import type { SqliteCore } from '../../src/store/sqlite/core.js';
import type { Workspace } from '../../src/workspace/workspace.js';

// Tests that check what landed in SQLite itself (raw rows, pragmas, triggers) reach the adapter's
// connection here; anything a port answers is read through the port instead.

/** The SqliteCore under the workspace's store; throws when the store is not SQLite. */
export function sqliteCoreOf(ws: Pick<Workspace, 'store'>): SqliteCore {
  if (ws.store instanceof SqliteStore) return ws.store.core;
  throw new Error(`this test reads SQLite directly, but the workspace's store is ${ws.store.kind}`);
}

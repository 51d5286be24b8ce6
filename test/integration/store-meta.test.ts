import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { SqliteCore } from '../../src/store/sqlite/core.js';
import { tempHome, type TempHome } from '../helpers/workspace.js';

// The worker's lease is a JSON meta value renewed by compare and set: a worker paused past its
// lease never overwrites the one another worker took meanwhile.

let tmp: TempHome | undefined;
let store: SqliteCore | undefined;
afterEach(() => {
  store?.close();
  tmp?.cleanup();
});

it('setMetaIf replaces a JSON meta value only while the field holds what the caller saw; deleteMeta removes it', () => {
  tmp = tempHome();
  store = new SqliteCore(join(tmp.home, 'flowdeck.db'));
  store.setMeta('lease', JSON.stringify({ pid: 2, heartbeat: 1 }));
  expect(store.setMetaIf('lease', 'pid', 1, JSON.stringify({ pid: 1, heartbeat: 5 }))).toBe(false);
  expect(JSON.parse(store.getMeta('lease')!)).toEqual({ pid: 2, heartbeat: 1 });
  expect(store.setMetaIf('lease', 'pid', 2, JSON.stringify({ pid: 2, heartbeat: 9 }))).toBe(true);
  expect(JSON.parse(store.getMeta('lease')!)).toEqual({ pid: 2, heartbeat: 9 });
  expect(store.setMetaIf('absent', 'pid', 2, '{}')).toBe(false);
  store.deleteMeta('lease');
  expect(store.getMeta('lease')).toBeUndefined();
});

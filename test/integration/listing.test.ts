import { afterEach, beforeEach, expect, it } from 'vitest';
import { join } from 'node:path';
import type { LocalBackend } from '../../src/backend/local-backend.js';
import { LocalBackend as Local } from '../../src/backend/local-backend.js';
import { seedDemoWorkspace } from '../../src/workspace/demo.js';
import { Workspace } from '../../src/workspace/workspace.js';
import { validateAgainst } from '../helpers/spec.js';
import { runFlowToEnd } from '../helpers/jobs.js';
import { tempHome, type TempHome } from '../helpers/workspace.js';
import { testStore } from '../helpers/store.js';

// Body paging both ways: newest first with `before` (the API's), and oldest first with
// `order: 'asc'` + `after` (what the TUI's jump to the end uses), over the same rows.

const FLOW = 'Shop customers to CRM';
const STEP = 'CRM contacts';
let tmp: TempHome;
let backend: LocalBackend;

beforeEach(async () => {
  tmp = tempHome();
  backend = new Local(await seedDemoWorkspace(tmp.home, { ...process.env }));
  await runFlowToEnd(backend, FLOW);
});

afterEach(async () => {
  await backend.close();
  tmp.cleanup();
});

async function walk(order: 'asc' | 'desc', query?: string): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | undefined;
  for (;;) {
    const page = await backend.listErrors(FLOW, STEP, {
      limit: 7,
      ...(query ? { query } : {}),
      ...(order === 'asc' ? { order, ...(cursor ? { after: cursor } : {}) } : cursor ? { before: cursor } : {}),
    });
    expect(validateAgainst('FlowStepErrorsResponse', page)).toEqual([]);
    ids.push(...page.errors.map((e) => e.errorId));
    if (!page.nextPageURL) break;
    expect(page.nextPageURL).toContain(order === 'asc' ? 'order=asc&after=' : 'before=');
    cursor = page.errors[page.errors.length - 1]!.errorId;
  }
  return ids;
}

it('oldest-first paging walks exactly the newest-first rows in reverse', async () => {
  const newest = await walk('desc');
  expect(newest.length).toBeGreaterThan(20);
  expect(new Set(newest).size).toBe(newest.length);
  expect(await walk('asc')).toEqual([...newest].reverse());
  // Lexical order of the ids is their time order.
  expect([...newest].sort().reverse()).toEqual(newest);
});

it('oldest-first paging honours filters, and `after` is exclusive', async () => {
  const filtered = await walk('asc', 'class:intermittent');
  expect(filtered).toEqual((await walk('desc', 'class:intermittent')).reverse());
  const [first, second] = filtered;
  const page = await backend.listErrors(FLOW, STEP, { order: 'asc', after: first!, limit: 1, query: 'class:intermittent' });
  expect(page.errors.map((e) => e.errorId)).toEqual([second]);
});

it('a bad cursor or order is one clear error', async () => {
  await expect(backend.listErrors(FLOW, STEP, { order: 'asc', after: 'nope' })).rejects.toThrow(/"nope" is not an error id/);
  await expect(backend.listErrors(FLOW, STEP, { order: 'sideways' as 'asc' })).rejects.toThrow(/order must be asc or desc/);
});

it('countErrors counts what a listing walks, open or resolved, while a writer holds the store', async () => {
  const all = await walk('desc');
  const transient = await walk('desc', 'class:intermittent');
  expect(await backend.countErrors(FLOW, STEP)).toBe(all.length);
  expect(await backend.countErrors(FLOW, STEP, { query: 'class:intermittent' })).toBe(transient.length);
  expect(await backend.countErrors(FLOW, STEP, { resolved: true })).toBe(0);
  await backend.triage.resolve(FLOW, STEP, { errorIds: transient.slice(0, 2) });
  expect(await backend.countErrors(FLOW, STEP, { resolved: true })).toBe(2);
  expect(await backend.countErrors(FLOW, STEP, { query: 'class:intermittent' })).toBe(transient.length - 2);
  // A count is a read: another connection's open write transaction does not hold it up (WAL).
  // SQLite only: its write lock is a file lock; PostgreSQL's readers never wait for writers.
  if (testStore() === 'postgres') return;
  const Database = (await import('better-sqlite3')).default;
  const writer = new Database(join(tmp.home, 'flowdeck.db'));
  writer.exec('BEGIN IMMEDIATE');
  try {
    expect(await backend.countErrors(FLOW, STEP)).toBe(all.length - 2);
  } finally {
    writer.exec('ROLLBACK');
    writer.close();
  }
});

it('answers a page asked again from what it kept only while nothing changed, here or in another process', async () => {
  const first = await backend.listErrors(FLOW, STEP, { limit: 5 });
  // Unchanged store: the very answer kept, which nobody can change.
  expect(await backend.listErrors(FLOW, STEP, { limit: 5 })).toBe(first);
  expect(Object.isFrozen(first.errors[0])).toBe(true);

  // A change through this backend: the page is read anew.
  const gone = first.errors[0]!.errorId;
  await backend.triage.resolve(FLOW, STEP, { errorIds: [gone] });
  const afterOwn = await backend.listErrors(FLOW, STEP, { limit: 5 });
  expect(afterOwn.errors.map((e) => e.errorId)).not.toContain(gone);

  // A change by another connection to the same store (another process, a worker): read anew too.
  const other = new Local(await Workspace.open(tmp.home, { ...process.env }));
  try {
    await other.triage.assign(FLOW, STEP, { errorIds: [afterOwn.errors[0]!.errorId] }, 'ben.okafor@acme.example');
  } finally {
    await other.close();
  }
  const afterOther = await backend.listErrors(FLOW, STEP, { limit: 5 });
  expect(afterOther).not.toBe(afterOwn);
  expect(afterOther.errors[0]).toMatchObject({ errorId: afterOwn.errors[0]!.errorId, assignedTo: 'ben.okafor@acme.example' });

  // What depends on who asks or when is never kept.
  const mine = await backend.listErrors(FLOW, STEP, { limit: 5, query: 'assignee:me' });
  expect(await backend.listErrors(FLOW, STEP, { limit: 5, query: 'assignee:me' })).not.toBe(mine);
});

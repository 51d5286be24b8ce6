import { afterEach, beforeEach, expect, it } from 'vitest';
import { runCli, spawnCli } from '../helpers/cli.js';
import { storeAt, workerPids } from '../helpers/store-at.js';
import { storeRows, storeValue } from '../helpers/store-sql.js';
import { tempHome, type TempHome } from '../helpers/workspace.js';
import type { Store } from '../../src/store/contract/store.js';

// kill -9 in the middle of `errors retry --wait`: the next command re-queues the job and a
// background worker resumes it; no error is lost and no record is settled (or resolved) twice.

let tmp: TempHome;
let env: Record<string, string>;
let watched: { store: Store } | undefined;

beforeEach(async () => {
  tmp = tempHome();
  // Every retry sends from its own thread, as a big one does (the integration tests cover both).
  env = { FLOWDECK_HOME: tmp.home, FLOWDECK_USER: 'night.shift@acme.example', FLOWDECK_RETRY_THREAD_FROM: '1' };
  const seeded = await runCli(['demo', '--no-tui'], env);
  expect(seeded.code).toBe(0);
});

afterEach(async () => {
  // The resumed job ran in a detached worker: stop it before its workspace disappears.
  try {
    watched ??= await storeAt(tmp.home);
    for (const pid of await workerPids(watched)) process.kill(pid, 'SIGKILL');
  } catch {
    // no worker left
  }
  await watched?.store.close();
  watched = undefined;
  tmp.cleanup();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const count = async (sql: string, params: unknown[] = []) => Number(await storeValue(watched!, sql, params));

it('a retry killed with SIGKILL is resumed at the next start and settles every record once', async () => {
  const flow = 'Shop customers to CRM';
  const step = 'CRM contacts';
  const child = spawnCli(['errors', 'retry', flow, step, '--all', '--yes', '--wait', '--rate', '25/s', '--backoff', 'exponential', '--base-delay', '50ms', '--max-attempts', '10'], env);
  const db = (watched = await storeAt(tmp.home));
  const settled = () => count(`SELECT count(*) FROM retry_items WHERE state != 'pending'`);
  const deadline = Date.now() + 20_000;
  while ((await settled()) < 8 && Date.now() < deadline) await sleep(50);
  child.kill('SIGKILL');
  await new Promise((r) => child.once('exit', r));

  const [job] = await storeRows<{ id: number; created_at: number }>(db, `SELECT id, created_at FROM jobs WHERE type = 'retry' ORDER BY id LIMIT 1`);
  const total = await count('SELECT count(*) FROM retry_items WHERE job = ?', [job!.id]);
  const beforeKill = await count(`SELECT count(*) FROM retry_items WHERE job = ? AND state != 'pending'`, [job!.id]);
  expect(beforeKill).toBeGreaterThan(0);
  expect(beforeKill).toBeLessThan(total);
  const status = async () => (await storeValue<string>(db, 'SELECT status FROM jobs WHERE id = ?', [job!.id]))!;
  expect(await status()).toMatch(/running|retrying/);

  // Any command that opens the workspace re-queues the job and starts a background worker for it:
  // nobody has to run `jobs wait` or `worker` for it to finish.
  const listed = await runCli(['jobs', 'list', '--type', 'retry', '--json'], env);
  expect(listed.code, listed.stderr).toBe(0);
  const until = Date.now() + 60_000;
  while (!['completed', 'failed', 'canceled'].includes(await status()) && Date.now() < until) await sleep(100);
  expect(await status()).toBe('completed');

  const states = await storeRows<{ state: string; n: number }>(db, 'SELECT state, count(*) AS n FROM retry_items WHERE job = ? GROUP BY state', [job!.id]);
  expect(states.find((s) => s.state === 'pending')).toBeUndefined();
  expect(states.reduce((n, s) => n + Number(s.n), 0)).toBe(total);
  // Every record ends with exactly one outcome: resolved (no open error left) or one open error.
  const perRecord = await storeRows<{ state: string; open: number; resolvedByOperator: number }>(
    db,
    `SELECT i.state, (SELECT count(*) FROM errors e WHERE e.retry_data = i.retry_data AND e.resolved = false) AS open,
            (SELECT count(*) FROM errors e WHERE e.retry_data = i.retry_data AND e.resolved_by = 'night.shift@acme.example') AS "resolvedByOperator"
     FROM retry_items i WHERE i.job = ?`,
    [job!.id],
  );
  for (const r of perRecord) {
    if (r.state === 'resolved') expect({ open: Number(r.open), resolvedByOperator: Number(r.resolvedByOperator) }).toEqual({ open: 0, resolvedByOperator: 1 });
    else expect(Number(r.open)).toBe(1);
  }
  // SQLite: the file is whole after the kill.
  if (db.store.kind === 'sqlite') expect(await storeValue(db, 'PRAGMA integrity_check')).toBe('ok');
}, 120_000);

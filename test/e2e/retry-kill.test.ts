import Database from 'better-sqlite3';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { runCli, spawnCli } from '../helpers/cli.js';
import { tempHome, type TempHome } from '../helpers/workspace.js';
import { testStore } from '../helpers/store.js';

// kill -9 in the middle of `errors retry --wait`: the next command re-queues the job and a
// background worker resumes it; no error is lost and no record is settled (or resolved) twice.

let tmp: TempHome;
let env: Record<string, string>;

beforeEach(async () => {
  tmp = tempHome();
  // Every retry sends from its own thread, as a big one does (the integration tests cover both).
  env = { FLOWDECK_HOME: tmp.home, FLOWDECK_USER: 'night.shift@acme.example', FLOWDECK_RETRY_THREAD_FROM: '1' };
  const seeded = await runCli(['demo', '--no-tui'], env);
  expect(seeded.code).toBe(0);
});

afterEach(() => {
  // The resumed job ran in a detached worker: stop it before its workspace disappears.
  try {
    const db = new Database(join(tmp.home, 'flowdeck.db'), { readonly: true });
    const lease = db.prepare(`SELECT value FROM meta WHERE key = 'worker_lease'`).pluck().get() as string | undefined;
    db.close();
    if (lease) process.kill((JSON.parse(lease) as { pid: number }).pid, 'SIGKILL');
  } catch {
    // no worker left
  }
  tmp.cleanup();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// SQLite-only: reads the items straight from flowdeck.db.
it.skipIf(testStore() === 'postgres')('a retry killed with SIGKILL is resumed at the next start and settles every record once', async () => {
  const flow = 'Shop customers to CRM';
  const step = 'CRM contacts';
  const child = spawnCli(['errors', 'retry', flow, step, '--all', '--yes', '--wait', '--rate', '25/s', '--backoff', 'exponential', '--base-delay', '50ms', '--max-attempts', '10'], env);
  const db = new Database(join(tmp.home, 'flowdeck.db'), { readonly: true });
  const settled = () => db.prepare(`SELECT count(*) FROM retry_items WHERE state != 'pending'`).pluck().get() as number;
  const deadline = Date.now() + 20_000;
  while (settled() < 8 && Date.now() < deadline) await sleep(50);
  child.kill('SIGKILL');
  await new Promise((r) => child.once('exit', r));

  const job = db.prepare(`SELECT id, created_at FROM jobs WHERE type = 'retry' ORDER BY id LIMIT 1`).get() as { id: number; created_at: number };
  const total = db.prepare('SELECT count(*) FROM retry_items WHERE job = ?').pluck().get(job.id) as number;
  const beforeKill = db.prepare(`SELECT count(*) FROM retry_items WHERE job = ? AND state != 'pending'`).pluck().get(job.id) as number;
  expect(beforeKill).toBeGreaterThan(0);
  expect(beforeKill).toBeLessThan(total);
  const stillRunning = db.prepare('SELECT status FROM jobs WHERE id = ?').pluck().get(job.id);
  expect(stillRunning).toMatch(/running|retrying/);

  // Any command that opens the workspace re-queues the job and starts a background worker for it:
  // nobody has to run `jobs wait` or `worker` for it to finish.
  const listed = await runCli(['jobs', 'list', '--type', 'retry', '--json'], env);
  expect(listed.code, listed.stderr).toBe(0);
  const status = () => db.prepare('SELECT status FROM jobs WHERE id = ?').pluck().get(job.id) as string;
  const until = Date.now() + 60_000;
  while (!['completed', 'failed', 'canceled'].includes(status()) && Date.now() < until) await sleep(100);
  expect(status()).toBe('completed');

  const states = db.prepare('SELECT state, count(*) AS n FROM retry_items WHERE job = ? GROUP BY state').all(job.id) as Array<{ state: string; n: number }>;
  expect(states.find((s) => s.state === 'pending')).toBeUndefined();
  expect(states.reduce((n, s) => n + s.n, 0)).toBe(total);
  // Every record ends with exactly one outcome: resolved (no open error left) or one open error.
  const perRecord = db
    .prepare(
      `SELECT i.state, (SELECT count(*) FROM errors e WHERE e.retry_data = i.retry_data AND e.resolved = 0) AS open,
              (SELECT count(*) FROM errors e WHERE e.retry_data = i.retry_data AND e.resolved_by = 'night.shift@acme.example') AS resolvedByOperator
       FROM retry_items i WHERE i.job = ?`,
    )
    .all(job.id) as Array<{ state: string; open: number; resolvedByOperator: number }>;
  for (const r of perRecord) {
    if (r.state === 'resolved') expect(r).toMatchObject({ open: 0, resolvedByOperator: 1 });
    else expect(r.open).toBe(1);
  }
  expect(db.prepare('PRAGMA integrity_check').pluck().get()).toBe('ok');
  db.close();
}, 120_000);

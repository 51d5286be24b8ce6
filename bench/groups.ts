import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { LocalBackend } from '../src/backend/local-backend.js';
import { queryTextFromOptions, type FilterOptions } from '../src/cli/filters.js';
import { Signer } from '../src/domain/signature.js';
import { openSqliteStore } from '../src/store/sqlite/open.js';
import { Workspace } from '../src/workspace/workspace.js';
import { BENCH_FLOW, BENCH_STEP, benchEnv, ensureBigWorkspace } from './workspace.js';
import { median, timeRuns, type BenchContext, type Result } from './util.js';

// Error groups at a million errors: a step's groups in-process through LocalBackend.errorGroups
// (as `errors groups` and the TUI's Groups view call it), unfiltered (the bar: ≤ 100 ms) and under
// filters. Then what signing costs a recorded error: errors.insertError (in transactions of 1000, as a
// run records them) with its signature,
// and the signature's share of it (the normaliser and the error_sigs probe) on the same messages.

const RUNS = 15;
const TARGET_MS = 100;
const RECORDS = 50_000;

const CASES: Array<{ name: string; step?: string; filter: FilterOptions; sort?: 'count' | 'newest' }> = [
  { name: 'a step, unfiltered', step: BENCH_STEP, filter: {} },
  { name: 'a step, --sort newest', step: BENCH_STEP, filter: {}, sort: 'newest' },
  { name: 'every step of the flow', filter: {} },
  { name: 'a step, --code 422 (decided per group)', step: BENCH_STEP, filter: { code: '422' } },
  { name: 'a step, --since 1d (a row-id range)', step: BENCH_STEP, filter: { since: '1d' } },
  { name: 'a step, --tag "Needs data fix" (walks the tag)', step: BENCH_STEP, filter: { tag: 'Needs data fix' } },
  { name: 'a step, --assignee none (walks the step)', step: BENCH_STEP, filter: { assignee: 'none' } },
];

export async function benchGroups(ctx: BenchContext): Promise<Result[]> {
  const { home, generated } = await ensureBigWorkspace(ctx);
  const results: Result[] = generated ? [generated] : [];
  const backend = new LocalBackend(await Workspace.open(home, benchEnv(home)));
  try {
    for (const c of CASES) {
      const query = queryTextFromOptions(c.filter);
      let note = '';
      const times = await timeRuns(RUNS, async () => {
        const r = await backend.errorGroups(BENCH_FLOW, c.step, { ...(query ? { query } : {}), ...(c.sort ? { sort: c.sort } : {}) });
        note = `${r.numGroups} groups of ${r.total.toLocaleString('en-US')} errors`;
      });
      results.push({
        bench: 'groups',
        case: c.name,
        runs: RUNS,
        median: median(times),
        unit: 'ms',
        ...(c.step && Object.keys(c.filter).length === 0 ? { target: { value: TARGET_MS, better: 'lower' as const } } : {}),
        note: `${note}; max ${Math.max(...times).toFixed(1)} ms`,
      });
      ctx.log(`  groups ${c.name}: ${median(times).toFixed(1)} ms (${note})`);
    }
  } finally {
    await backend.close();
  }
  results.push(...(await benchSigning(ctx)));
  return results;
}

/** Messages as a step's failures repeat them: constant ones, and ones with a record's values. */
function message(i: number): { code: string; classification: string; message: string } {
  switch (i % 4) {
    case 0:
      return { code: '503', classification: 'intermittent', message: '{"errors":[{"code":"service_unavailable","message":"ERP is temporarily unavailable, try again later"}]}' };
    case 1:
      return { code: '422', classification: 'value', message: `{"errors":[{"code":"invalid_email","field":"email","message":"'user.${i}@@example.com' is not a valid email address"}]}` };
    case 2:
      return { code: '409', classification: 'duplicate', message: `{"errors":[{"code":"duplicate","message":"Sales order SO-${100_000 + i} already exists"}]}` };
    default:
      return { code: '429', classification: 'rate_limit', message: '{"errors":[{"code":"rate_limited","message":"Too many requests, retry after 1 second"}]}' };
  }
}

async function benchSigning(ctx: BenchContext): Promise<Result[]> {
  const dir = mkdtempSync(join(tmpdir(), 'flowdeck-bench-sign-'));
  const store = openSqliteStore(join(dir, 'flowdeck.db'), false);
  // The adapter's own connection for the setup and for the signature's probe alone (a SQLite bench).
  const db = store.core.db;
  try {
    db.prepare(`INSERT INTO flows (id, name, file, definition) VALUES ('f', 'F', 'f.yaml', '{}')`).run();
    const step = Number(db.prepare(`INSERT INTO steps (flow_id, step_id, kind, name, position) VALUES ('f', 's', 'import', 'S', 0)`).run().lastInsertRowid);
    const facts = Array.from({ length: RECORDS }, (_, i) => ({ step, source: 'application', ...message(i) }));
    const now = Date.now();
    const t0 = performance.now();
    for (let i = 0; i < RECORDS; i += 1000) {
      await store.withTransaction(async (tx) => {
        for (let j = i; j < i + 1000; j++) await tx.errors.insertError({ ...facts[j]!, occurredAt: now + j, classifiedBy: 'rule', purgeAt: now + j });
      });
    }
    const insertUs = ((performance.now() - t0) * 1000) / RECORDS;
    // The signature's part of it, alone: the normaliser (memoised as the store's) and the probe of error_sigs.
    const signer = new Signer();
    const probe = db.prepare('INSERT INTO error_sigs (id, step, code, source, classification, template, first_at) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING');
    const t1 = performance.now();
    for (let i = 0; i < RECORDS; i += 1000) {
      store.core.transaction(() => {
        for (let j = i; j < i + 1000; j++) {
          const f = facts[j]!;
          const { sig, template } = signer.sign(f);
          probe.run(sig, f.step, f.code, f.source, f.classification, template, now);
        }
      });
    }
    const signUs = ((performance.now() - t1) * 1000) / RECORDS;
    ctx.log(`  insertError ${insertUs.toFixed(1)} µs, of which the signature ${signUs.toFixed(2)} µs`);
    return [
      {
        bench: 'groups',
        case: `signing a recorded error (${RECORDS.toLocaleString('en-US')} errors, half with per-record values)`,
        runs: 1,
        median: signUs / 1000,
        unit: 'ms',
        baseline: { label: 'insertError, signature included', median: insertUs / 1000 },
        note: `${signUs.toFixed(2)} µs of ${insertUs.toFixed(1)} µs per error`,
      },
    ];
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

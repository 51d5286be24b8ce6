import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { followJob } from '../src/backend/follow-job.js';
import { LocalBackend } from '../src/backend/local-backend.js';
import { queryTextFromOptions } from '../src/cli/filters.js';
import { DEMO_TAGS, DEMO_USERS, seedDemoWorkspace, tagCode } from '../src/workspace/demo.js';
import { generateErrors, generateStepErrors } from '../src/workspace/generate.js';
import { Workspace } from '../src/workspace/workspace.js';
import { LIST_CASES } from './list.js';
import { RETRY_FLOW, RETRY_FLOWS_YAML, RETRY_STEP, startTarget, stopTarget, TARGET_TOKEN_FOR_BENCH, templateHome } from './retry.js';
import { BIN, median, ROOT, timeRuns, type BenchContext, type Result } from './util.js';
import { BENCH_FLOW, BENCH_STEP, benchEnv, ensureBigWorkspace } from './workspace.js';

// PostgreSQL beside SQLite, in the same go: the big workspace (N generated errors, default a
// million) on both stores, then listing, bulk triage by query, the CSV export and a 100k retry on
// each, PostgreSQL's figure reported with SQLite's as its baseline (the ratio). Then what only
// PostgreSQL can do: one 100k retry job shared by 1, 2 and 3 `flowdeck worker` processes against a
// target that counts the requests per record, reporting records/s and the duplicates (must be 0).
// The server is FLOWDECK_BENCH_PG_URL (a superuser URL; `source .ci/postgres.sh` starts a
// throw-away one); its databases are named ci_bench_*, kept between runs unless --fresh.

const LIST_RUNS = 15;
const BULK_RUNS = 3;
const CSV_RUNS = 3;
const RETRY_RECORDS = 100_000;
const WORKER_COUNTS = [1, 2, 3];
const BULK_QUERY = 'code:429';
const META_KEY = 'bench_generated_errors';
const quoteIdent = (name: string) => `"${name.replaceAll('"', '""')}"`;

function databaseUrl(server: string, database: string): string {
  const u = new URL(server);
  u.pathname = `/${database}`;
  return u.toString();
}

async function admin<T>(server: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: databaseUrl(server, 'postgres'), connectionTimeoutMillis: 5000 });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

async function databaseExists(server: string, name: string): Promise<boolean> {
  return admin(server, async (c) => (await c.query('SELECT 1 FROM pg_database WHERE datname = $1', [name])).rowCount === 1);
}

async function dropDatabase(server: string, name: string): Promise<void> {
  await admin(server, (c) => c.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`));
}

/** A new database `name`, empty or a copy of `template` (which nothing may have open). */
async function createDatabase(server: string, name: string, template = 'template0'): Promise<string> {
  await dropDatabase(server, name);
  await admin(server, (c) => c.query(`CREATE DATABASE ${quoteIdent(name)} TEMPLATE ${quoteIdent(template)}`));
  return databaseUrl(server, name);
}

/** A workspace directory whose config names `url` as its store (flow files stay files). */
function pgHome(dir: string, url: string, flows?: string): string {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, 'flows'), { recursive: true });
  if (flows) cpSync(flows, join(dir, 'flows'), { recursive: true });
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ store: url }, undefined, '\t'));
  return dir;
}

/** The big workspace on PostgreSQL: the demo's flows and ctx.errors generated errors. */
async function ensureBigPg(ctx: BenchContext, server: string): Promise<{ home: string; database: string; generated?: Result }> {
  const database = `ci_bench_demo_${ctx.errors}`;
  const home = join(ctx.dir, `pg-demo-${ctx.errors}`);
  if (!ctx.fresh && existsSync(join(home, 'config.json')) && (await databaseExists(server, database))) {
    const ws = await Workspace.open(home, benchEnv(home));
    const have = await ws.store.meta.getMeta(META_KEY);
    await ws.close();
    if (have === String(ctx.errors)) return { home, database };
  }
  pgHome(home, await createDatabase(server, database));
  const ws = await seedDemoWorkspace(home, benchEnv(home));
  ctx.log(`generating ${ctx.errors.toLocaleString('en-US')} errors on PostgreSQL (${database})`);
  const t0 = performance.now();
  try {
    await generateErrors(ws, ctx.errors, { onProgress: (done) => ctx.log(`  ${done.toLocaleString('en-US')} errors, ${((performance.now() - t0) / 1000).toFixed(1)} s`) });
    await ws.store.meta.setMeta(META_KEY, String(ctx.errors));
  } finally {
    await ws.close();
  }
  const seconds = (performance.now() - t0) / 1000;
  return { home, database, generated: { bench: 'pg', case: `generate ${ctx.errors.toLocaleString('en-US')} open errors on PostgreSQL`, runs: 1, median: seconds, unit: 's' } };
}

async function withBackend<T>(home: string, env: NodeJS.ProcessEnv, fn: (b: LocalBackend) => Promise<T>): Promise<T> {
  const backend = new LocalBackend(await Workspace.open(home, env));
  try {
    return await fn(backend);
  } finally {
    await backend.close();
  }
}

async function benchListBoth(sqliteHome: string, pgHomeDir: string, ctx: BenchContext): Promise<Result[]> {
  const results: Result[] = [];
  const timesOf = async (home: string) =>
    withBackend(home, benchEnv(home), async (backend) => {
      const out: Array<{ name: string; ms: number; rows: number }> = [];
      for (const c of LIST_CASES) {
        const query = queryTextFromOptions(c.filter);
        let rows = 0;
        const times = await timeRuns(LIST_RUNS, async () => {
          rows = (await backend.listErrors(BENCH_FLOW, BENCH_STEP, { query, limit: 100 })).errors.length;
        });
        out.push({ name: c.name, ms: median(times), rows });
      }
      return out;
    });
  const sqlite = await timesOf(sqliteHome);
  const postgres = await timesOf(pgHomeDir);
  for (const [i, c] of postgres.entries()) {
    const base = sqlite[i]!;
    if (base.rows !== c.rows) throw new Error(`list ${c.name}: ${c.rows} rows on PostgreSQL, ${base.rows} on SQLite`);
    results.push({ bench: 'pg list', case: `first page, ${c.name}`, runs: LIST_RUNS, median: c.ms, unit: 'ms', baseline: { label: 'SQLite', median: base.ms }, target: { value: 50, better: 'lower' }, note: `${c.rows} rows` });
    ctx.log(`  list ${c.name}: PostgreSQL ${c.ms.toFixed(2)} ms, SQLite ${base.ms.toFixed(2)} ms`);
  }
  return results;
}

/** assign, resolve and reopen by a query; each run undoes the one before. Seconds per 100,000 errors. */
async function bulkTimes(home: string, ctx: BenchContext, label: string): Promise<Record<'assign' | 'resolve' | 'reopen', number> & { count: number }> {
  return withBackend(home, benchEnv(home), async (backend) => {
    const sel = { query: BULK_QUERY };
    const times: Record<'assign' | 'resolve' | 'reopen', number[]> = { assign: [], resolve: [], reopen: [] };
    let count = 0;
    const time = async (op: 'assign' | 'resolve' | 'reopen', fn: () => Promise<number>) => {
      const t0 = performance.now();
      const n = await fn();
      times[op].push(performance.now() - t0);
      if (count === 0) count = n;
      if (n !== count) throw new Error(`${label} ${op} touched ${n} errors, expected ${count}`);
    };
    for (let i = 0; i < BULK_RUNS; i++) {
      await time('assign', async () => (await backend.triage.assign(BENCH_FLOW, BENCH_STEP, sel, i % 2 ? 'chen.wei@acme.example' : 'ben.okafor@acme.example')).errorsToReturn.length);
      await time('resolve', async () => (await backend.triage.resolve(BENCH_FLOW, BENCH_STEP, sel)).errorsToReturn.length);
      await time('reopen', async () => (await backend.triage.reopen(BENCH_FLOW, BENCH_STEP, sel)).errorsToReturn.length);
    }
    const per100k = (ms: number) => (ms / 1000) * (100_000 / count);
    ctx.log(`  bulk on ${label}: ${count.toLocaleString('en-US')} errors; assign ${per100k(median(times.assign)).toFixed(2)} s, resolve ${per100k(median(times.resolve)).toFixed(2)} s per 100k`);
    return { assign: per100k(median(times.assign)), resolve: per100k(median(times.resolve)), reopen: per100k(median(times.reopen)), count };
  });
}

async function benchBulkBoth(sqliteHome: string, pg: { home: string; database: string }, server: string, ctx: BenchContext): Promise<Result[]> {
  // Copies, so the big workspaces keep their data for the other benchmarks and the next go.
  const sqliteCopy = join(ctx.dir, 'pg-bench-bulk-sqlite');
  rmSync(sqliteCopy, { recursive: true, force: true });
  cpSync(sqliteHome, sqliteCopy, { recursive: true, filter: (src) => !/flowdeck\.db-(wal|shm)$/.test(src) });
  const copyName = 'ci_bench_bulk';
  const pgCopy = pgHome(join(ctx.dir, 'pg-bench-bulk-pg'), await createDatabase(server, copyName, pg.database), join(pg.home, 'flows'));
  try {
    const sqlite = await bulkTimes(sqliteCopy, ctx, 'SQLite');
    const postgres = await bulkTimes(pgCopy, ctx, 'PostgreSQL');
    if (sqlite.count !== postgres.count) throw new Error(`bulk selected ${postgres.count} errors on PostgreSQL, ${sqlite.count} on SQLite`);
    return (['assign', 'resolve', 'reopen'] as const).map((op) => ({
      bench: 'pg bulk',
      case: `${op} --query '${BULK_QUERY}' (per 100,000)`,
      runs: BULK_RUNS,
      median: postgres[op],
      unit: 's' as const,
      baseline: { label: 'SQLite', median: sqlite[op] },
      target: { value: 3, better: 'lower' as const },
      note: `${postgres.count.toLocaleString('en-US')} errors`,
    }));
  } finally {
    rmSync(sqliteCopy, { recursive: true, force: true });
    rmSync(pgCopy, { recursive: true, force: true });
    await dropDatabase(server, copyName);
  }
}

/** The product's CSV export in a process of its own (bench/csv-child.ts `product`): rows/s. */
function csvRate(home: string): { rows: number; rate: number; rssMB: number } {
  const r = spawnSync(process.execPath, [join(ROOT, 'dist', 'bench', 'csv-child.js'), 'product', home, BENCH_FLOW, BENCH_STEP], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`csv export exited ${r.status}: ${r.stderr.slice(0, 500)}`);
  const run = JSON.parse(r.stdout.trim().split('\n').pop()!) as { rows: number; ms: number; rssMB: number };
  return { rows: run.rows, rate: run.rows / (run.ms / 1000), rssMB: run.rssMB };
}

function benchCsvBoth(sqliteHome: string, pgHomeDir: string, ctx: BenchContext): Result[] {
  const sqlite: number[] = [];
  const postgres: number[] = [];
  const rss: number[] = [];
  let rows = 0;
  for (let i = 0; i < CSV_RUNS; i++) {
    // Alternated, so a burst of load on the machine hits both alike.
    const s = csvRate(sqliteHome);
    const p = csvRate(pgHomeDir);
    if (s.rows !== p.rows) throw new Error(`csv: ${p.rows} rows on PostgreSQL, ${s.rows} on SQLite`);
    rows = p.rows;
    sqlite.push(s.rate);
    postgres.push(p.rate);
    rss.push(p.rssMB);
    ctx.log(`  csv ${rows.toLocaleString('en-US')} rows: PostgreSQL ${Math.round(p.rate).toLocaleString('en-US')} rows/s, SQLite ${Math.round(s.rate).toLocaleString('en-US')} rows/s`);
  }
  return [
    { bench: 'pg csv', case: `errors export (${rows.toLocaleString('en-US')} open errors of a step)`, runs: CSV_RUNS, median: median(postgres), unit: 'rows/s', baseline: { label: 'SQLite', median: median(sqlite) }, target: { value: 150_000, better: 'higher' } },
    { bench: 'pg csv', case: 'errors export on PostgreSQL: peak RSS of the process', runs: CSV_RUNS, median: median(rss), unit: 'MB', target: { value: 150, better: 'lower' } },
  ];
}

/** The retry benchmark's 100k-error workspace on PostgreSQL (its flow file and generated errors). */
async function retryTemplatePg(ctx: BenchContext, server: string): Promise<{ database: string; flows: string }> {
  const database = `ci_bench_retry_${RETRY_RECORDS}`;
  const home = join(ctx.dir, `pg-retry-template-${RETRY_RECORDS}`);
  const ready = join(home, 'ready');
  if (!ctx.fresh && existsSync(ready) && (await databaseExists(server, database))) return { database, flows: join(home, 'flows') };
  pgHome(home, await createDatabase(server, database));
  writeFileSync(join(home, 'flows', 'bench.yaml'), RETRY_FLOWS_YAML);
  const ws = await Workspace.open(home, benchEnv(home));
  try {
    const now = Date.now();
    await ws.store.withTransaction(async (tx) => {
      for (const u of DEMO_USERS) await tx.triage.upsertUser(u.email, u.name, false, now);
      for (const name of DEMO_TAGS) await tx.triage.createTag(tagCode(name), name, now);
    });
    ctx.log(`generating ${RETRY_RECORDS.toLocaleString('en-US')} retriable errors on PostgreSQL (${database})`);
    await generateStepErrors(ws, RETRY_FLOW, RETRY_STEP, RETRY_RECORDS);
  } finally {
    await ws.close();
  }
  writeFileSync(ready, new Date().toISOString());
  return { database, flows: join(home, 'flows') };
}

/** One 100k retry run in this process (FLOWDECK_WORKER=off: followJob runs the job), records/s. */
async function retryInProcess(home: string, url: string): Promise<number> {
  const env = benchEnv(home, { BENCH_TARGET: url, BENCH_TOKEN: TARGET_TOKEN_FOR_BENCH, FLOWDECK_WORKER: 'off' });
  return withBackend(home, env, async (backend) => {
    const t0 = performance.now();
    const queued = await backend.retries.retry(RETRY_FLOW, RETRY_STEP, { all: true });
    if (!queued) throw new Error('the retry matched no snapshot');
    const job = await followJob(backend, queued._id);
    if (job.status !== 'completed') throw new Error(`the retry job ended ${job.status}`);
    const open = await backend.countErrors(RETRY_FLOW, RETRY_STEP);
    if (open !== 0) throw new Error(`${open} errors still open after the retry`);
    return RETRY_RECORDS / ((performance.now() - t0) / 1000);
  });
}

async function benchRetryBoth(ctx: BenchContext, server: string): Promise<Result[]> {
  const sqliteTemplate = await templateHome(ctx);
  const pgTemplate = await retryTemplatePg(ctx, server);
  const { url, child } = await startTarget(200);
  const sqliteRun = join(ctx.dir, 'pg-bench-retry-sqlite');
  const pgRun = join(ctx.dir, 'pg-bench-retry-pg');
  try {
    rmSync(sqliteRun, { recursive: true, force: true });
    mkdirSync(sqliteRun, { recursive: true });
    cpSync(join(sqliteTemplate, 'flows'), join(sqliteRun, 'flows'), { recursive: true });
    cpSync(join(sqliteTemplate, 'flowdeck.db'), join(sqliteRun, 'flowdeck.db'));
    const sqlite = await retryInProcess(sqliteRun, url);
    pgHome(pgRun, await createDatabase(server, 'ci_bench_retry_run', pgTemplate.database), pgTemplate.flows);
    const postgres = await retryInProcess(pgRun, url);
    ctx.log(`  retry ${RETRY_RECORDS.toLocaleString('en-US')} in-process: PostgreSQL ${Math.round(postgres).toLocaleString('en-US')} records/s, SQLite ${Math.round(sqlite).toLocaleString('en-US')} records/s`);
    return [{ bench: 'pg retry', case: `${RETRY_RECORDS.toLocaleString('en-US')} snapshots → 200, run in-process (all resolved)`, runs: 1, median: postgres, unit: 'records/s', baseline: { label: 'SQLite', median: sqlite } }];
  } finally {
    await stopTarget(child);
    rmSync(sqliteRun, { recursive: true, force: true });
    rmSync(pgRun, { recursive: true, force: true });
    await dropDatabase(server, 'ci_bench_retry_run');
  }
}

/** A target in this process that answers 200 and counts the requests per record (orderNumber). */
async function countingTarget(): Promise<{ url: string; server: Server; requests: () => number; duplicates: () => number; reset: () => void }> {
  let seen = new Map<string, number>();
  let requests = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      requests++;
      const record = String((JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as { orderNumber?: unknown }).orderNumber);
      seen.set(record, (seen.get(record) ?? 0) + 1);
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': 11 });
      res.end('{"ok":true}');
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    server,
    requests: () => requests,
    duplicates: () => [...seen.values()].reduce((sum, n) => sum + n - 1, 0),
    reset: () => {
      seen = new Map();
      requests = 0;
    },
  };
}

const ended = (child: ChildProcess) => (child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise<void>((resolve) => child.once('exit', () => resolve())));

/** One 100k retry job shared by `n` `flowdeck worker` processes: records/s from queueing to the job's end. */
async function retryWithWorkers(n: number, home: string, url: string): Promise<{ rate: number; open: number }> {
  const env = benchEnv(home, { BENCH_TARGET: url, BENCH_TOKEN: TARGET_TOKEN_FOR_BENCH, FLOWDECK_WORKER: 'off' });
  const t0 = performance.now();
  const jobId = await withBackend(home, env, async (backend) => {
    const queued = await backend.retries.retry(RETRY_FLOW, RETRY_STEP, { all: true });
    if (!queued) throw new Error('the retry matched no snapshot');
    return queued._id;
  });
  const workers = Array.from({ length: n }, () => spawn(process.execPath, [BIN, 'worker'], { env: { ...env, FLOWDECK_WORKER: '' }, stdio: ['ignore', 'ignore', 'inherit'] }));
  try {
    return await withBackend(home, env, async (backend) => {
      // Polled, not followed: followJob with FLOWDECK_WORKER=off would run the job here too.
      for (;;) {
        const job = await backend.getJob(jobId);
        if (['completed', 'failed', 'canceled'].includes(job.status)) {
          if (job.status !== 'completed') throw new Error(`the retry job ended ${job.status}`);
          break;
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      const rate = RETRY_RECORDS / ((performance.now() - t0) / 1000);
      return { rate, open: await backend.countErrors(RETRY_FLOW, RETRY_STEP) };
    });
  } finally {
    for (const w of workers) w.kill('SIGTERM');
    await Promise.all(workers.map(ended));
  }
}

async function benchWorkers(ctx: BenchContext, server: string): Promise<Result[]> {
  const template = await retryTemplatePg(ctx, server);
  const target = await countingTarget();
  const results: Result[] = [];
  const home = join(ctx.dir, 'pg-bench-workers');
  let single: number | undefined;
  try {
    for (const n of WORKER_COUNTS) {
      pgHome(home, await createDatabase(server, 'ci_bench_workers_run', template.database), template.flows);
      target.reset();
      const { rate, open } = await retryWithWorkers(n, home, target.url);
      const duplicates = target.duplicates();
      if (open !== 0) throw new Error(`${n} workers left ${open} errors open`);
      single ??= rate;
      ctx.log(`  ${n} worker${n === 1 ? '' : 's'}: ${Math.round(rate).toLocaleString('en-US')} records/s, ${target.requests().toLocaleString('en-US')} requests, ${duplicates} duplicates`);
      results.push({
        bench: 'pg workers',
        case: `${RETRY_RECORDS.toLocaleString('en-US')} snapshots shared by ${n} flowdeck worker${n === 1 ? '' : 's'}`,
        runs: 1,
        median: rate,
        unit: 'records/s',
        ...(n > 1 ? { baseline: { label: '1 worker', median: single } } : {}),
        note: `target saw ${target.requests().toLocaleString('en-US')} requests, ${duplicates} duplicates${duplicates > 0 ? ' (MUST BE 0)' : ''}; 0 open left`,
      });
      if (duplicates > 0) throw new Error(`${n} workers sent ${duplicates} records twice`);
    }
  } finally {
    await new Promise<void>((resolve) => target.server.close(() => resolve()));
    rmSync(home, { recursive: true, force: true });
    await dropDatabase(server, 'ci_bench_workers_run');
  }
  return results;
}

export async function benchPostgres(ctx: BenchContext): Promise<Result[]> {
  const server = process.env.FLOWDECK_BENCH_PG_URL;
  if (!server) {
    ctx.log('  PostgreSQL benchmarks skipped: FLOWDECK_BENCH_PG_URL is not set (a superuser URL; `source .ci/postgres.sh` starts a throw-away server)');
    return [];
  }
  const sqlite = await ensureBigWorkspace(ctx);
  const postgres = await ensureBigPg(ctx, server);
  const results: Result[] = [...(sqlite.generated ? [sqlite.generated] : []), ...(postgres.generated ? [postgres.generated] : [])];
  const sections: Array<[string, () => Promise<Result[]> | Result[]]> = [
    ['list', () => benchListBoth(sqlite.home, postgres.home, ctx)],
    ['bulk', () => benchBulkBoth(sqlite.home, postgres, server, ctx)],
    ['csv', () => benchCsvBoth(sqlite.home, postgres.home, ctx)],
    ['retry', () => benchRetryBoth(ctx, server)],
    ['workers', () => benchWorkers(ctx, server)],
  ];
  const failed: string[] = [];
  for (const [name, run] of sections) {
    // One broken section must not hide the others' figures.
    try {
      results.push(...(await run()));
    } catch (e) {
      failed.push(name);
      ctx.log(`  pg ${name} failed: ${(e as Error).stack ?? e}`);
    }
  }
  if (failed.length > 0) {
    throw Object.assign(new Error(`PostgreSQL sections failed: ${failed.join(', ')}`), { partial: results });
  }
  return results;
}

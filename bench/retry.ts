import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { performance } from 'node:perf_hooks';
import Database from 'better-sqlite3';
import { LocalBackend } from '../src/backend/local-backend.js';
import { DEMO_TAGS, DEMO_USERS, tagCode } from '../src/workspace/demo.js';
import { generateStepErrors } from '../src/workspace/generate.js';
import { Workspace } from '../src/workspace/workspace.js';
import { benchEnv, BENCH_OPERATOR } from './workspace.js';
import { median, ROOT, type BenchContext, type Result } from './util.js';
import { followJob } from '../src/backend/follow-job.js';

// Bulk retry of 100,000 snapshots, the whole product path: `backend.retries.retry(flow, step,
// {all: true})` selects the step's errors and queues a durable retry job; followJob (with
// FLOWDECK_WORKER=off) runs it in this process through the runtime (undici pool, mapping,
// recorder, one transaction per batch) against a bare target in a process of its own. With the
// target answering 200 every record must end resolved (checked afterwards over a fresh connection);
// answering 503, every record fails again and supersedes its error with a new one (trace, message,
// carried tags and assignee).

export const RETRY_FLOW = 'Bench retry';
export const RETRY_STEP = 'Bench sales orders';
const RECORDS = 100_000;
const RUNS = 3;
const TARGET_RATE = 15_000;
const CONCURRENCY = 64;

export const RETRY_FLOWS_YAML = `# The retry benchmark: one import whose connection points at a bare target ({{env.BENCH_TARGET}}).
connections:
  - name: Bench target
    http:
      baseURI: "{{env.BENCH_TARGET}}"
      auth: { type: bearer, token: "{{env.BENCH_TOKEN}}" }
      concurrency: ${CONCURRENCY}
exports:
  - name: Bench orders
    _connectionId: Bench target
    http:
      relativeURI: /orders
      response: { resourcePath: orders }
    traceKeyTemplate: "{{record.id}}"
imports:
  - name: ${RETRY_STEP}
    _connectionId: Bench target
    http:
      method: POST
      relativeURI: /salesOrders
    mapping:
      fields:
        - { extract: id, generate: orderNumber, required: true }
        - { extract: customer.email, generate: email }
        - { extract: customer.name, generate: customerName }
        - { extract: currency, generate: currency }
        - { extract: customer.tier, generate: priority }
      lists:
        - generate: lines
          extract: items
          fields:
            - { extract: sku, generate: sku }
            - { extract: quantity, generate: quantity }
            - { extract: price, generate: price }
flows:
  - name: ${RETRY_FLOW}
    pageGenerators:
      - _exportId: Bench orders
    pageProcessors:
      - type: import
        _importId: ${RETRY_STEP}
`;

export const TARGET_TOKEN_FOR_BENCH = 'bench_token_5f0c8a7d2e914b36';

/** The workspace every run starts from: the flow and 100k generated errors on its import. */
export async function templateHome(ctx: BenchContext): Promise<string> {
  const home = join(ctx.dir, `retry-template-${RECORDS}`);
  const ready = join(home, 'ready');
  if (!ctx.fresh && existsSync(ready)) {
    // Brought up to this build's schema once, not in every run's copy.
    await (await Workspace.open(home, benchEnv(home))).close();
    return home;
  }
  rmSync(home, { recursive: true, force: true });
  mkdirSync(join(home, 'flows'), { recursive: true });
  writeFileSync(join(home, 'flows', 'bench.yaml'), RETRY_FLOWS_YAML);
  const ws = await Workspace.open(home, benchEnv(home));
  try {
    const now = Date.now();
    await ws.store.withTransaction(async (tx) => {
      for (const u of DEMO_USERS) await tx.triage.upsertUser(u.email, u.name, false, now);
      for (const name of DEMO_TAGS) await tx.triage.createTag(tagCode(name), name, now);
    });
    ctx.log(`generating ${RECORDS.toLocaleString('en-US')} retriable errors for the retry benchmark`);
    await generateStepErrors(ws, RETRY_FLOW, RETRY_STEP, RECORDS);
  } finally {
    await ws.close();
  }
  writeFileSync(ready, new Date().toISOString());
  return home;
}

export async function startTarget(status: number): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, [join(ROOT, 'dist', 'bench', 'target.js'), String(status)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout! });
  const url = await new Promise<string>((resolve, reject) => {
    lines.once('line', resolve);
    child.once('exit', (code) => reject(new Error(`the bench target exited (${code}) before listening`)));
  });
  return { url, child };
}

export function stopTarget(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

interface RunOutcome {
  ms: number;
  jobMs: number;
  /** CPU time of this process (the runtime) and of the target process during the run. */
  cpuMs: number;
  targetCpuMs: number;
  check: string;
}

/** CPU milliseconds a process has used (Linux /proc; 0 elsewhere). */
function processCpuMs(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
  } catch {
    return 0;
  }
}

async function runOnce(template: string, home: string, url: string, status: number, targetPid: number): Promise<RunOutcome> {
  rmSync(home, { recursive: true, force: true });
  mkdirSync(home, { recursive: true });
  cpSync(join(template, 'flows'), join(home, 'flows'), { recursive: true });
  copyFileSync(join(template, 'flowdeck.db'), join(home, 'flowdeck.db'));
  // FLOWDECK_WORKER=off: the job runs in this process (followJob runs what it waits on), as it was measured before.
  const env = benchEnv(home, { BENCH_TARGET: url, BENCH_TOKEN: TARGET_TOKEN_FOR_BENCH, FLOWDECK_WORKER: 'off' });
  const backend = new LocalBackend(await Workspace.open(home, env));
  let jobMs = 0;
  const cpu0 = process.cpuUsage();
  const target0 = processCpuMs(targetPid);
  const t0 = performance.now();
  try {
    const queued = await backend.retries.retry(RETRY_FLOW, RETRY_STEP, { all: true });
    if (!queued) throw new Error('the retry matched no snapshot');
    const job = await followJob(backend, queued._id);
    if (job.status !== 'completed') throw new Error(`the retry job ended ${job.status}`);
    jobMs = Date.parse(job.endedAt!) - Date.parse(job.startedAt!);
  } finally {
    await backend.close();
  }
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const cpuMs = (cpu.user + cpu.system) / 1000;
  const targetCpuMs = processCpuMs(targetPid) - target0;

  // Durability and exactness, read back over a new connection after the backend closed.
  const db = new Database(join(home, 'flowdeck.db'), { readonly: true });
  try {
    const one = (sql: string, ...params: unknown[]) => db.prepare(sql).pluck().get(...params) as number;
    const items = Object.fromEntries((db.prepare('SELECT state, count(*) AS n FROM retry_items GROUP BY state').all() as Array<{ state: string; n: number }>).map((r) => [r.state, r.n]));
    if (status < 300) {
      const resolved = one('SELECT count(*) FROM errors WHERE resolved = 1 AND resolved_by = ?', BENCH_OPERATOR);
      const open = one('SELECT count(*) FROM errors WHERE resolved = 0');
      if (resolved !== RECORDS || open !== 0 || items.resolved !== RECORDS) {
        throw new Error(`expected ${RECORDS} resolved and 0 open, got ${resolved} resolved, ${open} open, items ${JSON.stringify(items)}`);
      }
      return { ms, jobMs, cpuMs, targetCpuMs, check: `${resolved.toLocaleString('en-US')} resolved by ${BENCH_OPERATOR}, 0 open` };
    }
    const superseded = one(`SELECT count(*) FROM errors WHERE resolved = 1 AND resolved_by = 'superseded'`);
    const fresh = one(`SELECT count(*) FROM errors WHERE resolved = 0 AND code = ? AND trace IS NOT NULL`, String(status));
    const masked = one(`SELECT count(*) FROM traces WHERE request LIKE ?`, `%${TARGET_TOKEN_FOR_BENCH}%`);
    if (superseded !== RECORDS || fresh !== RECORDS || items.failed !== RECORDS || masked !== 0) {
      throw new Error(`expected ${RECORDS} superseded and ${RECORDS} new errors, got ${superseded} and ${fresh}, items ${JSON.stringify(items)}, ${masked} unmasked traces`);
    }
    return { ms, jobMs, cpuMs, targetCpuMs, check: `${superseded.toLocaleString('en-US')} superseded, ${fresh.toLocaleString('en-US')} new open ${status} errors` };
  } finally {
    db.close();
  }
}

/**
 * The baseline of the same go: the same 100,000 POSTs (a mapped record each) sent by a bare undici
 * dispatch loop, 64 at a time, against the same target, with nothing read or written around them:
 * what HTTP alone costs on this machine right now. flowdeck's rate is reported against it, which
 * holds steadier than the absolute figure on a shared, noisy machine.
 */
async function bareHttpRate(url: string): Promise<number> {
  const { Pool } = await import('undici');
  const pool = new Pool(url, { connections: CONCURRENCY, pipelining: 1 });
  const body = JSON.stringify({
    orderNumber: 'SO-100000',
    email: 'someone@example.com',
    customerName: 'Someone Else',
    currency: 'EUR',
    priority: 'gold',
    lines: [
      { sku: 'SKU-1', quantity: 2, price: 10.5 },
      { sku: 'SKU-2', quantity: 1, price: 99 },
    ],
  });
  const headers = { accept: 'application/json', authorization: `Bearer ${TARGET_TOKEN_FOR_BENCH}`, 'content-type': 'application/json' };
  const one = () =>
    new Promise<void>((resolve, reject) => {
      pool.dispatch({ method: 'POST', path: '/salesOrders', headers, body }, {
        onConnect: () => {},
        onHeaders: () => true,
        onData: () => true,
        onComplete: () => resolve(),
        onError: reject,
      } as import('undici').Dispatcher.DispatchHandler);
    });
  let sent = 0;
  const t0 = performance.now();
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (sent < RECORDS) {
      sent++;
      await one();
    }
  }));
  const rate = RECORDS / ((performance.now() - t0) / 1000);
  await pool.close();
  return rate;
}

export async function benchRetry(ctx: BenchContext): Promise<Result[]> {
  const template = await templateHome(ctx);
  const results: Result[] = [];
  for (const status of (process.env.BENCH_RETRY_STATUS ? [Number(process.env.BENCH_RETRY_STATUS)] : [200, 503])) {
    const { url, child } = await startTarget(status);
    try {
      const outcomes: RunOutcome[] = [];
      const bare: number[] = [];
      for (let i = 0; i < RUNS; i++) {
        // Interleaved with the runs, so both see the machine as it is at the time.
        if (status < 300) {
          bare.push(await bareHttpRate(url));
          ctx.log(`  baseline, bare undici POSTs → ${status}: ${Math.round(bare[bare.length - 1]!).toLocaleString('en-US')} requests/s`);
        }
        const o = await runOnce(template, join(ctx.dir, 'retry-run'), url, status, child.pid!);
        outcomes.push(o);
        ctx.log(`  retry → ${status}: ${Math.round(RECORDS / (o.ms / 1000)).toLocaleString('en-US')} records/s (${(o.ms / 1000).toFixed(1)} s; job ${(o.jobMs / 1000).toFixed(1)} s; CPU ${(o.cpuMs / 1000).toFixed(1)} s, target ${(o.targetCpuMs / 1000).toFixed(1)} s); ${o.check}`);
      }
      const rate = median(outcomes.map((o) => RECORDS / (o.ms / 1000)));
      const jobRate = median(outcomes.map((o) => RECORDS / (o.jobMs / 1000)));
      // What one free core would allow: records per CPU-second of the runtime's process.
      const cpuRate = median(outcomes.map((o) => RECORDS / (o.cpuMs / 1000)));
      const targetCpu = median(outcomes.map((o) => o.targetCpuMs / 1000));
      results.push({
        bench: 'retry',
        case: `${RECORDS.toLocaleString('en-US')} snapshots → target answering ${status}${status < 300 ? ' (all resolved)' : ' (all fail again)'}`,
        runs: RUNS,
        median: rate,
        unit: 'records/s',
        ...(bare.length > 0 ? { baseline: { label: 'bare undici POSTs, nothing stored', median: median(bare) } } : {}),
        ...(status < 300 ? { target: { value: TARGET_RATE, better: 'higher' as const } } : {}),
        note: `select+queue+run; the job alone ${Math.round(jobRate).toLocaleString('en-US')}/s; ${Math.round(cpuRate).toLocaleString('en-US')} per CPU-second of the runtime (target used ${targetCpu.toFixed(1)} CPU-s); verified: ${outcomes[outcomes.length - 1]!.check}`,
      });
    } finally {
      await stopTarget(child);
    }
  }
  rmSync(join(ctx.dir, 'retry-run'), { recursive: true, force: true });
  return results;
}

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, cpSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import Database from 'better-sqlite3';
import { Pool } from 'undici';
import { LocalBackend } from '../src/backend/local-backend.js';
import { Workspace } from '../src/workspace/workspace.js';
import { RETRY_FLOW, RETRY_STEP, startTarget, stopTarget, TARGET_TOKEN_FOR_BENCH, templateHome } from './retry.js';
import { BENCH_FLOW, BENCH_OPERATOR, BENCH_STEP, benchEnv, ensureBigWorkspace } from './workspace.js';
import { BIN, median, timeRuns, type BenchContext, type Result } from './util.js';

// Team mode: the first page of a step's errors at a million errors through `flowdeck serve` on
// loopback (one client in turn for latency, then 50 keep-alive clients with autocannon for
// throughput), against the same call in-process; and a bulk retry of 100,000 records over a remote
// profile against the same retry run locally, both as whole `flowdeck errors retry` processes.

const LATENCY_RUNS = 300;
const IN_PROCESS_RUNS = 100;
const LOAD_SECONDS = 10;
const CONNECTIONS = 50;
const RETRY_RECORDS = 100_000;
const P50_MARGIN_MS = 3;
const TARGET_RPS = 2_000;

interface Server {
  url: string;
  child: ChildProcess;
}

/** `flowdeck tokens create` as an operator runs it: the token is stdout's one line. */
function createToken(env: NodeJS.ProcessEnv, user: string): string {
  const out = spawnSync(process.execPath, [BIN, 'tokens', 'create', '--user', user, '--name', `bench-${process.pid}-${Date.now()}`], { env, encoding: 'utf8' });
  if (out.status !== 0) throw new Error(`tokens create failed: ${out.stderr}`);
  return out.stdout.trim();
}

/** `flowdeck serve --port 0`, with a bucket no benchmark drains; resolves with its address. */
async function startServe(env: NodeJS.ProcessEnv, extraArgs: string[] = []): Promise<Server> {
  const child = spawn(process.execPath, [BIN, 'serve', '--port', '0', '--rate-capacity', '100000000', '--rate-refill', '100000000', ...extraArgs], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  const lines = createInterface({ input: child.stderr! });
  const url = await new Promise<string>((resolve, reject) => {
    lines.on('line', (line) => {
      const m = /listening on (http:\/\/\S+)/.exec(line);
      if (m) resolve(m[1]!);
    });
    child.once('exit', (code) => reject(new Error(`flowdeck serve exited (${code}) before listening`)));
  });
  // The request log would fill the pipe: read and drop it.
  lines.on('line', () => undefined);
  return { url, child };
}

async function stopServe(server: Server): Promise<void> {
  if (server.child.exitCode !== null) return;
  await new Promise<void>((resolve) => {
    server.child.once('exit', () => resolve());
    server.child.kill('SIGTERM');
  });
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function benchServeList(ctx: BenchContext): Promise<Result[]> {
  const { home, generated } = await ensureBigWorkspace(ctx);
  const results: Result[] = generated ? [generated] : [];
  const env = benchEnv(home, { FLOWDECK_WORKER: 'off' });

  // In-process: what the CLI and the TUI pay for the same page.
  const backend = new LocalBackend(await Workspace.open(home, env));
  let path: string;
  let inProcess: number[];
  try {
    const flow = await backend.getFlow(BENCH_FLOW);
    const step = flow.steps.find((s) => s.name === BENCH_STEP)!;
    path = `/v1/flows/${flow._id}/${step._id}/errors?pageSize=100`;
    inProcess = await timeRuns(IN_PROCESS_RUNS, () => backend.listErrors(BENCH_FLOW, BENCH_STEP, { limit: 100 }));
  } finally {
    await backend.close();
  }

  const token = createToken(env, BENCH_OPERATOR);
  // --no-worker: the million errors' due automatic retries are not swept while the listing is measured.
  const server = await startServe(env, ['--no-worker']);
  try {
    const headers = { authorization: `Bearer ${token}` };
    // One client, one request at a time: the latency an operator's command sees.
    const pool = new Pool(server.url, { connections: 1 });
    const latencies: number[] = [];
    try {
      for (let i = 0; i < LATENCY_RUNS; i++) {
        const t0 = performance.now();
        const res = await pool.request({ method: 'GET', path, headers });
        const body = (await res.body.json()) as { errors?: unknown[] };
        if (res.statusCode !== 200 || body.errors?.length !== 100) throw new Error(`GET ${path} → ${res.statusCode}`);
        latencies.push(performance.now() - t0);
      }
    } finally {
      await pool.close();
    }
    const warm = latencies.slice(20).sort((a, b) => a - b);
    const p50 = percentile(warm, 50);
    const p99 = percentile(warm, 99);
    const base = median(inProcess);
    ctx.log(`  serve list: p50 ${p50.toFixed(2)} ms, p99 ${p99.toFixed(2)} ms; in-process ${base.toFixed(2)} ms`);
    results.push({
      bench: 'serve',
      case: 'list first page through serve, one client: p50',
      runs: warm.length,
      median: p50,
      unit: 'ms',
      baseline: { label: 'in-process listErrors (the kept page)', median: base },
      target: { value: base + P50_MARGIN_MS, better: 'lower' },
      note: `p99 ${p99.toFixed(2)} ms; loopback, keep-alive`,
    });

    const { default: autocannon } = await import('autocannon');
    const load = await autocannon({ url: `${server.url}${path}`, connections: CONNECTIONS, duration: LOAD_SECONDS, headers });
    if (load.non2xx > 0 || load.errors > 0) throw new Error(`autocannon: ${load.non2xx} non-2xx answers, ${load.errors} errors`);
    ctx.log(`  serve list, ${CONNECTIONS} clients: ${Math.round(load.requests.average)} requests/s, p50 ${load.latency.p50} ms, p99 ${load.latency.p99} ms`);
    results.push({
      bench: 'serve',
      case: `list first page through serve, ${CONNECTIONS} keep-alive clients (autocannon, ${LOAD_SECONDS} s)`,
      runs: 1,
      median: load.requests.average,
      unit: 'requests/s',
      target: { value: TARGET_RPS, better: 'higher' },
      note: `latency p50 ${load.latency.p50} ms, p99 ${load.latency.p99} ms; ${load.requests.total.toLocaleString('en-US')} requests, 0 errors`,
    });
  } finally {
    await stopServe(server);
  }
  return results;
}

/** A fresh copy of the retry template (the flow and 100,000 retriable errors). */
function copyTemplate(template: string, home: string): void {
  rmSync(home, { recursive: true, force: true });
  mkdirSync(home, { recursive: true });
  cpSync(join(template, 'flows'), join(home, 'flows'), { recursive: true });
  copyFileSync(join(template, 'flowdeck.db'), join(home, 'flowdeck.db'));
  // Generated errors carry the step's automatic-retry times, all due by now: serve's worker would
  // sweep them into a job of its own before the measured retry asks for them.
  const db = new Database(join(home, 'flowdeck.db'));
  try {
    db.prepare('UPDATE errors SET retry_at = NULL WHERE retry_at IS NOT NULL').run();
  } finally {
    db.close();
  }
}

function timedRetry(env: NodeJS.ProcessEnv, extraArgs: string[] = []): number {
  const t0 = performance.now();
  const out = spawnSync(process.execPath, [BIN, ...extraArgs, 'errors', 'retry', RETRY_FLOW, RETRY_STEP, '--all', '--yes', '--wait'], { env, encoding: 'utf8' });
  const ms = performance.now() - t0;
  if (out.status !== 0 || !out.stdout.includes(`${RETRY_RECORDS.toLocaleString('en-US')} resolved`)) throw new Error(`errors retry exited ${out.status}: ${out.stderr.slice(-500)}${out.stdout}`);
  return ms;
}

async function benchServeRetry(ctx: BenchContext): Promise<Result[]> {
  const template = await templateHome(ctx);
  const home = join(ctx.dir, 'serve-retry-run');
  const { url, child } = await startTarget(200);
  const local: number[] = [];
  const remote: number[] = [];
  try {
    for (let i = 0; i < 2; i++) {
      // Locally: the retry runs in the command's own process (FLOWDECK_WORKER=off), as `retry` measures it.
      copyTemplate(template, home);
      const env = benchEnv(home, { BENCH_TARGET: url, BENCH_TOKEN: TARGET_TOKEN_FOR_BENCH, FLOWDECK_WORKER: 'off' });
      local.push(timedRetry(env));
      ctx.log(`  retry ${RETRY_RECORDS.toLocaleString('en-US')} locally: ${(local[local.length - 1]! / 1000).toFixed(1)} s`);

      // Remotely: serve runs the job in its worker; the command follows it over HTTP.
      copyTemplate(template, home);
      const serveEnv = benchEnv(home, { BENCH_TARGET: url, BENCH_TOKEN: TARGET_TOKEN_FOR_BENCH });
      const token = createToken(serveEnv, BENCH_OPERATOR);
      const server = await startServe(serveEnv);
      const config = mkdtempSync(join(tmpdir(), 'flowdeck-bench-profiles-'));
      try {
        const clientEnv: NodeJS.ProcessEnv = { ...process.env, FLOWDECK_HOME: join(config, 'no-workspace'), FLOWDECK_CONFIG_DIR: config, BENCH_SERVE_TOKEN: token };
        const added = spawnSync(process.execPath, [BIN, 'profile', 'add', 'bench', '--url', server.url, '--token-env', 'BENCH_SERVE_TOKEN'], { env: clientEnv, encoding: 'utf8' });
        if (added.status !== 0) throw new Error(`profile add failed: ${added.stderr}`);
        remote.push(timedRetry(clientEnv, ['--profile', 'bench']));
        ctx.log(`  retry ${RETRY_RECORDS.toLocaleString('en-US')} over a remote profile: ${(remote[remote.length - 1]! / 1000).toFixed(1)} s`);
      } finally {
        await stopServe(server);
        rmSync(config, { recursive: true, force: true });
      }
    }
  } finally {
    await stopTarget(child);
    rmSync(home, { recursive: true, force: true });
  }
  const rate = (ms: number) => RETRY_RECORDS / (ms / 1000);
  return [
    {
      bench: 'serve',
      case: `errors retry --all --wait of ${RETRY_RECORDS.toLocaleString('en-US')} over a remote profile (records/s)`,
      runs: remote.length,
      median: median(remote.map(rate)),
      unit: 'records/s',
      baseline: { label: 'the same retry locally', median: median(local.map(rate)) },
      note: 'whole processes: serve runs the job in its worker, the command follows it over HTTP',
    },
  ];
}

export async function benchServe(ctx: BenchContext): Promise<Result[]> {
  return [...(await benchServeList(ctx)), ...(await benchServeRetry(ctx))];
}

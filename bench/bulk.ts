import { copyFileSync, cpSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { LocalBackend } from '../src/backend/local-backend.js';
import { Workspace } from '../src/workspace/workspace.js';
import { BENCH_FLOW, BENCH_STEP, benchEnv, ensureBigWorkspace } from './workspace.js';
import { median, type BenchContext, type Result } from './util.js';

// Bulk triage through LocalBackend.triage, as `flowdeck errors resolve|assign|tag … --yes` runs it:
// select by a query (the step's 429s, about 120,000 of a million errors), change them all in one
// transaction with one audit row. On a copy of the big workspace, so the other benchmarks keep
// their data; every run is undone by the next (resolve ↔ reopen, assign A ↔ B, tag X ↔ Y), so each
// one changes the same rows. The bar is per 100,000 errors: times are scaled to that.

const RUNS = 3;
const QUERY = 'code:429';
const TARGET_S_PER_100K = 3;

export async function benchBulk(ctx: BenchContext): Promise<Result[]> {
  const { home: big, generated } = await ensureBigWorkspace(ctx);
  const home = join(ctx.dir, 'bulk-run');
  rmSync(home, { recursive: true, force: true });
  mkdirSync(home, { recursive: true });
  cpSync(join(big, 'flows'), join(home, 'flows'), { recursive: true });
  copyFileSync(join(big, 'config.json'), join(home, 'config.json'));
  copyFileSync(join(big, 'flowdeck.db'), join(home, 'flowdeck.db'));
  const backend = new LocalBackend(await Workspace.open(home, benchEnv(home)));
  const triage = backend.triage;
  const sel = { query: QUERY };
  const timings: Record<string, number[]> = { resolve: [], reopen: [], assign: [], tag: [] };
  const cpuTimes: Record<string, number[]> = { resolve: [], reopen: [], assign: [], tag: [] };
  let count = 0;
  const time = async (op: string, fn: () => Promise<number>) => {
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const n = await fn();
    const ms = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    cpuTimes[op]!.push((cpu.user + cpu.system) / 1000);
    if (count === 0) count = n;
    if (n !== count) throw new Error(`${op} touched ${n} errors, expected ${count}`);
    timings[op]!.push(ms);
    ctx.log(`  ${op} ${n.toLocaleString('en-US')} errors: ${(ms / 1000).toFixed(2)} s (CPU ${((cpu.user + cpu.system) / 1e6).toFixed(2)} s)`);
  };
  try {
    for (let i = 0; i < RUNS; i++) {
      await time('assign', async () => (await triage.assign(BENCH_FLOW, BENCH_STEP, sel, i % 2 ? 'chen.wei@acme.example' : 'ben.okafor@acme.example')).errorsToReturn.length);
      await time('tag', async () => (await triage.setTags(BENCH_FLOW, BENCH_STEP, sel, { set: [i % 2 ? 'Noise' : 'Known issue'] })).errorsToReturn.errors.length);
      await time('resolve', async () => (await triage.resolve(BENCH_FLOW, BENCH_STEP, sel)).errorsToReturn.length);
      await time('reopen', async () => (await triage.reopen(BENCH_FLOW, BENCH_STEP, sel)).errorsToReturn.length);
    }
  } finally {
    await backend.close();
    rmSync(home, { recursive: true, force: true });
  }
  const per100k = (ms: number) => (ms / 1000) * (100_000 / count);
  const results: Result[] = generated ? [generated] : [];
  for (const [op, label] of [
    ['resolve', 'errors resolve'],
    ['reopen', 'resolved reopen'],
    ['assign', 'errors assign <email>'],
    ['tag', 'errors tag --set <tag>'],
  ] as const) {
    const ms = median(timings[op]!);
    results.push({
      bench: 'bulk',
      case: `${label} --query '${QUERY}' (per 100,000)`,
      runs: RUNS,
      median: per100k(ms),
      unit: 's',
      target: { value: TARGET_S_PER_100K, better: 'lower' },
      note: `${count.toLocaleString('en-US')} errors in ${(ms / 1000).toFixed(2)} s (CPU ${(median(cpuTimes[op]!) / 1000).toFixed(2)} s)`,
    });
  }
  return results;
}

import { BENCH_FLOW, benchEnv, ensureBigWorkspace } from './workspace.js';
import { BIN, median, timeProcess, type BenchContext, type Result } from './util.js';

// Whole-process latency of the CLI: what a script pays per call. `--help` loads every command module
// but opens no workspace; `errors summary` opens the big workspace (flow files, store, stale-job
// recovery) and counts each step's open errors. Both against a bare `node -e 0` measured alongside.

const RUNS = 11;

export async function benchStartup(ctx: BenchContext): Promise<Result[]> {
  const { home, generated } = await ensureBigWorkspace(ctx);
  const env = benchEnv(home);
  // Interleaved, so a burst of load on the machine hits all three alike.
  const baseline: number[] = [];
  const help: number[] = [];
  const summary: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    baseline.push(...timeProcess(1, process.execPath, ['-e', '0'], env));
    help.push(...timeProcess(1, process.execPath, [BIN, '--help'], env));
    summary.push(...timeProcess(1, process.execPath, [BIN, 'errors', 'summary', BENCH_FLOW], env));
  }
  const base = { label: 'node -e 0', median: median(baseline) };
  ctx.log(`  startup: node ${base.median.toFixed(0)} ms, --help ${median(help).toFixed(0)} ms, summary ${median(summary).toFixed(0)} ms`);
  return [
    ...(generated ? [generated] : []),
    { bench: 'startup', case: 'node -e 0 (baseline)', runs: RUNS, median: base.median, unit: 'ms' },
    { bench: 'startup', case: 'flowdeck --help', runs: RUNS, median: median(help), unit: 'ms', baseline: base },
    { bench: 'startup', case: `flowdeck errors summary "${BENCH_FLOW}"`, runs: RUNS, median: median(summary), unit: 'ms', baseline: base },
  ];
}

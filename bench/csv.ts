import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { BENCH_FLOW, BENCH_STEP, ensureBigWorkspace } from './workspace.js';
import { median, ROOT, type BenchContext, type Result } from './util.js';

// CSV export of a step's open errors (about 400,000 of the million), each run in a fresh process
// whose peak RSS is measured: the product's export against the baseline of a plain better-sqlite3
// iterate() piped into csv-stringify over the same 17 columns, as objects and as raw arrays.
// Modes alternate run by run, so a burst of load on the machine hits them alike.

const RUNS = 3;
const TARGET_ROWS_PER_S = 150_000;
const TARGET_RSS_MB = 150;

interface Run {
  rows: number;
  ms: number;
  rssMB: number;
}

function runChild(mode: string, home: string): Run {
  const r = spawnSync(process.execPath, [join(ROOT, 'dist', 'bench', 'csv-child.js'), mode, home, BENCH_FLOW, BENCH_STEP], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`csv ${mode} exited ${r.status}: ${r.stderr.slice(0, 500)}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as Run;
}

export async function benchCsv(ctx: BenchContext): Promise<Result[]> {
  const { home, generated } = await ensureBigWorkspace(ctx);
  const runs: Record<string, Run[]> = { product: [], objects: [], arrays: [] };
  for (let i = 0; i < RUNS; i++) {
    for (const mode of Object.keys(runs)) {
      const run = runChild(mode, home);
      runs[mode]!.push(run);
      ctx.log(`  csv ${mode}: ${run.rows.toLocaleString('en-US')} rows, ${Math.round(run.rows / (run.ms / 1000)).toLocaleString('en-US')} rows/s, peak RSS ${run.rssMB.toFixed(0)} MB`);
    }
  }
  const rate = (mode: string) => median(runs[mode]!.map((r) => r.rows / (r.ms / 1000)));
  const rss = (mode: string) => median(runs[mode]!.map((r) => r.rssMB));
  const rows = runs.product![0]!.rows;
  const baseline = { label: 'iterate() objects → csv-stringify', median: rate('objects') };
  return [
    ...(generated ? [generated] : []),
    {
      bench: 'csv',
      case: `errors export (${rows.toLocaleString('en-US')} open errors of a step)`,
      runs: RUNS,
      median: rate('product'),
      unit: 'rows/s',
      baseline,
      target: { value: TARGET_ROWS_PER_S, better: 'higher' },
      note: `vs raw arrays baseline ${(rate('product') / rate('arrays')).toFixed(2)}×`,
    },
    { bench: 'csv', case: 'errors export: peak RSS of the process', runs: RUNS, median: rss('product'), unit: 'MB', baseline: { label: 'objects baseline', median: rss('objects') }, target: { value: TARGET_RSS_MB, better: 'lower' } },
    { bench: 'csv', case: 'baseline: iterate() arrays → csv-stringify', runs: RUNS, median: rate('arrays'), unit: 'rows/s', baseline, note: `peak RSS ${rss('arrays').toFixed(0)} MB` },
  ];
}

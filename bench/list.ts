import { performance } from 'node:perf_hooks';
import { LocalBackend } from '../src/backend/local-backend.js';
import { queryTextFromOptions, type FilterOptions } from '../src/cli/filters.js';
import { Workspace } from '../src/workspace/workspace.js';
import { BENCH_FLOW, BENCH_STEP, benchEnv, ensureBigWorkspace } from './workspace.js';
import { BIN, median, timeProcess, timeRuns, type BenchContext, type Result } from './util.js';

// First page (100 rows) of a step's open errors in the big workspace, in-process through
// LocalBackend.listErrors exactly as the CLI and the TUI call it: unfiltered and under each filter
// flag (turned into the query language the way the CLI does). Then `errors list --json` as a whole
// process, which adds startup, opening the workspace and printing.

const RUNS = 25;
const PROCESS_RUNS = 7;
const TARGET_MS = 50;

export const LIST_CASES: Array<{ name: string; filter: FilterOptions }> = [
  { name: 'unfiltered', filter: {} },
  { name: '--source connection', filter: { source: 'connection' } },
  { name: '--classification value', filter: { classification: 'value' } },
  { name: '--code 409', filter: { code: '409' } },
  { name: '--assignee ben.okafor@acme.example', filter: { assignee: 'ben.okafor@acme.example' } },
  { name: '--assignee none', filter: { assignee: 'none' } },
  { name: '--tag "Needs data fix"', filter: { tag: 'Needs data fix' } },
  { name: '--search unavailable', filter: { search: 'unavailable' } },
  { name: '--search "valid email"', filter: { search: 'valid email' } },
  // Two filters at once: the tag drives, the code filters what it walks.
  { name: '--tag "Needs data fix" --code 422', filter: { tag: 'Needs data fix', code: '422' } },
  // Worst cases: the driving structure is walked far before (or without) finding 100 rows.
  { name: 'worst: --search timed (a word of other steps only)', filter: { search: 'timed' } },
  { name: 'worst: --search error (prefix of most messages)', filter: { search: 'error' } },
  { name: 'worst: --source connection --code 422 (no match)', filter: { source: 'connection', code: '422' } },
  { name: 'worst: --until 20d (skips the newest 10 days)', filter: { until: '20d' } },
];

export async function benchList(ctx: BenchContext): Promise<Result[]> {
  const { home, generated } = await ensureBigWorkspace(ctx);
  const results: Result[] = generated ? [generated] : [];
  const env = benchEnv(home);
  const backend = new LocalBackend(await Workspace.open(home, env));
  try {
    for (const c of LIST_CASES) {
      const query = queryTextFromOptions(c.filter);
      let rows = 0;
      const times = await timeRuns(RUNS, async () => {
        rows = (await backend.listErrors(BENCH_FLOW, BENCH_STEP, { query, limit: 100 })).errors.length;
      });
      results.push({
        bench: 'list',
        case: `first page, ${c.name}`,
        runs: RUNS,
        median: median(times),
        unit: 'ms',
        target: { value: TARGET_MS, better: 'lower' },
        note: `${rows} rows; first run ${times[0]!.toFixed(1)} ms, max ${Math.max(...times).toFixed(1)} ms`,
      });
      ctx.log(`  list ${c.name}: ${median(times).toFixed(2)} ms`);
    }
    // The next page through nextPageURL's cursor, as paging in the TUI does.
    const first = await backend.listErrors(BENCH_FLOW, BENCH_STEP, { limit: 100 });
    const before = first.errors[first.errors.length - 1]!.errorId;
    const t = await timeRuns(RUNS, () => backend.listErrors(BENCH_FLOW, BENCH_STEP, { limit: 100, before }));
    results.push({ bench: 'list', case: 'second page (before cursor), unfiltered', runs: RUNS, median: median(t), unit: 'ms', target: { value: TARGET_MS, better: 'lower' } });
  } finally {
    await backend.close();
  }

  const t0 = performance.now();
  const times = timeProcess(PROCESS_RUNS, process.execPath, [BIN, 'errors', 'list', BENCH_FLOW, BENCH_STEP, '--json'], env);
  const baseline = timeProcess(PROCESS_RUNS, process.execPath, ['-e', '0'], env);
  ctx.log(`  list as a process: ${median(times).toFixed(0)} ms (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
  results.push({
    bench: 'list',
    case: 'process: flowdeck errors list <flow> <step> --json',
    runs: PROCESS_RUNS,
    median: median(times),
    unit: 'ms',
    baseline: { label: 'node -e 0', median: median(baseline) },
  });
  return results;
}

import { spawn, spawnSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { BENCH_FLOW, BENCH_STEP, benchEnv, ensureBigWorkspace } from './workspace.js';
import { BIN, median, RSS_PRELOAD, rssProbe, runNodeProcess, type BenchContext, type ProcessRun, type Result } from './util.js';

// Whole-process start-up of the CLI and the TUI: what a script (or an operator) pays per call, each
// process's wall-clock time and its own peak RSS, against a bare `node -e 0` measured in the same go.
// `--help` opens no workspace; the others open the big one (store, stale-job recovery; the flow
// files are parsed only when they changed) and run their query. The TUI runs on a pseudo-terminal
// (script(1), 160×45) and is timed to its first frame showing the flows with their counts.

const RUNS = 11;
const TUI_RUNS = 5;
const HELP_RATIO = 1.5;
const LIST_MS = 250;
const TUI_MS = 600;
// eslint-disable-next-line no-control-regex
const ANSI = /\u001B\[[0-9;?]*[ -/]*[@-~]|\u001B[()][0-9A-B]|\u001B[=>78]/g;

interface Case {
  case: string;
  args: string[];
  runs: ProcessRun[];
  target?: (baselineMs: number) => number;
}

const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
const hasScript = () => spawnSync('script', ['--version'], { stdio: 'ignore' }).status === 0;

/** `node …args` on a pseudo-terminal; resolves when a frame passes `ready` (or at exit without one). */
function runOnTerminal(args: string[], env: NodeJS.ProcessEnv, ready?: (screen: string) => boolean): Promise<ProcessRun> {
  const probe = rssProbe();
  const command = `stty rows 45 cols 160; exec ${[process.execPath, '--import', RSS_PRELOAD, ...args].map(quote).join(' ')}`;
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn('script', ['-qfec', command, '/dev/null'], { env: { ...env, ...probe.env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let screen = '';
    let readyAt: number | undefined;
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.stdout.on('data', (chunk: Buffer) => {
      if (readyAt !== undefined || !ready) return;
      screen += chunk.toString('utf8').replace(ANSI, '');
      if (ready(screen)) {
        readyAt = performance.now() - t0;
        child.stdin.write('q');
      }
    });
    child.stdin.on('error', () => undefined);
    child.on('close', (code) => {
      clearTimeout(timer);
      const rssMB = probe.read();
      if (ready && readyAt === undefined) reject(new Error(`the TUI exited (${code}) before its first frame; last output:\n${screen.slice(-1500)}`));
      else resolve({ ms: readyAt ?? performance.now() - t0, rssMB });
    });
  });
}

const medianRss = (runs: ProcessRun[]) => median(runs.map((r) => r.rssMB).filter((n) => Number.isFinite(n)));

export async function benchStartup(ctx: BenchContext): Promise<Result[]> {
  const { home, generated } = await ensureBigWorkspace(ctx);
  const env = benchEnv(home);
  const baseline: ProcessRun[] = [];
  const cases: Case[] = [
    { case: 'flowdeck --help', args: [BIN, '--help'], runs: [], target: (base) => base * HELP_RATIO },
    { case: `flowdeck errors list "${BENCH_FLOW}" "${BENCH_STEP}" --json`, args: [BIN, 'errors', 'list', BENCH_FLOW, BENCH_STEP, '--json'], runs: [], target: () => LIST_MS },
    { case: `flowdeck errors summary "${BENCH_FLOW}"`, args: [BIN, 'errors', 'summary', BENCH_FLOW], runs: [] },
    { case: 'flowdeck flows list', args: [BIN, 'flows', 'list'], runs: [] },
  ];
  // Interleaved, so a burst of load on the machine hits every case alike.
  for (let i = 0; i < RUNS; i++) {
    baseline.push(runNodeProcess(['-e', '0'], env));
    for (const c of cases) c.runs.push(runNodeProcess(c.args, env));
  }
  const base = { label: 'node -e 0', median: median(baseline.map((r) => r.ms)) };
  const rssNote = (runs: ProcessRun[]) => `peak RSS ${medianRss(runs).toFixed(0)} MB (node -e 0: ${medianRss(baseline).toFixed(0)} MB)`;
  const results: Result[] = [
    ...(generated ? [generated] : []),
    { bench: 'startup', case: 'node -e 0 (baseline)', runs: RUNS, median: base.median, unit: 'ms', note: `peak RSS ${medianRss(baseline).toFixed(0)} MB` },
    ...cases.map((c): Result => ({
      bench: 'startup',
      case: c.case,
      runs: RUNS,
      median: median(c.runs.map((r) => r.ms)),
      unit: 'ms',
      baseline: base,
      ...(c.target ? { target: { value: c.target(base.median), better: 'lower' as const } } : {}),
      note: rssNote(c.runs),
    })),
  ];
  ctx.log(`  startup: node ${base.median.toFixed(0)} ms; ${cases.map((c) => `${c.args.slice(1, 3).join(' ')} ${median(c.runs.map((r) => r.ms)).toFixed(0)} ms`).join(', ')}`);

  if (!hasScript()) {
    ctx.log('  startup: no script(1) on this machine, so no pseudo-terminal: the TUI first frame is not measured');
    return results;
  }
  const tuiBase: ProcessRun[] = [];
  const tui: ProcessRun[] = [];
  for (let i = 0; i < TUI_RUNS; i++) {
    tuiBase.push(await runOnTerminal(['-e', '0'], env));
    tui.push(await runOnTerminal([BIN], env, (screen) => screen.includes(BENCH_FLOW) && /\d{3},\d{3}/.test(screen)));
  }
  const tuiBaseline = { label: 'node -e 0 on the same terminal', median: median(tuiBase.map((r) => r.ms)) };
  ctx.log(`  startup: TUI first frame ${median(tui.map((r) => r.ms)).toFixed(0)} ms (node -e 0 there ${tuiBaseline.median.toFixed(0)} ms)`);
  results.push({
    bench: 'startup',
    case: 'flowdeck (TUI): first frame with the flows and their counts',
    runs: TUI_RUNS,
    median: median(tui.map((r) => r.ms)),
    unit: 'ms',
    baseline: tuiBaseline,
    target: { value: TUI_MS, better: 'lower' },
    note: `whole process on a pseudo-terminal (script(1)); max ${Math.max(...tui.map((r) => r.ms)).toFixed(0)} ms; peak RSS ${medianRss(tui).toFixed(0)} MB`,
  });
  return results;
}

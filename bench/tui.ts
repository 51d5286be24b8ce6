import { EventEmitter } from 'node:events';
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { LocalBackend } from '../src/backend/local-backend.js';
import { Workspace } from '../src/workspace/workspace.js';
import type { AppProps } from '../src/tui/app.js';
import { median, type BenchContext, type Result } from './util.js';
import { BENCH_FLOW, BENCH_STEP, benchEnv, ensureBigWorkspace } from './workspace.js';

// The TUI over the big workspace, in process, on a terminal of 160×45 as ink drives a real one
// (frames throttled at the app's 60 fps, written as escape sequences): the time to the first frame
// with data, and keystroke → frame (the first frame written after the key that shows its effect)
// when scrolling, paging, filtering and jumping to the end. Keys are paced like a fast typist
// (40 ms apart; the pause is not counted).

const TARGET_MS = 50;
const COLUMNS = 160;
const ROWS = 45;
const KEY_GAP_MS = 40;
const FILTERS = ['class:value', 'code:409', 'tag:"Needs data fix"', 'assignee:none', 'unavailable', 'tag:"Needs data fix" code:422'];

// eslint-disable-next-line no-control-regex
const ANSI = /\u001B\[[0-9;?]*[ -/]*[@-~]/g;

class BenchStdout extends EventEmitter {
  readonly isTTY = true;
  columns = COLUMNS;
  rows = ROWS;
  last = '';
  private waiters: Array<{ test: (frame: string) => boolean; resolve: (at: number) => void }> = [];

  write = (chunk: string | Uint8Array): boolean => {
    const at = performance.now();
    const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    const plain = text.replace(ANSI, '');
    if (plain.trim()) this.last = plain;
    this.waiters = this.waiters.filter((w) => {
      if (!w.test(plain)) return true;
      w.resolve(at);
      return false;
    });
    return true;
  };

  /** Resolves with the time of the first frame written from now on that passes `test`. */
  next(test: (frame: string) => boolean, timeoutMs = 120_000): Promise<number> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no frame matched within ${timeoutMs} ms; the last frame:\n${this.last}`)), timeoutMs);
      this.waiters.push({
        test,
        resolve: (at) => {
          clearTimeout(timer);
          resolve(at);
        },
      });
    });
  }
}

class BenchStdin extends EventEmitter {
  readonly isTTY = true;
  private data: string | null = null;
  setRawMode(): this {
    return this;
  }
  setEncoding(): this {
    return this;
  }
  ref(): this {
    return this;
  }
  unref(): this {
    return this;
  }
  resume(): this {
    return this;
  }
  pause(): this {
    return this;
  }
  read = (): string | null => {
    const d = this.data;
    this.data = null;
    return d;
  };
  press(keys: string): void {
    this.data = keys;
    this.emit('readable');
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function rowOf(frame: string): number | undefined {
  const m = /row ([\d,]+)/.exec(frame);
  return m ? Number(m[1]!.replace(/,/g, '')) : undefined;
}

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}

/** The TUI benchmark (registered as `tui` in bench/run.ts). */
export async function benchTui(ctx: BenchContext): Promise<Result[]> {
  const { home, generated } = await ensureBigWorkspace(ctx);
  const results: Result[] = generated ? [generated] : [];
  // Ink draws only the final frame when it believes it runs in CI: this measures a terminal.
  delete process.env.CI;
  delete process.env.CONTINUOUS_INTEGRATION;
  const { render, createElement, App } = await (await import('../src/tui/run.js')).loadTui();
  const env = benchEnv(home, { NO_COLOR: '' });
  const backend = new LocalBackend(await Workspace.open(home, env));

  const mount = (routes: AppProps['initialRoutes']) => {
    const stdout = new BenchStdout();
    const stdin = new BenchStdin();
    const started = performance.now();
    const instance = render(
      createElement(App, { backend, env, editFile: () => undefined, workspace: home, refreshMs: 0, ...(routes ? { initialRoutes: routes } : {}) }),
      { stdout: stdout as unknown as NodeJS.WriteStream, stdin: stdin as unknown as NodeJS.ReadStream, exitOnCtrlC: false, patchConsole: false, maxFps: 60 },
    );
    return { stdout, stdin, started, instance };
  };

  // CPU time of this process between the key and its frame: what the TUI costs, apart from how
  // loaded the machine is (wall time includes waiting for a core).
  let cpu: number[] = [];
  /** Sends keys, returns ms until the first frame that passes `test`. */
  const timeKey = async (t: ReturnType<typeof mount>, keys: string, test: (frame: string) => boolean, timeoutMs?: number) => {
    await sleep(KEY_GAP_MS);
    const frame = t.stdout.next(test, timeoutMs);
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    t.stdin.press(keys);
    const at = await frame;
    const used = process.cpuUsage(c0);
    cpu.push((used.user + used.system) / 1000);
    return at - t0;
  };
  const cpuNote = () => {
    const note = `CPU ${median(cpu).toFixed(1)} ms per key`;
    cpu = [];
    return note;
  };

  try {
    const flow = await backend.getFlow(BENCH_FLOW);
    const step = flow.steps.find((s) => s.name === BENCH_STEP)!;
    const total = step.numOpenError.toLocaleString('en-US');
    const errorsRoute = [
      { view: 'flows' as const },
      { view: 'steps' as const, flowId: flow._id, flowName: flow.name },
      { view: 'errors' as const, flowId: flow._id, flowName: flow.name, stepId: step._id, stepName: step.name },
    ];

    // First frame with data: the flows view (counts every step), and straight into the errors table.
    const firstFlows: number[] = [];
    const firstErrors: number[] = [];
    for (let i = 0; i < 5; i++) {
      const a = mount(undefined);
      firstFlows.push((await a.stdout.next((f) => f.includes(BENCH_FLOW) && /\d{3},\d{3}/.test(f))) - a.started);
      a.instance.unmount();
      const b = mount(errorsRoute);
      firstErrors.push((await b.stdout.next((f) => /^› {3}\d\d-\d\d /m.test(f))) - b.started);
      b.instance.unmount();
    }
    results.push(
      { bench: 'tui', case: 'first frame: flows view', runs: firstFlows.length, median: median(firstFlows), unit: 'ms', note: `max ${Math.max(...firstFlows).toFixed(0)} ms; open-error counts of every step` },
      { bench: 'tui', case: `first frame: errors table (${total} open errors)`, runs: firstErrors.length, median: median(firstErrors), unit: 'ms', target: { value: TARGET_MS * 2, better: 'lower' }, note: `max ${Math.max(...firstErrors).toFixed(0)} ms` },
    );
    ctx.log(`  tui first frame (load average ${loadavg()[0]!.toFixed(1)}): flows ${median(firstFlows).toFixed(1)} ms, errors ${median(firstErrors).toFixed(1)} ms`);

    const t = mount(errorsRoute);
    await t.stdout.next((f) => f.includes(`row 1 of ${total}`));

    // Scrolling one row at a time, across several page fetches.
    const down: number[] = [];
    cpu = [];
    for (let i = 0; i < 400; i++) {
      const want = i + 2;
      down.push(await timeKey(t, 'j', (f) => rowOf(f) === want));
    }
    results.push({ bench: 'tui', case: 'keystroke → frame: j (scroll a row)', runs: down.length, median: median(down), unit: 'ms', target: { value: TARGET_MS, better: 'lower' }, note: `p95 ${percentile(down, 0.95).toFixed(1)} ms, max ${Math.max(...down).toFixed(1)} ms; ${cpuNote()}; 400 rows, 2 page fetches` });

    // Paging: a screen at a time, far down (the window trims what it left behind).
    const pages: number[] = [];
    for (let i = 0; i < 150; i++) {
      const before = rowOf(t.stdout.last) ?? 0;
      pages.push(await timeKey(t, '\u001B[6~', (f) => (rowOf(f) ?? 0) > before));
    }
    const deep = rowOf(t.stdout.last) ?? 0;
    results.push({ bench: 'tui', case: 'keystroke → frame: PgDn (a screen)', runs: pages.length, median: median(pages), unit: 'ms', target: { value: TARGET_MS, better: 'lower' }, note: `p95 ${percentile(pages, 0.95).toFixed(1)} ms, max ${Math.max(...pages).toFixed(1)} ms; ${cpuNote()}; down to row ${deep.toLocaleString('en-US')}` });
    const upPages: number[] = [];
    for (let i = 0; i < 60; i++) {
      const before = rowOf(t.stdout.last) ?? 0;
      upPages.push(await timeKey(t, '\u001B[5~', (f) => (rowOf(f) ?? Infinity) < before));
    }
    results.push({ bench: 'tui', case: 'keystroke → frame: PgUp over trimmed rows', runs: upPages.length, median: median(upPages), unit: 'ms', target: { value: TARGET_MS, better: 'lower' }, note: `p95 ${percentile(upPages, 0.95).toFixed(1)} ms; ${cpuNote()}` });
    ctx.log(`  tui keys: j ${median(down).toFixed(1)} ms, PgDn ${median(pages).toFixed(1)} ms, PgUp ${median(upPages).toFixed(1)} ms`);

    // Filtering: enter → the first frame of the filtered table.
    await timeKey(t, 'g', (f) => f.includes(`row 1 of ${total}`));
    for (const query of FILTERS) {
      const times: number[] = [];
      const filterCpu: number[] = [];
      for (let run = 0; run < 5; run++) {
        await timeKey(t, '/', (f) => f.includes('enter apply'), 10_000);
        await timeKey(t, `\u0015${query}`, (f) => f.includes(`/ ${query}`));
        cpu = [];
        times.push(await timeKey(t, '\r', (f) => f.includes(`filter ${query}`) && (/row 1\b/.test(f) || f.includes('No open errors match'))));
        filterCpu.push(...cpu);
        await timeKey(t, '\u001B', (f) => f.includes(`row 1 of ${total}`));
      }
      cpu = filterCpu;
      results.push({ bench: 'tui', case: `keystroke → frame: filter ${query}`, runs: times.length, median: median(times), unit: 'ms', target: { value: TARGET_MS, better: 'lower' }, note: `max ${Math.max(...times).toFixed(1)} ms; ${cpuNote()}` });
      ctx.log(`  tui filter ${query}: ${median(times).toFixed(1)} ms`);
    }

    // The jump to the end: one ascending page when the backend pages upward, else a walk.
    let jump: number;
    let how = '';
    try {
      jump = await timeKey(t, 'G', (f) => f.includes(`row ${total} of ${total}`), 120_000);
      how = 'reached the last row';
    } catch {
      jump = 120_000;
      how = 'not reached in 120 s';
      t.stdin.press('\u001B');
    }
    results.push({ bench: 'tui', case: 'keystroke → frame: G (jump to the oldest error)', runs: 1, median: jump, unit: 'ms', note: `${how}; one oldest-first page (listErrors order: asc)` });
    ctx.log(`  tui G: ${jump.toFixed(0)} ms`);
    t.instance.unmount();
  } finally {
    await backend.close();
  }
  return results;
}

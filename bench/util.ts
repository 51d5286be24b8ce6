import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';

// Shared plumbing of the benchmarks: medians, timing whole processes, the results table.

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const BIN = join(ROOT, 'bin', 'flowdeck.js');

export interface Result {
  bench: string;
  case: string;
  runs: number;
  median: number;
  unit: 'ms' | 's' | 'records/s' | 'rows/s' | 'requests/s' | 'MB';
  /** What the case is compared with, measured in the same go. */
  baseline?: { label: string; median: number };
  /** The bar from the product brief: at most (lower) or at least (higher). */
  target?: { value: number; better: 'lower' | 'higher' };
  note?: string;
}

export interface BenchContext {
  /** Errors in the big workspace. */
  errors: number;
  /** Where benchmark workspaces live. */
  dir: string;
  /** Regenerate workspaces even when one of the right size exists. */
  fresh: boolean;
  log: (line: string) => void;
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Milliseconds of `fn`, `runs` times. */
export async function timeRuns(runs: number, fn: () => unknown): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await fn();
    out.push(performance.now() - t0);
  }
  return out;
}

/** Wall-clock milliseconds of a whole process, `runs` times; a failing run throws with its stderr. */
export function timeProcess(runs: number, command: string, args: string[], env: NodeJS.ProcessEnv): number[] {
  const out: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    const r = spawnSync(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 * 1024 * 1024 });
    const ms = performance.now() - t0;
    if (r.status !== 0) throw new Error(`${[command, ...args].join(' ')} exited ${r.status}: ${r.stderr.toString().slice(0, 500)}`);
    out.push(ms);
  }
  return out;
}

export const RSS_PRELOAD = join(ROOT, 'dist', 'bench', 'peak-rss-preload.js');

export interface ProcessRun {
  ms: number;
  /** The process's own peak RSS (VmHWM), NaN when it did not report one. */
  rssMB: number;
}

/** A fresh file for one process's peak RSS, and how to read it afterwards. */
export function rssProbe(): { env: NodeJS.ProcessEnv; read: () => number } {
  const dir = mkdtempSync(join(tmpdir(), 'flowdeck-rss-'));
  const file = join(dir, 'rss');
  return {
    env: { FLOWDECK_BENCH_RSS_FILE: file },
    read: () => {
      try {
        return Number(readFileSync(file, 'utf8'));
      } catch {
        return NaN;
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

/**
 * One whole `node …args` process: wall-clock milliseconds and its own peak RSS, reported by the
 * preloaded bench/peak-rss-preload.ts (the preload is the same for the baseline and the product).
 */
export function runNodeProcess(args: string[], env: NodeJS.ProcessEnv): ProcessRun {
  const probe = rssProbe();
  const t0 = performance.now();
  const r = spawnSync(process.execPath, ['--import', RSS_PRELOAD, ...args], { env: { ...env, ...probe.env }, stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 * 1024 * 1024 });
  const ms = performance.now() - t0;
  const rssMB = probe.read();
  if (r.status !== 0) throw new Error(`node ${args.join(' ')} exited ${r.status}: ${r.stderr.toString().slice(0, 500)}`);
  return { ms, rssMB };
}

export function requireBuilt(): void {
  if (!existsSync(join(ROOT, 'dist', 'commands', 'index.js'))) throw new Error('dist/ is missing: run npm run build first');
}

const fmt = (n: number, unit: Result['unit']) =>
  unit === 'records/s' || unit === 'rows/s' || unit === 'requests/s' ? Math.round(n).toLocaleString('en-US') : n >= 100 ? n.toFixed(0) : n >= 10 ? n.toFixed(1) : n.toFixed(2);

export function verdict(r: Result): string {
  if (!r.target) return '';
  const ok = r.target.better === 'lower' ? r.median <= r.target.value : r.median >= r.target.value;
  return `${ok ? 'ok' : 'MISS'} (${r.target.better === 'lower' ? '≤' : '≥'} ${fmt(r.target.value, r.unit)})`;
}

export function renderResults(results: readonly Result[]): string {
  const rows = results.map((r) => [
    r.bench,
    r.case,
    String(r.runs),
    `${fmt(r.median, r.unit)} ${r.unit}`,
    r.baseline ? `${fmt(r.baseline.median, r.unit)} ${r.unit} (${r.baseline.label})` : '',
    r.baseline ? `${(r.median / r.baseline.median).toFixed(2)}×` : '',
    verdict(r),
    r.note ?? '',
  ]);
  const header = ['BENCH', 'CASE', 'RUNS', 'MEDIAN', 'BASELINE', 'RATIO', 'TARGET', 'NOTE'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 2 || i === 3 || i === 5 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { isSeeded, resetWorkspace, seedDemoWorkspace } from '../src/workspace/demo.js';
import { generateErrors } from '../src/workspace/generate.js';
import { Workspace } from '../src/workspace/workspace.js';
import type { BenchContext, Result } from './util.js';

// The big workspace the read benchmarks share: the demo's flows with N generated open errors. It is
// kept between runs (generating it is itself measured, once per size) unless --fresh is given.

export const BENCH_FLOW = 'Shop orders to ERP';
export const BENCH_STEP = 'ERP sales orders';
export const BENCH_OPERATOR = 'ana.lima@acme.example';
const META_KEY = 'bench_generated_errors';
const sec = (ms: number) => (ms / 1000).toFixed(1);
const generatedNow = new Set<string>();

export function benchEnv(home: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return { ...process.env, FLOWDECK_HOME: home, FLOWDECK_USER: BENCH_OPERATOR, ...extra };
}

export function bigHome(ctx: BenchContext): string {
  return join(ctx.dir, `demo-${ctx.errors}`);
}

/** Opens (generating when needed) the big workspace; returns the generation result when it ran now. */
export async function ensureBigWorkspace(ctx: BenchContext): Promise<{ home: string; generated?: Result }> {
  const home = bigHome(ctx);
  mkdirSync(ctx.dir, { recursive: true });
  // --fresh regenerates once per go, not once per benchmark.
  if ((!ctx.fresh || generatedNow.has(home)) && existsSync(join(home, 'flowdeck.db')) && isSeeded(home)) {
    const ws = await Workspace.open(home, benchEnv(home));
    const have = await ws.store.meta.getMeta(META_KEY);
    await ws.close();
    if (have === String(ctx.errors)) return { home };
  }
  resetWorkspace(home);
  const ws = await seedDemoWorkspace(home, benchEnv(home));
  ctx.log(`generating ${ctx.errors.toLocaleString('en-US')} errors in ${home}`);
  const t0 = performance.now();
  try {
    const result = await generateErrors(ws, ctx.errors, {
      onProgress: (done) => ctx.log(`  ${done.toLocaleString('en-US')} errors, ${((performance.now() - t0) / 1000).toFixed(1)} s`),
    });
    await ws.store.meta.setMeta(META_KEY, String(ctx.errors));
    generatedNow.add(home);
    const ms = performance.now() - t0;
    return {
      home,
      generated: {
        bench: 'generate',
        case: `${ctx.errors.toLocaleString('en-US')} open errors (demo flows)`,
        runs: 1,
        median: ms / 1000,
        unit: 's',
        target: { value: 60, better: 'lower' },
        note: `rows ${sec(result.phases.rows)} s waiting for the worker, write ${sec(result.phases.write)} s, indexes ${sec(result.phases.indexes)} s, ANALYZE ${sec(result.phases.analyze)} s; ${result.retryData.toLocaleString('en-US')} snapshots, ${result.traces.toLocaleString('en-US')} traces, ${result.tagged.toLocaleString('en-US')} tagged, ${result.assigned.toLocaleString('en-US')} assigned`,
      },
    };
  } finally {
    await ws.close();
  }
}

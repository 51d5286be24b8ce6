import { benchServe } from './serve.js';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { benchBulk } from './bulk.js';
import { benchCsv } from './csv.js';
import { benchGroups } from './groups.js';
import { benchList } from './list.js';
import { benchPostgres } from './postgres.js';
import { benchRetry } from './retry.js';
import { benchStartup } from './startup.js';
import { benchTui } from './tui.js';
import { renderResults, requireBuilt, type BenchContext, type Result } from './util.js';

// `npm run bench [-- --only list,startup] [--errors N] [--dir D] [--fresh]`: runs the benchmark
// suite and prints one table. Workspaces are generated under --dir (default: the OS temp dir) and
// kept for the next run unless --fresh. Benchmarks never run inside `npm test`.

const BENCHES: Record<string, (ctx: BenchContext) => Promise<Result[]>> = {
  list: benchList,
  groups: benchGroups,
  startup: benchStartup,
  retry: benchRetry,
  bulk: benchBulk,
  csv: benchCsv,
  tui: benchTui,
  serve: benchServe,
  // PostgreSQL beside SQLite; one skip line without FLOWDECK_BENCH_PG_URL.
  postgres: benchPostgres,
};

function usage(message?: string): never {
  if (message) process.stderr.write(`bench: ${message}\n`);
  process.stderr.write(`usage: node dist/bench/run.js [--only ${Object.keys(BENCHES).join(',')}] [--errors N] [--dir DIR] [--fresh]\n`);
  process.exit(2);
}

function parseArgs(argv: string[]): { only: string[]; ctx: BenchContext } {
  let only = Object.keys(BENCHES);
  let errors = 1_000_000;
  let dir = join(tmpdir(), 'flowdeck-bench');
  let fresh = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const value = () => argv[++i] ?? usage(`${arg} needs a value`);
    if (arg === '--only') {
      only = value().split(',').map((s) => s.trim()).filter(Boolean);
      for (const name of only) if (!BENCHES[name]) usage(`unknown benchmark "${name}"`);
    } else if (arg === '--errors') {
      errors = Number(value().replace(/[_,]/g, ''));
      if (!Number.isInteger(errors) || errors < 1000) usage('--errors must be a whole number of at least 1000');
    } else if (arg === '--dir') dir = resolve(value());
    else if (arg === '--fresh') fresh = true;
    else if (arg === '--help' || arg === '-h') usage();
    else usage(`unknown argument "${arg}"`);
  }
  const log = (line: string) => process.stderr.write(`${line}\n`);
  return { only, ctx: { errors, dir, fresh, log } };
}

async function main(): Promise<void> {
  requireBuilt();
  const { only, ctx } = parseArgs(process.argv.slice(2));
  ctx.log(`flowdeck benchmarks: ${only.join(', ')}; ${ctx.errors.toLocaleString('en-US')} errors; node ${process.version}; ${cpus().length} cores; workspaces in ${ctx.dir}`);
  const results: Result[] = [];
  const failed: string[] = [];
  for (const name of only) {
    ctx.log(`== ${name}`);
    const t0 = Date.now();
    try {
      results.push(...(await BENCHES[name]!(ctx)));
    } catch (e) {
      // One broken benchmark must not hide the others' figures (nor its own finished parts).
      failed.push(name);
      results.push(...((e as { partial?: Result[] }).partial ?? []));
      ctx.log(`bench ${name} failed: ${(e as Error).stack ?? e}`);
    }
    ctx.log(`   (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  }
  process.stdout.write(`\n${renderResults(results)}\n`);
  if (failed.length > 0) {
    process.stdout.write(`\nFAILED: ${failed.join(', ')} (see stderr)\n`);
    process.exitCode = 1;
  }
}

main().catch((e: Error) => {
  process.stderr.write(`bench: ${e.stack ?? e.message}\n`);
  process.exit(1);
});

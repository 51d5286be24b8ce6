import { Command } from 'commander';
import type { LocalBackend } from '../src/backend/local-backend.js';
import { assertLocalProfile, print, type CommandIO } from '../src/cli/context.js';
import { parsePositiveInt } from '../src/cli/options.js';
import { formatCount, renderTable } from '../src/cli/output.js';
import { followJob } from '../src/backend/follow-job.js';

interface DemoOptions {
  reset?: boolean;
  tui: boolean;
  errors?: number;
}

/** Per flow, per step: open errors and how they are classified. */
export async function demoSummary(backend: LocalBackend): Promise<string> {
  const out: string[] = [];
  for (const flow of await backend.listFlows()) {
    out.push(`${flow.name}  (${formatCount(flow.numOpenError)} open errors, last run ${flow.lastJob?.status ?? 'never'})`);
    const rows: Array<{ step: string; type: string; open: number; classes: string }> = [];
    for (const step of flow.steps) {
      const facets = await backend.errorFacets(flow._id, step._id, 'classification');
      rows.push({ step: step.name, type: step.type, open: step.numOpenError, classes: facets.map((f) => `${f.value} ${f.count}`).join(', ') || '-' });
    }
    out.push(
      renderTable(rows, [
        { header: '  STEP', value: (r) => `  ${r.step}` },
        { header: 'TYPE', value: (r) => r.type },
        { header: 'OPEN', value: (r) => formatCount(r.open), align: 'right' },
        { header: 'BY CLASSIFICATION', value: (r) => r.classes },
      ]),
      '',
    );
  }
  out.push('Next: flowdeck errors list "<flow>" "<step>"   ·   flowdeck flows show "<flow>"   ·   flowdeck jobs list');
  return out.join('\n');
}

export function demoCommand(io: CommandIO): Command {
  return new Command('demo')
    .description('seed a demo workspace over built-in mock systems, run its flows, and open it')
    .option('--reset', 'start the demo workspace over')
    .option('--no-tui', 'print a summary instead of opening the TUI')
    .option('--errors <n>', 'generate N open errors over the flows instead of running them (starts the demo over)', parsePositiveInt('errors', 10_000_000))
    .action(async (opts: DemoOptions) => {
      await assertLocalProfile(io.env, 'flowdeck demo');
      const [{ LocalBackend: Local }, { assertDemoHome, DEMO_FLOW_FILE, isSeeded, resetWorkspace, seedDemoWorkspace }, { defaultHome, Workspace }] = await Promise.all([
        import('../src/backend/local-backend.js'),
        import('../src/workspace/demo.js'),
        import('../src/workspace/workspace.js'),
      ]);
      const home = defaultHome(io.env);
      assertDemoHome(home);
      // Generated errors go back 30 days with ids in time order, so they never join an existing workspace.
      if (opts.reset || opts.errors !== undefined) resetWorkspace(home);
      const fresh = !isSeeded(home);
      const ws = fresh ? await seedDemoWorkspace(home, io.env) : await Workspace.open(home, io.env);
      const backend = new Local(ws);
      try {
        if (fresh && opts.errors !== undefined) {
          io.stderr.write(`Generating ${formatCount(opts.errors)} open errors in the demo workspace in ${home}\n`);
          const started = Date.now();
          const { generateErrors } = await import('../src/workspace/generate.js');
          const result = await generateErrors(ws, opts.errors, {
            onProgress: (done) => io.stderr.write(`  ${formatCount(done)} errors  ${((Date.now() - started) / 1000).toFixed(1)} s\n`),
            onPhase: (phase) => io.stderr.write(`  ${phase === 'indexes' ? 'building indexes' : 'analyzing'}…  ${((Date.now() - started) / 1000).toFixed(1)} s\n`),
          });
          io.stderr.write(`Generated ${formatCount(result.errors)} errors in ${(result.ms / 1000).toFixed(1)} s\n\n`);
        } else if (fresh) {
          io.stderr.write(`Seeding the demo workspace in ${home}\n`);
          for (const flow of (await backend.listFlows()).filter((f) => f.file?.endsWith(DEMO_FLOW_FILE))) {
            io.stderr.write(`  running ${flow.name}… `);
            const job = await followJob(backend, (await backend.runFlow(flow._id))._id);
            io.stderr.write(`${job.status}: ${formatCount(job.numExport ?? 0)} records, ${formatCount(job.numError ?? 0)} failed\n`);
          }
          io.stderr.write('\n');
        }
        // On a terminal the demo opens in the TUI (loaded only then); otherwise it prints a summary.
        if (opts.tui && io.stdout.isTTY && (io.stdin ?? process.stdin).isTTY) {
          const { runTui } = await import('../src/tui/run.js');
          await runTui(backend, { env: io.env, workspace: home, operator: ws.operator() });
          return;
        }
        print(io, await demoSummary(backend));
      } finally {
        await backend.close();
      }
    });
}

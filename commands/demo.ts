import { Command } from 'commander';
import type { LocalBackend } from '../src/backend/local-backend.js';
import { LocalBackend as Local } from '../src/backend/local-backend.js';
import { print, type CommandIO } from '../src/cli/context.js';
import { formatCount, renderTable } from '../src/cli/output.js';
import { isSeeded, resetWorkspace, seedDemoWorkspace } from '../src/workspace/demo.js';
import { defaultHome, Workspace } from '../src/workspace/workspace.js';

interface DemoOptions {
  reset?: boolean;
  tui: boolean;
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
    .action(async (opts: DemoOptions) => {
      const home = defaultHome(io.env);
      if (opts.reset) resetWorkspace(home);
      const fresh = !isSeeded(home);
      const ws = fresh ? seedDemoWorkspace(home, io.env) : Workspace.open(home, io.env);
      const backend = new Local(ws);
      try {
        if (fresh) {
          io.stderr.write(`Seeding the demo workspace in ${home}\n`);
          for (const flow of await backend.listFlows()) {
            io.stderr.write(`  running ${flow.name}… `);
            const job = await backend.runFlow(flow._id);
            io.stderr.write(`${job.status}: ${formatCount(job.numExport ?? 0)} records, ${formatCount(job.numError ?? 0)} failed\n`);
          }
          io.stderr.write('\n');
        }
        // On a terminal the demo opens in the TUI (loaded only then); otherwise it prints a summary.
        if (opts.tui && io.stdout.isTTY && process.stdin.isTTY) {
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

import { Command } from 'commander';
import { assertLocalProfile, print, type CommandIO } from '../src/cli/context.js';
import { json } from '../src/cli/output.js';
import { ConflictError } from '../src/domain/errors.js';

export function doctorCommand(io: CommandIO): Command {
  return new Command('doctor')
    .description("check the workspace's files: the directory, flow files, config.json, the store's integrity and schema")
    .option('--repair', 're-create indexes an interrupted run left missing')
    .option('--json', 'print the checks as JSON')
    .action(async (opts: { repair?: boolean; json?: boolean }) => {
      await assertLocalProfile(io.env, 'flowdeck doctor');
      const [{ runDoctor }, { defaultHome }] = await Promise.all([import('../src/workspace/doctor.js'), import('../src/workspace/workspace.js')]);
      const report = await runDoctor(defaultHome(io.env), io.env, { repair: opts.repair === true });
      if (opts.json) print(io, json(report));
      else {
        const lines = report.checks.map((c) => `${c.ok ? 'ok     ' : 'PROBLEM'} ${c.name}: ${c.detail}${c.fix ? `\n        what to do: ${c.fix}` : ''}`);
        print(io, lines.join('\n'));
      }
      const problems = report.checks.filter((c) => !c.ok).length;
      if (problems > 0) throw new ConflictError(`${problems} problem${problems === 1 ? '' : 's'} found in ${report.home}`, 'workspace_problems');
      if (!opts.json) print(io, 'No problems found.');
    });
}

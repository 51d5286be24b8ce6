import { Command } from 'commander';
import { openLocalBackend, processIO, type CommandIO } from '../src/cli/context.js';
import { endQuietlyOnClosedPipe } from '../src/cli/closed-pipe.js';
import { reportError } from '../src/cli/handle-error.js';
import { terminalSafe } from '../src/domain/text.js';
import { demoCommand } from './demo.js';
import { doctorCommand } from './doctor.js';
import { errorsCommand } from './errors/index.js';
import { flowsCommand } from './flows/index.js';
import { jobsCommand } from './jobs/index.js';
import { logsCommand } from './logs/index.js';
import { requestsCommand } from './requests/index.js';
import { retryDataCommand } from './retry-data/index.js';
import { workerCommand } from './worker.js';
import { configCommand } from './config/index.js';
import { resolvedCommand } from './resolved/index.js';
import { tagsCommand } from './tags/index.js';
import { usersCommand } from './users/index.js';

// The program only assembles commands; each lives in its own file and stays thin.

export const VERSION = '0.1.0';

export function buildProgram(io: CommandIO = processIO()): Command {
  const program = new Command('flowdeck')
    .description('Triage the errors of integration flows: list, assign, tag, fix, retry and export them.')
    .version(VERSION)
    .showSuggestionAfterError(true)
    .addHelpText('after', '\nWorkspace: $FLOWDECK_HOME (default ~/.local/share/flowdeck). Try `flowdeck demo`.')
    .addCommand(demoCommand(io))
    .addCommand(flowsCommand(io))
    .addCommand(errorsCommand(io))
    .addCommand(jobsCommand(io))
    .addCommand(resolvedCommand(io))
    .addCommand(tagsCommand(io))
    .addCommand(usersCommand(io))
    .addCommand(configCommand(io))
    .addCommand(retryDataCommand(io))
    .addCommand(requestsCommand(io))
    .addCommand(logsCommand(io))
    .addCommand(doctorCommand(io))
    .addCommand(workerCommand(io), { hidden: true });
  // Every command (and sub-command) throws instead of exiting, so one handler decides the exit code.
  const configure = (cmd: Command) => {
    cmd.exitOverride();
    cmd.configureOutput({
      writeOut: (s) => io.stdout.write(terminalSafe(s)),
      writeErr: (s) => io.stderr.write(terminalSafe(s)),
      outputError: (s, write) => write(`flowdeck: ${s.replace(/^error:\s*/i, '')}`),
    });
    cmd.commands.forEach(configure);
  };
  configure(program);
  return program;
}

export async function main(argv: string[] = process.argv): Promise<number> {
  const io = processIO();
  endQuietlyOnClosedPipe();
  const program = buildProgram(io);
  if (argv.length <= 2) {
    // On a terminal, `flowdeck` alone opens the TUI, loaded only then: plain commands never load ink.
    if (io.stdout.isTTY && process.stdin.isTTY) {
      try {
        const backend = await openLocalBackend(io.env);
        try {
          const { runTui } = await import('../src/tui/run.js');
          return (await runTui(backend, { env: io.env, workspace: backend.ws.home, operator: backend.ws.operator() })).exitCode;
        } finally {
          await backend.close();
        }
      } catch (error) {
        return reportError(error, io.stderr);
      }
    }
    program.outputHelp();
    return 0;
  }
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (error) {
    // Commander already printed its own usage errors; report only what it has not.
    if ((error as { code?: string }).code?.startsWith('commander.')) {
      const code = (error as { code: string }).code;
      return code === 'commander.helpDisplayed' || code === 'commander.version' || code === 'commander.help' ? 0 : 2;
    }
    return reportError(error, io.stderr);
  }
}

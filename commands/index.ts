import { Command, Help } from 'commander';
import { openBackend, processIO, type CommandIO } from '../src/cli/context.js';
import type { ProfileTarget } from '../src/cli/profile-rules.js';
import { endQuietlyOnClosedPipe } from '../src/cli/closed-pipe.js';
import { reportError } from '../src/cli/handle-error.js';
import { InvalidInputError } from '../src/domain/errors.js';
import { terminalSafe } from '../src/domain/text.js';

// The program only assembles commands; each lives in its own file and stays thin. A process loads
// only the command it runs: the others are listed (for help and suggestions) from the table below,
// so `--help` and every command start without importing what the other commands need.

export const VERSION = '0.1.0';

export interface CommandEntry {
  name: string;
  /** The command's own description (test/unit/program.test.ts checks it against the command). */
  description: string;
  /** How the root help lists it, when not just the name (`demo [options]`). */
  term?: string;
  hidden?: boolean;
  load: (io: CommandIO) => Promise<Command>;
}

export const COMMANDS: readonly CommandEntry[] = [
  {
    name: 'demo',
    term: 'demo [options]',
    description: 'seed a demo workspace over built-in mock systems, run its flows, and open it',
    load: async (io) => (await import('./demo.js')).demoCommand(io),
  },
  { name: 'flows', description: 'list, inspect and run flows', load: async (io) => (await import('./flows/index.js')).flowsCommand(io) },
  { name: 'errors', description: 'list and triage open errors', load: async (io) => (await import('./errors/index.js')).errorsCommand(io) },
  { name: 'jobs', description: 'follow flow and retry jobs', load: async (io) => (await import('./jobs/index.js')).jobsCommand(io) },
  { name: 'resolved', description: 'list and delete resolved errors', load: async (io) => (await import('./resolved/index.js')).resolvedCommand(io) },
  {
    name: 'tags',
    description: 'the tag catalog: short codes and the names errors show',
    load: async (io) => (await import('./tags/index.js')).tagsCommand(io),
  },
  { name: 'users', description: 'the people errors can be assigned to', load: async (io) => (await import('./users/index.js')).usersCommand(io) },
  {
    name: 'config',
    description: "read and change the workspace's config.json (values other than user.email stay masked)",
    load: async (io) => (await import('./config/index.js')).configCommand(io),
  },
  {
    name: 'retry-data',
    description: 'read and fix the retry-data snapshots that retries re-feed',
    load: async (io) => (await import('./retry-data/index.js')).retryDataCommand(io),
  },
  {
    name: 'requests',
    description: "the masked HTTP requests and responses of a step's failures",
    load: async (io) => (await import('./requests/index.js')).requestsCommand(io),
  },
  {
    name: 'logs',
    description: 'execution logs of flow runs: records per step, traces across steps, per-stage data',
    load: async (io) => (await import('./logs/index.js')).logsCommand(io),
  },
  {
    name: 'tokens',
    description: 'API tokens for flowdeck serve: one per user and device, kept only as hashes',
    load: async (io) => (await import('./tokens/index.js')).tokensCommand(io),
  },
  {
    name: 'profile',
    description: 'remote profiles: servers commands act on instead of the local workspace (--profile NAME, FLOWDECK_PROFILE)',
    load: async (io) => (await import('./profile/index.js')).profileCommand(io),
  },
  {
    name: 'doctor',
    term: 'doctor [options]',
    description: "check the workspace's files: the directory, flow files, config.json, the store's integrity and schema",
    load: async (io) => (await import('./doctor.js')).doctorCommand(io),
  },
  {
    name: 'serve',
    term: 'serve [options]',
    description: "serve the workspace over HTTP to a team: the Flows API, each request acting as its token's user",
    load: async (io) => (await import('./serve.js')).serveCommand(io),
  },
  {
    name: 'worker',
    term: 'worker [options]',
    hidden: true,
    description: 'run the runtime in the foreground: queued retry jobs and due automatic retries',
    load: async (io) => (await import('./worker.js')).workerCommand(io),
  },
];

/** The root command with no sub-commands yet: its options, help text and output. */
export function programShell(): Command {
  const terms = new Map(COMMANDS.filter((c) => c.term).map((c) => [c.name, c.term!]));
  const defaultTerm = Help.prototype.subcommandTerm;
  return new Command('flowdeck')
    .description('Triage the errors of integration flows: list, assign, tag, fix, retry and export them.')
    .version(VERSION)
    // A root option, which commander reads wherever it stands: `flowdeck --profile team errors list`
    // and `flowdeck errors list --profile team` alike (no sub-command has an option of that name).
    .option('--profile <name>', 'act on this profile (see flowdeck profile list); default: $FLOWDECK_PROFILE, else the one `profile use` chose', profileName)
    .showSuggestionAfterError(true)
    .configureHelp({
      // A listed (not loaded) command has no options of its own to show: the table says how it reads.
      subcommandTerm(cmd) {
        return cmd.options.length === 0 && terms.has(cmd.name()) ? terms.get(cmd.name())! : defaultTerm.call(this, cmd);
      },
    })
    .addHelpText('after', '\nWorkspace: $FLOWDECK_HOME (default ~/.local/share/flowdeck). Try `flowdeck demo`.');
}

function profileName(value: string): string {
  if (value.trim() === '') throw new InvalidInputError('--profile needs a profile name (or local)', 'profile');
  return value;
}

/**
 * `--profile NAME` and `--profile=NAME` before the command's name, and the args after them: what
 * names the command to load, and whether `flowdeck --profile team` alone (the TUI) chose a profile.
 * A `--profile` without a value is left in the args, for commander to report.
 */
export function leadingProfile(args: readonly string[]): { profile?: string; rest: readonly string[] } {
  let profile: string | undefined;
  let i = 0;
  for (;;) {
    const arg = args[i];
    if (arg === '--profile' && args[i + 1] !== undefined && args[i + 1]!.trim() !== '') {
      profile = args[i + 1];
      i += 2;
    } else if (arg?.startsWith('--profile=') && arg.length > '--profile='.length) {
      profile = arg.slice('--profile='.length);
      i += 1;
    } else break;
  }
  return profile === undefined ? { rest: args } : { profile, rest: args.slice(i) };
}

/** Which command `args` (argv without node and the script) run: `errors …` and `help errors` alike. */
export function commandNamed(all: readonly string[]): CommandEntry | undefined {
  const args = leadingProfile(all).rest;
  const name = args[0] === 'help' ? args[1] : args[0];
  return COMMANDS.find((c) => c.name === name);
}

/** Every command throws instead of exiting, so one handler decides the exit code. */
export function configureOutput(cmd: Command, io: CommandIO): void {
  cmd.exitOverride();
  cmd.configureOutput({
    writeOut: (s) => io.stdout.write(terminalSafe(s)),
    writeErr: (s) => io.stderr.write(terminalSafe(s)),
    outputError: (s, write) => write(`flowdeck: ${s.replace(/^error:\s*/i, '')}`),
  });
  for (const sub of cmd.commands) configureOutput(sub, io);
}

/** The top-level command an action belongs to (`errors` for `errors list`). */
function topLevelOf(cmd: Command): Command {
  while (cmd.parent?.parent) cmd = cmd.parent;
  return cmd;
}

/**
 * Before any command runs, the profile it acts on is chosen once and pinned in its env's
 * FLOWDECK_PROFILE (which `--profile` beats): the command, its backend and any process it starts
 * (the worker) then agree, whatever the profiles file says meanwhile. A bad name or an unset token
 * variable fails here, before the command does anything. The `profile` commands manage profiles
 * and act on none, so they are not resolved (a broken profile must not stop its own removal).
 */
async function pinProfile(program: Command, action: Command, env: NodeJS.ProcessEnv): Promise<void> {
  const flag = program.opts<{ profile?: string }>().profile;
  if (topLevelOf(action).name() === 'profile') {
    if (flag !== undefined) env.FLOWDECK_PROFILE = flag;
    return;
  }
  const { resolveProfile } = await import('../src/cli/profiles.js');
  const target = resolveProfile(env, flag);
  env.FLOWDECK_PROFILE = target.kind === 'local' ? 'local' : target.name;
}

/** The program for `args`: the command they run loaded, every other one only listed. */
export async function buildProgram(io: CommandIO = processIO(), args: readonly string[] = []): Promise<Command> {
  const program = programShell();
  // The commands see a copy of the env, so choosing a profile for this run changes neither the
  // caller's object (a test's, run again) nor process.env.
  const scoped: CommandIO = { ...io, env: { ...io.env } };
  const chosen = commandNamed(args);
  for (const entry of COMMANDS) {
    const cmd = entry === chosen ? await entry.load(scoped) : new Command(entry.name).description(entry.description);
    program.addCommand(cmd, entry.hidden ? { hidden: true } : {});
  }
  program.hook('preAction', (_program, action) => pinProfile(program, action, scoped.env));
  configureOutput(program, io);
  return program;
}

/** The TUI's header label and where it remembers the operator's place: the workspace, or the profile. */
export async function tuiPlace(env: NodeJS.ProcessEnv, target: ProfileTarget): Promise<{ workspace: string; sessionDir: string }> {
  if (target.kind === 'remote') {
    const [{ profilesDir }, { join }] = await Promise.all([import('../src/cli/profiles.js'), import('node:path')]);
    return { workspace: `${target.name} ${target.url}`, sessionDir: join(profilesDir(env), 'sessions', target.name) };
  }
  const home = (await import('../src/workspace/workspace.js')).defaultHome(env);
  return { workspace: home, sessionDir: home };
}

export async function main(argv: string[] = process.argv): Promise<number> {
  const io = processIO();
  endQuietlyOnClosedPipe();
  const { profile, rest } = leadingProfile(argv.slice(2));
  if (rest.length === 0) {
    // On a terminal, `flowdeck` alone (or `flowdeck --profile team`) opens the TUI, loaded only then: plain commands never load ink.
    if (io.stdout.isTTY && process.stdin.isTTY) {
      const env: NodeJS.ProcessEnv = profile === undefined ? { ...io.env } : { ...io.env, FLOWDECK_PROFILE: profile };
      // ink and React load while the workspace opens: they are most of the TUI's start-up.
      const loading = import('../src/tui/run.js').then(async (tui) => {
        await tui.loadTui();
        return tui;
      });
      loading.catch(() => undefined); // reported below, when awaited
      try {
        // Chosen and pinned as for every command (see pinProfile).
        const target = (await import('../src/cli/profiles.js')).resolveProfile(env);
        env.FLOWDECK_PROFILE = target.kind === 'local' ? 'local' : target.name;
        const backend = await openBackend(env);
        try {
          const [{ runTui }, me, where] = await Promise.all([loading, backend.whoami(), tuiPlace(env, target)]);
          return (await runTui(backend, { env, ...where, operator: me.email })).exitCode;
        } finally {
          await backend.close();
        }
      } catch (error) {
        return reportError(error, io.stderr);
      }
    }
    (await buildProgram(io)).outputHelp();
    return 0;
  }
  try {
    const program = await buildProgram(io, argv.slice(2));
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

import { readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { Help } from 'commander';
import { describe, expect, it } from 'vitest';
import { buildProgram, COMMANDS, commandNamed, configureOutput, programShell } from '../../commands/index.js';
import type { CommandIO } from '../../src/cli/context.js';
import { REPO_ROOT } from '../helpers/cli.js';

// The program lists every command from a table and loads only the one a process runs, so `--help`
// and each command start without importing what the others need (issue 10 §6).

function captureIO(): CommandIO & { out: () => string } {
  let text = '';
  const sink = { write: (s: string) => ((text += s), true) } as unknown as NodeJS.WritableStream;
  return { stdout: sink, stderr: sink, env: {}, out: () => text };
}

describe('the command table', () => {
  it('names, describes and lists each command as the command itself does', async () => {
    const io = captureIO();
    for (const entry of COMMANDS) {
      const real = await entry.load(io);
      expect(real.name()).toBe(entry.name);
      expect(real.description()).toBe(entry.description);
      expect(new Help().subcommandTerm(real)).toBe(entry.term ?? entry.name);
    }
  });

  it('prints the same root help as a program with every command loaded', async () => {
    const lazy = captureIO();
    (await buildProgram(lazy)).outputHelp();
    const eager = captureIO();
    const program = programShell();
    for (const entry of COMMANDS) program.addCommand(await entry.load(eager), entry.hidden ? { hidden: true } : {});
    configureOutput(program, eager);
    program.outputHelp();
    expect(lazy.out()).toBe(eager.out());
    expect(lazy.out()).toContain('retry-data');
    expect(lazy.out()).not.toContain('worker');
  });

  it('loads the command named by argv, also after `help`', () => {
    expect(commandNamed(['errors', 'list'])?.name).toBe('errors');
    expect(commandNamed(['help', 'jobs'])?.name).toBe('jobs');
    expect(commandNamed(['--help'])).toBeUndefined();
    expect(commandNamed(['erors'])).toBeUndefined();
  });

  it('`flowdeck --help` loads neither the store nor the workspace, the schemas or the TUI', () => {
    // A resolve hook prints every module the process loads.
    const hooks = `data:text/javascript,${encodeURIComponent('export async function resolve(s, c, n) { const r = await n(s, c); process._rawDebug(r.url); return r; }')}`;
    const register = `data:text/javascript,${encodeURIComponent(`import { register } from 'node:module'; register(${JSON.stringify(hooks)});`)}`;
    const r = spawnSync(process.execPath, ['--import', register, 'bin/flowdeck.js', '--help'], { cwd: REPO_ROOT, encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('Usage: flowdeck');
    const loaded = r.stderr.split('\n').filter((u) => u.startsWith('file:'));
    expect(loaded.some((u) => u.includes('/dist/bundle/index.js'))).toBe(true);
    const heavy = loaded.filter((u) => /\/(better-sqlite3|zod|conf|yaml|ink|react|undici)\//.test(u));
    expect(heavy).toEqual([]);
    // The bundle's chunks name the modules they hold (esbuild's `// path` lines): none of those either.
    const held = loaded
      .filter((u) => u.includes('/dist/bundle/'))
      .flatMap((u) => readFileSync(new URL(u), 'utf8').match(/^\/\/ (node_modules\/(zod|ink|react|undici|yaml|conf)\/|dist\/src\/(store|workspace|backend|runtime|flows|tui)\/)\S*/gm) ?? []);
    expect(held).toEqual([]);
  });
});

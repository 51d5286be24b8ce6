import { PassThrough, Readable } from 'node:stream';
import { buildProgram } from '../../commands/index.js';
import { reportError } from '../../src/cli/handle-error.js';

// The commands run in this process with their output captured: what a process would print, at
// the cost of no process (tests that need a real one, for exit or kill, use cli.ts).

export interface InProcessResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * The env a command gets when a test runs it: this process's (PATH, for an $EDITOR it starts), no
 * colours or debug stacks, and the test's variables; like the env runCli gives its child.
 */
export function commandEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  if (!env.FLOWDECK_HOME) throw new Error('commandEnv needs FLOWDECK_HOME: tests must never touch the real workspace');
  const { FLOWDECK_DEBUG: _debug, ...base } = process.env;
  return { ...base, NO_COLOR: '1', ...env };
}

/**
 * `stdin`: what the command reads as its stdin (a string is given whole, then ended). Without it,
 * an empty stream that is not a terminal, as a child of runCli has: never this process's stdin.
 */
export async function runInProcess(env: NodeJS.ProcessEnv, args: string[], options: { stdin?: string | (NodeJS.ReadableStream & { isTTY?: boolean }) } = {}): Promise<InProcessResult> {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  stdout.on('data', (c: Buffer) => out.push(c));
  stderr.on('data', (c: Buffer) => err.push(c));
  const stdin = typeof options.stdin === 'string' ? Readable.from([options.stdin]) : (options.stdin ?? Readable.from([]));
  let code = 0;
  try {
    await (await buildProgram({ stdout, stderr, env, stdin }, args)).parseAsync(['node', 'flowdeck', ...args]);
  } catch (e) {
    // Commander printed its own usage errors already; the exit code is main()'s: 0 for help, 2 for usage.
    const c = (e as { code?: string }).code;
    code = c?.startsWith('commander.') ? (c === 'commander.helpDisplayed' || c === 'commander.version' || c === 'commander.help' ? 0 : 2) : reportError(e, stderr);
  }
  return { code, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') };
}

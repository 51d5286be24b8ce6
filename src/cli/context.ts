import type { Backend } from '../backend/contract/index.js';
import type { LocalBackend } from '../backend/local-backend.js';
import { ReadOnlyWorkspaceError } from '../domain/errors.js';
import { terminalSafe } from '../domain/text.js';

// Commands get the backend through here: opened at the door, closed on the way out. The backend
// and workspace modules (SQLite, conf, the flow-file loader) are imported only when a command
// opens one, so `--help` and commands that need no workspace never load them.

export interface CommandIO {
  stdout: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
  env: NodeJS.ProcessEnv;
  /** Where questions are answered (process.stdin unless a test or an embedder gives another). */
  stdin?: NodeJS.ReadableStream & { isTTY?: boolean };
}

export const processIO = (): CommandIO => ({ stdout: process.stdout, stderr: process.stderr, env: process.env });

/**
 * Opens the workspace. One that does not exist yet is created, and said so once on stderr: a
 * mistyped FLOWDECK_HOME must not quietly become an empty workspace.
 */
export async function openLocalBackend(env: NodeJS.ProcessEnv = process.env, notice: (line: string) => void = (line) => void process.stderr.write(line)): Promise<LocalBackend> {
  const [{ LocalBackend }, { defaultHome, Workspace }, { existsSync }] = await Promise.all([
    import('../backend/local-backend.js'),
    import('../workspace/workspace.js'),
    import('node:fs'),
  ]);
  const home = defaultHome(env);
  if (!existsSync(home)) notice(`flowdeck: creating a new workspace at ${home}${env.FLOWDECK_HOME ? ' (FLOWDECK_HOME)' : ''}\n`);
  const ws = Workspace.open(home, env);
  if (ws.repairedSchema.length > 0) {
    notice(`flowdeck: re-created ${ws.repairedSchema.length} missing index${ws.repairedSchema.length === 1 ? '' : 'es'} of the store (an earlier run was interrupted): ${ws.repairedSchema.join(', ')}\n`);
  }
  return new LocalBackend(ws);
}

/** A write that SQLite refused because the store is open read-only, said as what it means. */
function readOnlyAsWorkspaceError(backend: LocalBackend, e: unknown): unknown {
  const code = (e as { code?: string } | undefined)?.code;
  return backend.ws.readonly && typeof code === 'string' && code.startsWith('SQLITE_READONLY') ? new ReadOnlyWorkspaceError(backend.ws.home) : e;
}

export async function withBackend<T>(env: NodeJS.ProcessEnv, fn: (backend: LocalBackend & Backend) => Promise<T>): Promise<T> {
  const backend = await openLocalBackend(env);
  try {
    return await fn(backend);
  } catch (e) {
    throw readOnlyAsWorkspaceError(backend, e);
  } finally {
    await backend.close();
  }
}

/** Every command's output: control characters escaped (a target's body must not drive the terminal; JSON stays exact). */
export function print(io: CommandIO, text: string): void {
  const safe = terminalSafe(text);
  io.stdout.write(safe.endsWith('\n') ? safe : `${safe}\n`);
}

export function width(io: CommandIO): number {
  return io.stdout.isTTY ? io.stdout.columns || 120 : 0;
}

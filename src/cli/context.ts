import type { Backend } from '../backend/backend.js';
import type { LocalBackend } from '../backend/local-backend.js';

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
  return new LocalBackend(Workspace.open(home, env));
}

export async function withBackend<T>(env: NodeJS.ProcessEnv, fn: (backend: LocalBackend & Backend) => Promise<T>): Promise<T> {
  const backend = await openLocalBackend(env);
  try {
    return await fn(backend);
  } finally {
    await backend.close();
  }
}

export function print(io: CommandIO, text: string): void {
  io.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
}

export function width(io: CommandIO): number {
  return io.stdout.isTTY ? io.stdout.columns || 120 : 0;
}

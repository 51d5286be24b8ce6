import type { Backend } from '../backend/contract/index.js';
import type { LocalBackend } from '../backend/local-backend.js';
import { InvalidInputError, ReadOnlyWorkspaceError } from '../domain/errors.js';
import type { ProfileTarget } from './profile-rules.js';
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
  const ws = await Workspace.open(home, env);
  if (ws.repairedSchema.length > 0) {
    notice(`flowdeck: re-created ${ws.repairedSchema.length} missing index${ws.repairedSchema.length === 1 ? '' : 'es'} of the store (an earlier run was interrupted): ${ws.repairedSchema.join(', ')}\n`);
  }
  return new LocalBackend(ws);
}

/**
 * A write the store refused because it is open read-only, said as what it means and naming the
 * workspace: SQLite's SQLITE_READONLY, or the PostgreSQL store's ReadOnlyWorkspaceError (which
 * names the database).
 */
function readOnlyAsWorkspaceError(backend: LocalBackend, e: unknown): unknown {
  if (!backend.ws.readonly) return e;
  const code = (e as { code?: string } | undefined)?.code;
  const refused = e instanceof ReadOnlyWorkspaceError || (typeof code === 'string' && code.startsWith('SQLITE_READONLY'));
  return refused ? new ReadOnlyWorkspaceError(backend.ws.home) : e;
}

/** Where the command's profile points: the local workspace, or a server (main pinned FLOWDECK_PROFILE). */
export async function profileTarget(env: NodeJS.ProcessEnv): Promise<ProfileTarget> {
  const { resolveProfile } = await import('./profiles.js');
  return resolveProfile(env);
}

/** The backend of the command's profile: the local workspace, or a RemoteBackend of its server. */
export async function openBackend(env: NodeJS.ProcessEnv = process.env, notice?: (line: string) => void): Promise<Backend> {
  const target = await profileTarget(env);
  if (target.kind === 'local') return openLocalBackend(env, notice);
  const { RemoteBackend } = await import('../backend/remote/remote-backend.js');
  return new RemoteBackend({ url: target.url, token: target.token });
}

/** What opening a command's backend needs of its io: the env, and stderr for the workspace's notices. */
export type BackendIO = Pick<CommandIO, 'env' | 'stderr'>;

/** Every command that acts on errors, flows and jobs: the same on a local workspace and on a server. */
export async function withBackend<T>(io: BackendIO, fn: (backend: Backend) => Promise<T>): Promise<T> {
  const target = await profileTarget(io.env);
  if (target.kind === 'remote') {
    const backend = await openBackend(io.env);
    try {
      return await fn(backend);
    } finally {
      await backend.close();
    }
  }
  return withLocalWorkspace(io, fn);
}

/**
 * What only makes sense where the workspace is (the worker, serve, tokens, demo, doctor): refused
 * with one line on a remote profile, rather than quietly acting on some local workspace.
 */
export async function withLocalBackend<T>(io: BackendIO, what: string, fn: (backend: LocalBackend) => Promise<T>): Promise<T> {
  await assertLocalProfile(io.env, what);
  return withLocalWorkspace(io, fn);
}

export async function assertLocalProfile(env: NodeJS.ProcessEnv, what: string): Promise<void> {
  const target = await profileTarget(env);
  if (target.kind === 'remote') {
    throw new InvalidInputError(`${what} works on a local workspace only, and profile "${target.name}" is a server (${target.url}): run it on the server's machine, or add --profile local`, 'profile');
  }
}

async function withLocalWorkspace<T>(io: BackendIO, fn: (backend: LocalBackend) => Promise<T>): Promise<T> {
  // Its notices (a new workspace, a repaired schema) go to the command's stderr, not the process's.
  const backend = await openLocalBackend(io.env, (line) => void io.stderr.write(line));
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

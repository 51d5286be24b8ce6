import type { Backend } from '../backend/backend.js';
import { LocalBackend } from '../backend/local-backend.js';
import { defaultHome, Workspace } from '../workspace/workspace.js';

// Commands get the backend through here: opened at the door, closed on the way out.

export interface CommandIO {
  stdout: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
  env: NodeJS.ProcessEnv;
}

export const processIO = (): CommandIO => ({ stdout: process.stdout, stderr: process.stderr, env: process.env });

export function openLocalBackend(env: NodeJS.ProcessEnv = process.env): LocalBackend {
  return new LocalBackend(Workspace.open(defaultHome(env), env));
}

export async function withBackend<T>(env: NodeJS.ProcessEnv, fn: (backend: LocalBackend & Backend) => Promise<T>): Promise<T> {
  const backend = openLocalBackend(env);
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

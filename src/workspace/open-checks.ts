import { accessSync, constants as fsConstants, existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type Conf from 'conf';
import { WorkspaceError } from '../domain/errors.js';

// What opening a workspace checks before it trusts its files: the directory is one, whether it may
// be written, and that config.json parses. Each failure names the path and says what to do.

const describeCode = (e: unknown): string => {
  const err = e as NodeJS.ErrnoException;
  if (err.code === 'EACCES' || err.code === 'EPERM') return 'permission denied';
  if (err.code === 'EROFS') return 'read-only file system';
  if (err.code === 'ENOTDIR') return 'a part of the path is a file, not a directory';
  return err.message;
};

/** The workspace directory, created when missing; a file (or an uncreatable path) is refused. */
export function ensureHomeDirectory(home: string): void {
  let isDirectory: boolean | undefined;
  try {
    isDirectory = statSync(home).isDirectory();
  } catch {
    // not there yet
  }
  if (isDirectory === false) throw new WorkspaceError(`the workspace ${home} is a file, not a directory; point FLOWDECK_HOME at a directory (or move the file away)`);
  if (isDirectory) return;
  try {
    mkdirSync(home, { recursive: true });
  } catch (e) {
    throw new WorkspaceError(`cannot create the workspace directory ${home}: ${describeCode(e)}; point FLOWDECK_HOME at a directory you can write`);
  }
}

/**
 * Whether the workspace must be opened read-only: FLOWDECK_READONLY=1 asks for it, and a directory
 * or store file that cannot be written forces it (SQLite needs the directory for its -wal and -shm files).
 */
export function mustOpenReadOnly(home: string, dbFile: string, env: NodeJS.ProcessEnv): boolean {
  if (env.FLOWDECK_READONLY === '1') return true;
  const writable = (path: string) => {
    try {
      accessSync(path, fsConstants.W_OK);
      return true;
    } catch {
      return false;
    }
  };
  return !writable(home) || (existsSync(dbFile) && !writable(dbFile));
}

export function configFileOf(home: string): string {
  return join(home, 'config.json');
}

/** config.json through conf; one that does not parse is named, with how to fix it, rather than replaced. */
/**
 * config.json as JSON (undefined when there is none yet), checked to parse without loading conf,
 * which costs more to load than most commands take. A corrupt or empty file is named with what to do.
 */
export function readConfigFile<T extends Record<string, unknown>>(home: string): T | undefined {
  const file = configFileOf(home);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new WorkspaceError(`cannot read ${file}: ${describeCode(e)}`);
  }
  if (text.trim() === '') throw new WorkspaceError(`${file} is empty: fix it by hand, or move it away to start with an empty config (values set with flowdeck config set must then be set again)`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new WorkspaceError(`${file} is not valid JSON (${(e as Error).message.split('\n')[0]}): fix it by hand, or move it away to start with an empty config (values set with flowdeck config set must then be set again)`);
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new WorkspaceError(`${file} holds no JSON object: fix it by hand, or move it away to start with an empty config (values set with flowdeck config set must then be set again)`);
  }
  return parsed as T;
}

const require = createRequire(import.meta.url);

/** config.json through conf (loaded now: only commands that read or set config values pay for it). */
export function openConfig<T extends Record<string, unknown>>(home: string): Conf<T> {
  const file = configFileOf(home);
  const { default: ConfClass } = require('conf') as typeof import('conf');
  try {
    return new ConfClass<T>({ cwd: home, configName: 'config', projectName: 'flowdeck', clearInvalidConfig: false });
  } catch (e) {
    if (e instanceof SyntaxError) throw new WorkspaceError(`${file} is not valid JSON (${e.message.split('\n')[0]}): fix it by hand, or move it away to start with an empty config`);
    throw new WorkspaceError(`cannot read ${file}: ${describeCode(e)}`);
  }
}

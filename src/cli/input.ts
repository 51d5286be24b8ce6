import { accessSync, constants as fsConstants, readFileSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { InvalidInputError } from '../domain/errors.js';

// What commands read from and write to besides the workspace: a file named on the command line,
// or stdin for "-". Checked before anything runs, so a bad path changes nothing.

type Stdin = NodeJS.ReadableStream & { isTTY?: boolean };

/**
 * All of stdin, whatever it is (a pipe, a file, a terminal until ^D). Read as a stream: a
 * synchronous read of fd 0 fails with EAGAIN on a non-blocking pipe once its first 64 KiB are gone.
 */
export async function readStdin(stdin: Stdin = process.stdin): Promise<string> {
  const chunks: Buffer[] = [];
  try {
    for await (const chunk of stdin) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  } catch (e) {
    throw new InvalidInputError(`cannot read stdin: ${(e as Error).message}`);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** The text of a file, or of stdin for "-" (or no file when stdin is not a terminal). */
export async function readInput(file: string | undefined, what: string, stdin: Stdin = process.stdin): Promise<{ text: string; source: string }> {
  if (file === undefined || file === '-') {
    if (file === undefined && stdin.isTTY) throw new InvalidInputError(`give a file with the ${what}, or pipe it on stdin (-)`);
    return { text: await readStdin(stdin), source: 'stdin' };
  }
  try {
    return { text: readFileSync(file, 'utf8'), source: file };
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const why = err.code === 'ENOENT' ? 'no such file' : err.code === 'EISDIR' ? 'it is a directory' : err.code === 'EACCES' ? 'permission denied' : err.message;
    throw new InvalidInputError(`cannot read ${file}: ${why}`);
  }
}

/** A file a command will write must be creatable before the command starts: a bad path is bad input. */
export function assertWritableFile(file: string, option: string): void {
  const dir = dirname(resolve(file));
  try {
    accessSync(dir, fsConstants.W_OK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new InvalidInputError(`cannot write ${file}: ${code === 'ENOENT' ? `no directory ${dir}` : code === 'EACCES' ? `${dir} is not writable` : code === 'ENOTDIR' ? `${dir} is not a directory` : (e as Error).message}`, option);
  }
  if (!statSync(dir).isDirectory()) throw new InvalidInputError(`cannot write ${file}: ${dir} is not a directory`, option);
  let isDirectory = false;
  try {
    isDirectory = statSync(file).isDirectory();
  } catch {
    // Not there yet: it will be created.
  }
  if (isDirectory) throw new InvalidInputError(`cannot write ${file}: it is a directory`, option);
}

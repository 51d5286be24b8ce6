import { CommanderError } from 'commander';
import { isFlowdeckError, NoRetryDataError, NotFoundError, type FlowdeckError } from '../domain/errors.js';
import { terminalSafe } from '../domain/text.js';

// Every failure leaves through here: one line on stderr and the exit code of the contract
// (0 all done, 1 some or all records failed or nothing could be acted on, 2 usage). Nothing deeper
// calls process.exit.

/**
 * One code per kind of mistake. 2: usage, and input that does not parse or does not fit (a bad
 * flag value, malformed JSON, an id that is no id). 1: the command was well formed but could not be
 * done — any name or id that names nothing (an unknown flow, step, job, error, key, or an unknown
 * tag, in a filter as in --add: all the API's `invalid_ref`), a conflict, records that failed,
 * nothing to act on.
 */
export function exitCodeOf(error: FlowdeckError): 1 | 2 {
  if (error instanceof NotFoundError || error instanceof NoRetryDataError || error.code === 'invalid_ref') return 1;
  return error.exitCode;
}

export interface ErrorReport {
  message: string;
  exitCode: number;
}

export function describeError(error: unknown): ErrorReport {
  if (error instanceof CommanderError) {
    if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.code === 'commander.help') {
      return { message: '', exitCode: 0 };
    }
    return { message: error.message.replace(/^error:\s*/i, ''), exitCode: 2 };
  }
  if (isFlowdeckError(error)) return { message: error.message, exitCode: exitCodeOf(error) };
  const err = error as NodeJS.ErrnoException;
  if (err?.code === 'SQLITE_BUSY') return { message: 'the workspace store is busy (another flowdeck is writing); try again', exitCode: 1 };
  if (err?.code === 'EACCES' || err?.code === 'EROFS') return { message: `cannot write the workspace: ${err.message}`, exitCode: 1 };
  const sqlite = typeof err?.code === 'string' ? err.code : '';
  if (sqlite.startsWith('SQLITE_READONLY')) return { message: 'the workspace is read-only: this command changes it (reading commands still work)', exitCode: 1 };
  if (sqlite.startsWith('SQLITE_CORRUPT') || sqlite === 'SQLITE_NOTADB') return { message: `the workspace store is damaged (${err.message}); run flowdeck doctor`, exitCode: 1 };
  if (sqlite === 'SQLITE_FULL' || sqlite === 'ENOSPC') return { message: 'the disk is full: nothing after the last commit was saved; free some space and run the command again', exitCode: 1 };
  const message = err instanceof Error ? err.message : String(error);
  return { message: `unexpected error: ${message.split('\n')[0]}`, exitCode: 1 };
}

export function reportError(error: unknown, stderr: NodeJS.WritableStream = process.stderr): number {
  const report = describeError(error);
  // Messages echo arguments and remote text: no control character reaches the terminal.
  if (report.message) stderr.write(`flowdeck: ${terminalSafe(report.message)}\n`);
  if (process.env.FLOWDECK_DEBUG && error instanceof Error && error.stack) stderr.write(`${error.stack}\n`);
  return report.exitCode;
}

import type { Backend, ErrorListParams } from '../backend/contract/index.js';
import { describeError } from '../cli/handle-error.js';
import { isFlowdeckError } from '../domain/errors.js';

// The TUI sits on the backend interface only (never on the store): every area it uses (retries,
// triage, records) is part of `Backend`.

export type TuiBackend = Backend;

/**
 * Ascending keyset paging, proposed for ErrorListParams (the store already walks `fromId` upwards):
 * `order: 'asc'` lists oldest first, `after` continues with the errors newer than that errorId.
 * A backend without them ignores both; the TUI detects that and falls back (see data/error-pager).
 */
export interface AscendingListParams extends ErrorListParams {
  order?: 'asc' | 'desc';
  after?: string;
}

/** One line for the footer: a FlowdeckError's message as it is, anything else flattened. */
export function failureMessage(error: unknown): string {
  if (isFlowdeckError(error)) return error.message;
  const err = error as NodeJS.ErrnoException | undefined;
  // The store refusing a write on a read-only workspace (the TUI has no withBackend to name it).
  if (typeof err?.code === 'string' && err.code.startsWith('SQLITE_READONLY')) {
    return 'the workspace is read-only: changes are refused (reading works); make it writable or use another FLOWDECK_HOME';
  }
  return describeError(error).message;
}

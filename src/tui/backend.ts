import type { Backend, ErrorListParams } from '../backend/backend.js';
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
  if (err?.code === 'SQLITE_BUSY') return 'the workspace store is busy (another flowdeck is writing); try again';
  const text = err instanceof Error ? err.message : String(error);
  return `unexpected error: ${text.split('\n')[0]}`;
}

import { InvalidInputError } from '../domain/errors.js';

// Body paging on the command line: `--page` takes the nextPageURL a previous --json call printed,
// for open and resolved listings alike.

/** `--page` takes a nextPageURL as printed by a previous --json call. */
export function pageParams(url: string): { before: string; query?: string; limit?: number } {
  let parsed: URL;
  try {
    parsed = new URL(url, 'http://flowdeck.local');
  } catch {
    throw new InvalidInputError(`--page must be a nextPageURL from a previous listing, got "${url}"`, 'page');
  }
  const before = parsed.searchParams.get('before');
  if (!before) throw new InvalidInputError(`--page URL has no "before" cursor: "${url}"`, 'page');
  const q = parsed.searchParams.get('q');
  const size = parsed.searchParams.get('pageSize');
  return { before, ...(q ? { query: q } : {}), ...(size ? { limit: Number(size) } : {}) };
}

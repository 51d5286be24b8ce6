import type { Backend } from '../backend/contract/index.js';
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

/** Where a nextPageURL belongs: `/v1/flows/{flowId}/{stepId}/{listing}`. */
export interface PageTarget {
  flowId: string;
  stepId: string;
  listing: 'errors' | 'resolved' | 'requests';
}

/**
 * A nextPageURL names the listing it continues; one of another flow, step or listing would page
 * through the wrong rows (or silently none), so it is refused. A bare query ("?before=…") is taken as is.
 */
export function assertPageOf(url: string, target: PageTarget): void {
  let path: string;
  try {
    path = new URL(url, 'http://flowdeck.local').pathname;
  } catch {
    return; // pageParams says what is wrong with it
  }
  if (path === '/' || path === '') return;
  const m = /^\/v1\/flows\/([^/]+)\/([^/]+)\/([^/]+)\/?$/.exec(path);
  const want = `/v1/flows/${target.flowId}/${target.stepId}/${target.listing}`;
  if (!m) throw new InvalidInputError(`--page URL is not a nextPageURL of this listing (expected a path like ${want}), got "${url}"`, 'page');
  const [, flowId, stepId, listing] = m.map((p) => decodeURIComponent(p).toLowerCase());
  if (flowId !== target.flowId || stepId !== target.stepId || listing !== target.listing) {
    const what = flowId !== target.flowId ? `flow ${flowId}` : stepId !== target.stepId ? `step ${stepId}` : `the ${listing} listing`;
    const hint = flowId !== target.flowId || stepId !== target.stepId ? 'give the flow and step it was printed for' : 'use it with the command that printed it';
    throw new InvalidInputError(`--page URL continues ${what}, not this listing (${want}); ${hint}`, 'page');
  }
}

/**
 * The flow and step ids a `--page` URL must name, from the references as typed (ids or names):
 * asked of the backend, so it holds on a server as locally.
 */
export async function pageTargetOf(backend: Pick<Backend, 'getFlow'>, flowRef: string, stepRef: string, listing: PageTarget['listing']): Promise<PageTarget> {
  const flow = await backend.getFlow(flowRef);
  const lower = stepRef.toLowerCase();
  const byPrefix = flow.steps.filter((s) => lower.length >= 6 && s._id.startsWith(lower));
  const step = flow.steps.find((s) => s._id === lower) ?? flow.steps.find((s) => s.name.toLowerCase() === lower) ?? (byPrefix.length === 1 ? byPrefix[0] : undefined);
  // An unknown step is the listing's own error to report, in its words.
  return { flowId: flow._id, stepId: step?._id ?? lower, listing };
}

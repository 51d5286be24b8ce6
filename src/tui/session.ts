import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TuiBackend } from './backend.js';
import type { Route } from './state/nav.js';

// Where the operator was, kept per workspace in a small file beside its store (tui-state.json):
// the views of the stack down to the errors of a step (with its filter) or the jobs, and the `/`
// prompt's history. The next TUI opens there. A missing, unreadable or stale file is ignored: the
// TUI then opens on the flows, as it always did.

export const SESSION_FILE = 'tui-state.json';
const HISTORY_MAX = 50;

export interface Session {
  routes: Route[];
  /** Filters applied with `/`, oldest first, without repeats. */
  history: string[];
}

export const EMPTY_SESSION: Session = { routes: [{ view: 'flows' }], history: [] };

/** The part of a stack worth coming back to: flows, a flow's steps, a step's errors, the jobs. */
export function restorableRoutes(routes: readonly Route[]): Route[] {
  const out: Route[] = [];
  for (const r of routes) {
    if (r.view === 'flows' || r.view === 'steps' || r.view === 'errors' || r.view === 'jobs') out.push(r);
    else break;
  }
  return out.length && out[0]!.view === 'flows' ? out : [{ view: 'flows' }];
}

/** The history with `query` added last (an earlier copy moves up), at most HISTORY_MAX long. */
export function withHistory(history: readonly string[], query: string): string[] {
  const q = query.trim();
  if (!q) return [...history];
  return [...history.filter((h) => h !== q), q].slice(-HISTORY_MAX);
}

function isRoute(r: unknown): r is Route {
  if (!r || typeof r !== 'object') return false;
  const v = r as Record<string, unknown>;
  const str = (k: string) => typeof v[k] === 'string';
  switch (v.view) {
    case 'flows':
    case 'jobs':
      return true;
    case 'steps':
      return str('flowId') && str('flowName');
    case 'errors':
      return str('flowId') && str('flowName') && str('stepId') && str('stepName') && (v.query === undefined || str('query'));
    default:
      return false;
  }
}

/** Reads the session file; anything but a well-formed one reads as the empty session. */
export function readSession(home: string): Session {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(join(home, SESSION_FILE), 'utf8'));
  } catch {
    return EMPTY_SESSION;
  }
  const v = raw as { routes?: unknown; history?: unknown };
  const routes = Array.isArray(v.routes) && v.routes.every(isRoute) ? restorableRoutes(v.routes) : EMPTY_SESSION.routes;
  const history = Array.isArray(v.history) ? v.history.filter((h): h is string => typeof h === 'string').slice(-HISTORY_MAX) : [];
  return { routes, history };
}

/** Writes the session (whole or not at all: a temporary file renamed over the old). Never throws. */
export function writeSession(home: string, session: Session): void {
  const file = join(home, SESSION_FILE);
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    // A remote profile's session lives in a directory of its own, made on first use.
    mkdirSync(home, { recursive: true, mode: 0o700 });
    writeFileSync(tmp, `${JSON.stringify({ routes: restorableRoutes(session.routes), history: session.history.slice(-HISTORY_MAX) }, null, 2)}\n`, { mode: 0o600 });
    renameSync(tmp, file);
  } catch {
    // A read-only workspace keeps no session: the TUI works the same.
  }
}

/** The saved routes that still exist (a flow or step renamed or removed since ends the stack there). */
export async function liveRoutes(backend: TuiBackend, routes: readonly Route[]): Promise<Route[]> {
  const out: Route[] = [];
  for (const r of routes) {
    if (r.view === 'steps' || r.view === 'errors') {
      try {
        const flow = await backend.getFlow(r.flowId);
        if (r.view === 'errors' && !flow.steps.some((s) => s._id === r.stepId)) break;
        out.push({ ...r, flowName: flow.name, ...(r.view === 'errors' ? { stepName: flow.steps.find((s) => s._id === r.stepId)!.name } : {}) } as Route);
      } catch {
        break;
      }
    } else {
      out.push(r);
    }
  }
  return restorableRoutes(out);
}

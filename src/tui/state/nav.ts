import type { ExecutionLogEntry, ExecutionLogStep } from '../../domain/api.js';
import { VIEW_TITLES } from '../keys.js';

// The navigation stack: drilling down pushes a route, esc pops it, `:` jumps (replacing the stack
// with the jumped-to view's natural parents). Every route in the stack stays mounted, so a view
// keeps its cursor, filter and marks when the operator comes back to it.

export type Route =
  | { view: 'flows' }
  | { view: 'steps'; flowId: string; flowName: string }
  /** `query`: the filter the view opens with (a remembered one). */
  | { view: 'errors'; flowId: string; flowName: string; stepId: string; stepName: string; query?: string }
  /** A step's error groups, or (without a step) every step's of the flow; `query` filters the errors grouped. */
  | { view: 'groups'; flowId: string; flowName: string; stepId?: string; stepName?: string; query?: string }
  | { view: 'error'; errorId: string; flowId: string; flowName: string; stepId: string; stepName: string }
  | { view: 'jobs' }
  | { view: 'job'; jobId: string; flowId: string; flowName: string; traceKey?: string }
  | { view: 'trace'; jobId: string; flowId: string; flowName: string; entry: ExecutionLogEntry }
  | { view: 'stage'; jobId: string; flowId: string; flowName: string; step: ExecutionLogStep; stepName: string };

export interface NavEntry {
  /** Stable React key: routes are never re-keyed while they stay in the stack. */
  key: number;
  route: Route;
}

export interface NavState {
  stack: NavEntry[];
  nextKey: number;
}

export type NavAction = { type: 'push'; route: Route } | { type: 'pop' } | { type: 'jump'; routes: Route[] };

export function initialNav(routes: Route[] = [{ view: 'flows' }]): NavState {
  return { stack: routes.map((route, i) => ({ key: i, route })), nextKey: routes.length };
}

export function navReducer(state: NavState, action: NavAction): NavState {
  switch (action.type) {
    case 'push':
      return { stack: [...state.stack, { key: state.nextKey, route: action.route }], nextKey: state.nextKey + 1 };
    case 'pop':
      return state.stack.length > 1 ? { ...state, stack: state.stack.slice(0, -1) } : state;
    case 'jump': {
      if (action.routes.length === 0) return state;
      // Keep the entries (and their view state) the new stack shares with the old one.
      const stack: NavEntry[] = [];
      let nextKey = state.nextKey;
      action.routes.forEach((route, i) => {
        const old = state.stack[i];
        if (old && stack.length === i && sameRoute(old.route, route)) stack.push(old);
        else stack.push({ key: nextKey++, route });
      });
      return { stack, nextKey };
    }
  }
}

export function currentRoute(state: NavState): Route {
  return state.stack[state.stack.length - 1]!.route;
}

export function sameRoute(a: Route, b: Route): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** The breadcrumb label of a route. */
export function routeLabel(route: Route): string {
  switch (route.view) {
    case 'flows':
    case 'jobs':
      return VIEW_TITLES[route.view];
    case 'steps':
      return route.flowName;
    case 'errors':
      return route.stepName;
    case 'error':
      return `error ${route.errorId}`;
    case 'groups':
      return `${route.stepName ?? route.flowName} groups`;
    case 'job':
      return `job ${route.jobId}`;
    case 'trace':
      return route.entry.traceKey ? `trace ${route.entry.traceKey}` : `record ${route.entry.recordId}`;
    case 'stage':
      return `${route.stepName} data`;
  }
}


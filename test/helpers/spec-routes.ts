import { expect } from 'vitest';
import { ROUTES, type Route, type RouteName } from '../../src/backend/wire/routes.js';
import { validateAgainst } from './spec.js';

// The contract check of `flowdeck serve`'s answers: a response's path and method name its route in
// the wire table; a spec route's 2xx body must validate against the vendored schema the spec gives
// for that status (and the status must be one the spec lists), every error body against the spec's
// Error (the 401 against the auth middleware's `{ message }` as well).

/** The spec's success answers of each spec route (from ../shared/spec, paths → responses): schema name, `Name[]`, or null for no body. */
const SPEC_SUCCESS: Partial<Record<RouteName, Record<number, string | null>>> = {
  listFlows: { 200: 'Response[]', 204: null },
  getFlow: { 200: 'Response' },
  patchFlow: { 204: null },
  runFlow: { 200: 'FlowRunResponse' },
  flowErrors: { 200: 'FlowErrorsResponse' },
  filterMetadata: { 200: 'ErrorsFilterMetadataResponse' },
  listErrors: { 200: 'FlowStepErrorsResponse' },
  listResolved: { 200: 'FlowStepResolvedResponse' },
  assign: { 200: 'FlowStepAffectedErrorsResponse' },
  unassign: { 200: 'FlowStepErrorsUnassignResponse' },
  setTags: { 200: 'FlowStepTagsResponse' },
  resolve: { 204: null },
  deleteResolved: { 204: null },
  retry: { 200: 'Job', 204: null },
  retryWithBackoff: { 200: 'Job', 204: null },
  searchJobs: { 200: 'FlowJobsSearchResponse' },
  getRetryData: { 200: 'FlowStepRetryData' },
  putRetryData: { 204: null },
  listRequests: { 200: 'FlowStepRequestsListResponse' },
  getRequest: { 200: 'FlowStepRequestResponse' },
  deleteRequests: { 200: 'FlowStepRequestsDeleteResponse' },
  listLogs: { 200: 'ExecutionLogsResponse' },
  logMetadata: { 200: 'ExecutionLogMetadataResponse' },
  logData: { 200: 'ExecutionLogDataResponse' },
  logChildren: { 200: 'FlowJobLogChildrenResponse' },
  errorsSignedURL: { 200: 'FlowStepSignedURLResponse' },
  resolvedSignedURL: { 200: 'FlowStepSignedURLResponse' },
};

/** The route's path as a pattern: each `{param}` one segment (the table's paths hold no other pattern characters). */
function matcher(route: Route): RegExp {
  return new RegExp(`^${route.path.replace(/\{\w+\}/g, '[^/]+')}$`);
}

/** The route a request went to: the one whose path matches with the most literal segments (as the router picks). */
export function routeOf(method: string, path: string): RouteName | undefined {
  const bare = path.split('?')[0]!;
  let best: { name: RouteName; literals: number } | undefined;
  for (const [name, route] of Object.entries(ROUTES) as Array<[RouteName, Route]>) {
    if (route.method !== method || !matcher(route).test(bare)) continue;
    const literals = route.path.split('/').filter((s) => s && !s.startsWith('{')).length;
    if (!best || literals > best.literals) best = { name, literals };
  }
  return best?.name;
}

function schemaErrors(schema: string, body: unknown): string[] {
  if (!schema.endsWith('[]')) return validateAgainst(schema, body);
  if (!Array.isArray(body)) return ['(root) must be an array'];
  return body.flatMap((item, i) => validateAgainst(schema.slice(0, -2), item).map((e) => `[${i}]${e}`));
}

/** Fails the test unless the response is one the spec (or a listed extension) allows, in its shape. */
export function expectSpecShape(method: string, path: string, status: number, body: unknown): void {
  const where = `${method} ${path.split('?')[0]} → ${status}`;
  if (status >= 400) {
    expect(validateAgainst('Error', body), `${where}: error body`).toEqual([]);
    if (status === 401) expect(typeof (body as { message?: unknown }).message, `${where}: the spec's 401 has a message`).toBe('string');
    return;
  }
  const name = routeOf(method, path);
  expect(name, `${where}: no route of the wire table`).toBeDefined();
  const route = ROUTES[name!] as Route;
  if (route.extension) {
    expect([200, 204], `${where}: an extension answers 200 or 204`).toContain(status);
    return;
  }
  const success = SPEC_SUCCESS[name!];
  expect(success, `${where}: the spec route ${name} has no responses in the table`).toBeDefined();
  expect(Object.keys(success!).map(Number), `${where}: a status the spec lists`).toContain(status);
  const schema = success![status]!;
  if (schema === null) {
    expect(body, `${where}: no body`).toBeUndefined();
    return;
  }
  expect(schemaErrors(schema, body), `${where}: ${schema}`).toEqual([]);
}

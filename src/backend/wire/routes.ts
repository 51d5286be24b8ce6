// Every Backend operation as HTTP: the method and path `flowdeck serve` answers and the
// RemoteBackend sends, so the two cannot disagree. Paths are the spec's (seed 002, written as the
// spec writes them, `{_id}`) or flowdeck extensions under `/v1/flowdeck/…`, which the README lists.
//
// Selections other than explicit ids (`all`, a query, `upToErrorId`, `confirmed`) and what the spec
// answers with 204 but flowdeck reports (affected counts, dry runs) use the extension routes; the
// spec routes keep the spec's bodies and statuses, so any server of the spec can be driven through
// them with the ids resolved on the client.

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface Route {
  method: HttpMethod;
  path: string;
  /** A flowdeck extension, not in the spec. */
  extension?: true;
}

const spec = (method: HttpMethod, path: string): Route => ({ method, path });
const ext = (method: HttpMethod, path: string): Route => ({ method, path: `/v1/flowdeck${path}`, extension: true });

export const ROUTES = {
  // ---- who and what this server is
  /** `{ email }` of the token's user and the server's name and version: tells a flowdeck server apart. */
  whoami: ext('GET', '/whoami'),

  // ---- flows
  listFlows: spec('GET', '/v1/flows'),
  getFlow: spec('GET', '/v1/flows/{_id}'),
  /** JSON patch of `/disabled` (enable, disable). */
  patchFlow: spec('PATCH', '/v1/flows/{_id}'),
  runFlow: spec('POST', '/v1/flows/{_id}/run'),
  flowErrors: spec('GET', '/v1/flows/{_id}/errors'),
  filterMetadata: spec('GET', '/v1/errors/filterMetadata'),

  // ---- errors of a step (listing: `q` query language, `pageSize`, `before`, `order`, `after`)
  listErrors: spec('GET', '/v1/flows/{_id}/{_stepId}/errors'),
  listResolved: spec('GET', '/v1/flows/{_id}/{_stepId}/resolved'),
  countErrors: ext('GET', '/flows/{_id}/{_stepId}/errors/count'),
  errorFacets: ext('GET', '/flows/{_id}/{_stepId}/errors/facets'),
  /** `?stepId=` for one step's groups, the whole flow's without. */
  errorGroups: ext('GET', '/flows/{_id}/groups'),
  getError: ext('GET', '/errors/{errorId}'),

  // ---- triage: the spec's, with explicit ids
  assign: spec('PUT', '/v1/flows/{_id}/{_stepId}/errors/assign'),
  unassign: spec('PUT', '/v1/flows/{_id}/{_stepId}/errors/unassign'),
  setTags: spec('PUT', '/v1/flows/{_id}/{_stepId}/tags'),
  resolve: spec('PUT', '/v1/flows/{_id}/{_stepId}/resolved'),
  deleteResolved: spec('DELETE', '/v1/flows/{_id}/{_stepId}/resolved'),
  // ---- triage: flowdeck's, with any selection and the affected errors in the answer
  assignSelection: ext('POST', '/flows/{_id}/{_stepId}/errors/assign'),
  unassignSelection: ext('POST', '/flows/{_id}/{_stepId}/errors/unassign'),
  setTagsSelection: ext('POST', '/flows/{_id}/{_stepId}/tags'),
  resolveSelection: ext('POST', '/flows/{_id}/{_stepId}/errors/resolve'),
  reopenSelection: ext('POST', '/flows/{_id}/{_stepId}/resolved/reopen'),
  deleteResolvedSelection: ext('POST', '/flows/{_id}/{_stepId}/resolved/delete'),

  // ---- tags, users, config
  listTags: ext('GET', '/tags'),
  createTag: ext('POST', '/tags'),
  deleteTag: ext('DELETE', '/tags/{tagId}'),
  listUsers: ext('GET', '/users'),
  getConfig: ext('GET', '/config'),
  setConfig: ext('PUT', '/config/{key}'),

  // ---- retry
  retry: spec('POST', '/v1/flows/{_id}/{_stepId}/retry'),
  retryWithBackoff: spec('POST', '/v1/flows/{_id}/{_stepId}/retry_with_exponential_decay'),
  /** Any selection, back-off and rate in one body; answers the job (200) or 204 when nothing matched. */
  retrySelection: ext('POST', '/flows/{_id}/{_stepId}/retry'),
  retryPreview: ext('POST', '/flows/{_id}/{_stepId}/retry/preview'),

  // ---- jobs
  listJobs: ext('GET', '/jobs'),
  /** `?waitMs=` long-polls: answers when the job changed or the time is up. */
  getJob: ext('GET', '/jobs/{jobId}'),
  cancelJob: ext('POST', '/jobs/{jobId}/cancel'),
  retryReport: ext('GET', '/jobs/{jobId}/report'),
  recordCounts: ext('GET', '/jobs/{jobId}/records'),
  keepAutomaticRetries: ext('POST', '/automaticRetries'),
  searchJobs: spec('GET', '/v1/flows/{_id}/jobs/search'),

  // ---- retry data
  getRetryData: spec('GET', '/v1/flows/{_id}/{_stepId}/{retryDataKey}/data'),
  putRetryData: spec('PUT', '/v1/flows/{_id}/{_stepId}/{retryDataKey}/data'),
  /** Validates an envelope and answers what would be stored (`--dry-run`). */
  checkRetryData: ext('POST', '/flows/{_id}/{_stepId}/{retryDataKey}/data/check'),
  patchRetryData: ext('POST', '/flows/{_id}/{_stepId}/retryData/patch'),

  // ---- request traces
  listRequests: spec('GET', '/v1/flows/{_id}/{_stepId}/requests'),
  getRequest: spec('GET', '/v1/flows/{_id}/{_stepId}/requests/{reqAndResKey}'),
  /** `?dryRun=true` reports without deleting (an extension parameter). */
  deleteRequests: spec('DELETE', '/v1/flows/{_id}/{_stepId}/requests'),

  // ---- execution logs
  listLogs: spec('GET', '/v1/flows/{_id}/jobs/{_jobId}/logs'),
  findLogEntry: ext('GET', '/flows/{_id}/jobs/{_jobId}/logs/{recordId}'),
  logMetadata: spec('POST', '/v1/flows/{_id}/jobs/{_jobId}/logs/metadata/query'),
  logData: spec('POST', '/v1/flows/{_id}/jobs/{_jobId}/logs/data/query'),
  logChildren: spec('GET', '/v1/flows/{_id}/jobs/{_jobId}/{_stepId}/logs/{recordId}/children'),

  // ---- CSV downloads: a signed URL first (`?startAtErrorId=`), then a plain GET of it
  errorsSignedURL: spec('GET', '/v1/flows/{_id}/{_stepId}/errors/signedURL'),
  resolvedSignedURL: spec('GET', '/v1/flows/{_id}/{_stepId}/resolved/signedURL'),
  /** Every step's errors of the flow in one CSV (`?resolved=true` for the resolved ones). */
  flowErrorsSignedURL: ext('GET', '/flows/{_id}/errors/signedURL'),
  /** What a signed URL points at: the CSV, needing no token (the signature is the credential, short-lived). */
  download: ext('GET', '/downloads/{signature}'),
} as const satisfies Record<string, Route>;

export type RouteName = keyof typeof ROUTES;

/** A route's path with its `{params}` filled in, each encoded as one path segment. */
export function pathOf(route: Route, params: Record<string, string>): string {
  return route.path.replace(/\{(\w+)\}/g, (_, name: string) => {
    const value = params[name];
    if (value === undefined) throw new Error(`route ${route.method} ${route.path} needs "${name}"`);
    return encodeURIComponent(value);
  });
}

/** The route's path as Fastify (find-my-way) writes it: `{_id}` → `:_id`. */
export function fastifyPath(route: Route): string {
  return route.path.replace(/\{(\w+)\}/g, ':$1');
}

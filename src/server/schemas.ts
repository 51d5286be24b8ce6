import { JOB_STATUSES, JOB_TYPES } from '../domain/api.js';

// Request shapes as JSON Schema for Fastify's validator: the spec's request bodies (seed 002,
// components.schemas, written out here: the server does not read the spec at run time) and the
// flowdeck extensions' bodies and query strings. Unknown fields are refused (400), not dropped: a
// misspelt `errorIds` must not turn into "no selection".

const str = { type: 'string' } as const;
const bool = { type: 'boolean' } as const;
const strings = { type: 'array', items: str } as const;
const someStrings = { type: 'array', minItems: 1, items: str } as const;
const pageSize = { type: 'integer', minimum: 1, maximum: 1000 } as const;

function object(properties: Record<string, unknown>, required: string[] = [], additional = false) {
  return { type: 'object', properties, required, additionalProperties: additional } as const;
}

// ---- the spec's bodies (they allow more fields than they name; so do these)
export const assignBody = object({ errorIds: someStrings, email: str }, ['errorIds', 'email'], true);
export const unassignBody = object({ errorIds: someStrings }, ['errorIds'], true);
export const errorsBody = object({ errors: someStrings }, ['errors'], true);
export const retryBody = object({ retryDataKeys: someStrings }, ['retryDataKeys'], true);
export const tagsBody = object(
  { errors: { type: 'array', minItems: 1, items: object({ id: str, rdk: str }, ['id'], true) }, tagIds: strings },
  ['errors', 'tagIds'],
  true,
);
export const jsonPatchBody = {
  type: 'array',
  minItems: 1,
  items: object({ op: { type: 'string', enum: ['replace'] }, path: str, value: {} }, ['op', 'path'], true),
} as const;
export const retryDataBody = object(
  { retryDataKey: str, data: {}, stage: str, pgExportId: str, oneToMany: bool, pathToMany: { type: ['string', 'null'] }, childIndex: { type: ['integer', 'null'] }, traceKey: { type: ['string', 'null'] }, adaptorResponse: { type: 'object' } },
  ['retryDataKey', 'data', 'stage'],
  true,
);
export const deleteRequestsBody = object({ keys: someStrings }, ['keys'], true);
export const logMetadataBody = object({ _expOrImpId: str, groupId: str, recordId: str, traceKey: str }, ['_expOrImpId', 'groupId', 'recordId'], true);
export const logDataBody = object({ _expOrImpId: str, stage: str, groupId: str, recordId: str }, ['_expOrImpId', 'stage', 'groupId', 'recordId'], true);

// ---- flowdeck's bodies: a Backend method's arguments as JSON
export const selection = object({
  errorIds: strings,
  retryDataKeys: strings,
  all: bool,
  query: str,
  upToErrorId: str,
  confirmed: bool,
  /** Tags only: walk the resolved errors. */
  resolved: bool,
});
const dryRun = bool;
export const selectionBody = object({ selection, dryRun }, ['selection']);
export const assignSelectionBody = object({ selection, email: str, dryRun }, ['selection', 'email']);
export const tagsSelectionBody = object({ selection, update: object({ set: strings, add: strings, remove: strings }), dryRun }, ['selection', 'update']);
export const backoff = object(
  { maxAttempts: { type: 'integer', minimum: 1 }, baseDelayMs: { type: 'number', exclusiveMinimum: 0 }, factor: { type: 'number', minimum: 1 }, maxDelayMs: { type: 'number', exclusiveMinimum: 0 }, jitter: { type: 'number', minimum: 0, maximum: 1 } },
  ['maxAttempts', 'baseDelayMs', 'factor', 'maxDelayMs', 'jitter'],
);
export const retrySelectionBody = object({ selection, backoff, ratePerSecond: { type: 'number', exclusiveMinimum: 0 } }, ['selection']);
export const retryPreviewBody = object({ selection }, ['selection']);
export const patchRetryDataBody = object(
  { selection, ops: { type: 'array', minItems: 1, items: object({ op: str, path: str, from: str, value: {} }, ['op', 'path']) }, dryRun },
  ['selection', 'ops'],
);
export const createTagBody = object({ name: str, code: str }, ['name']);
export const setConfigBody = object({ value: {} }, ['value']);

// ---- query strings (names as the Backend's parameters, `q` for a query and `pageSize` for a limit)
export const errorListQuery = object({ q: str, pageSize, before: str, order: { type: 'string', enum: ['asc', 'desc'] }, after: str });
export const countQuery = object({ q: str, resolved: bool });
export const facetsQuery = object({ field: { type: 'string', enum: ['classification', 'code', 'source'] } }, ['field']);
export const groupsQuery = object({ stepId: str, q: str, sort: { type: 'string', enum: ['count', 'newest'] }, limit: pageSize, resolved: bool });
export const dryRunQuery = object({ dryRun: bool });
export const configQuery = object({ key: str });
export const jobListQuery = object({
  flowId: str,
  type: { type: 'string', enum: [...JOB_TYPES] },
  status: { type: 'string', enum: [...JOB_STATUSES] },
  triggeredBy: str,
  limit: pageSize,
  before: str,
});
export const jobQuery = object({ waitMs: { type: 'integer', minimum: 0 } });
export const searchJobsQuery = object({ traceKeyPrefix: str, pageSize }, ['traceKeyPrefix']);
export const requestListQuery = object({ time_lte: { type: 'integer' }, time_gt: { type: 'integer' }, statusCode: str, method: str, stage: str, pageSize, before: str });
export const logListQuery = object({
  status: { type: 'string', enum: ['success', 'error', 'ignore', 'ignored'] },
  _expOrImpId: str,
  traceKeyPrefix: str,
  sortOrder: { type: 'string', enum: ['asc', 'desc'] },
  pageSize,
  next: str,
  prev: str,
});
export const logEntryQuery = object({ stepId: str });
export const logChildrenQuery = object({ status: { type: 'string', enum: ['success', 'error', 'ignore', 'ignored'] }, pageSize, offset: { type: 'integer', minimum: 0 } });
export const signedUrlQuery = object({ startAtErrorId: str, q: str });
export const flowSignedUrlQuery = object({ startAtErrorId: str, q: str, resolved: bool });

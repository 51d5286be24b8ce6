import { createRequire } from 'node:module';
import type { z } from 'zod';
import {
  LOG_QUERY_STAGES,
  type ExecutionLogDataResponse,
  type ExecutionLogEntry,
  type ExecutionLogMetadataResponse,
  type ExecutionLogStep,
  type ExecutionLogsResponse,
  type FlowJobLogChildrenResponse,
  type FlowJobsSearchResponse,
  type FlowStepRequestResponse,
  type FlowStepRequestsDeleteResponse,
  type FlowStepRequestsListResponse,
  type FlowStepRetryData,
} from '../domain/api.js';
import { InvalidInputError, NoRetryDataError, NotFoundError, RemovedFlowError } from '../domain/errors.js';
import { decodeId, encodeId, idMatchesTime } from '../domain/ids.js';
import { applyPatch, assertPathsUnder, deepEqual, PatchTestFailed, type PatchOp } from '../domain/json-patch.js';
import { assertJsonDepth } from '../domain/json-text.js';
import { RETRY_STAGE } from '../runtime/recorder.js';
import type { StorePorts } from '../store/contract/ports.js';
import type { FlowRow, JobRow, LogEntryRow, RetryDataRow, StepRow, TraceRow } from '../store/contract/rows.js';
import { clampLimit, DEFAULT_PAGE_SIZE, type LocalBackend } from './local-backend.js';
import { selectErrors } from './selection.js';
import { errorIdOf, iso, jobIdOf } from './shapes.js';
import type { CsvExportOptions, DeleteRequestsOptions, ErrorSelection, FlowInfo, JobSearchParams, LogChildrenParams, LogDataQuery, LogListParams, LogMetadataQuery, LogStatusFilter, PutRetryDataOptions, RecordsApi, RequestListParams, RetryDataPatchResult, TextDownload } from './contract/index.js';

// Retry data, request traces, execution logs, trace-key job search, flow enable/disable and the
// CSV export over a local workspace. Shapes are the API's; references accept ids or names.

// zod is loaded when an envelope is first checked, not by every command that opens a backend.
const require = createRequire(import.meta.url);
let envelopeSchema: ReturnType<typeof buildEnvelopeSchema> | undefined;
function buildEnvelopeSchema(z: typeof import('zod').z) {
  return z
    .object({
      retryDataKey: z.string(),
      data: z.unknown(),
      stage: z.string(),
      pgExportId: z.string().optional(),
      oneToMany: z.boolean().optional(),
      pathToMany: z.string().nullable().optional(),
      childIndex: z.number().int().nullable().optional(),
      traceKey: z.string().nullable().optional(),
      adaptorResponse: z.record(z.string(), z.unknown()).optional(),
    })
    .strict();
}
function retryDataEnvelope() {
  envelopeSchema ??= buildEnvelopeSchema((require('zod') as typeof import('zod')).z);
  return envelopeSchema;
}

/** What a JSON value is, as a person would say it ("1.5", "text", "a list", "missing"). */
function kindOf(value: unknown): string {
  if (value === undefined) return 'missing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return typeof value === 'object' ? 'an object' : typeof value === 'string' ? 'text' : `a ${typeof value}`;
}

const EXPECTED: Record<string, string> = { string: 'text', number: 'a number', int: 'a whole number', boolean: 'true or false', object: 'an object', record: 'an object', array: 'a list' };

/** The first problem of an envelope in the operator's words, not the validator's. */
function envelopeError(issues: z.core.$ZodIssue[], envelope: unknown): InvalidInputError {
  const issue = issues[0]!;
  if (issue.code === 'unrecognized_keys') {
    const keys = (issue as { keys: string[] }).keys;
    return new InvalidInputError(`retry data envelope has unknown field ${keys.map((k) => `"${k}"`).join(', ')}`, keys[0]);
  }
  const field = issue.path.join('.');
  if (!field) return new InvalidInputError('retry data envelope must be a JSON object', 'envelope');
  if (issue.code === 'invalid_type') {
    const value = issue.path.reduce<unknown>((v, k) => (v !== null && typeof v === 'object' ? (v as Record<PropertyKey, unknown>)[k as PropertyKey] : undefined), envelope);
    const expected = EXPECTED[(issue as { expected?: string }).expected ?? ''] ?? (issue as { expected?: string }).expected ?? 'something else';
    const keep = field === 'retryDataKey' || field === 'stage' ? ' (keep it as flowdeck retry-data get printed it)' : '';
    return new InvalidInputError(
      value === undefined ? `the retry data envelope needs "${field}"${keep}` : `"${field}" in the retry data envelope must be ${expected}, not ${kindOf(value)}${keep}`,
      field,
    );
  }
  return new InvalidInputError(`retry data envelope field "${field}": ${issue.message.replace(/^Invalid input: /, '')}`, field);
}

const describeJson = (value: unknown): string => (value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value === 'object' ? 'an object' : `a ${typeof value}`);

/**
 * Why `data` cannot be what a retry feeds to the snapshot's stage, or undefined when it can. A
 * lookup merges its response into the record's fields, so the record must be an object; an import
 * maps (or sends) the record as its request body, an object or an array; a page generator's
 * record is one element of an export page, an object or an array as the export returned it.
 */
export function recordShapeProblem(stage: string, data: unknown): string | undefined {
  const isObject = data !== null && typeof data === 'object' && !Array.isArray(data);
  if (stage === RETRY_STAGE.lookup) return isObject ? undefined : `a lookup's record must be a JSON object, got ${describeJson(data)}`;
  if (isObject || Array.isArray(data)) return undefined;
  const what = stage === RETRY_STAGE.import ? "an import's record" : 'the record';
  return `${what} must be a JSON object or array, got ${describeJson(data)}`;
}

function parseJsonColumn(text: string | null): unknown {
  return text === null ? undefined : JSON.parse(text);
}

export function retryDataKeyOf(row: Pick<RetryDataRow, 'id' | 'createdAt'>): string {
  return encodeId('retryData', row.id, row.createdAt);
}

export function reqAndResKeyOf(row: Pick<TraceRow, 'id' | 'time'>): string {
  return encodeId('trace', row.id, row.time);
}

/** The API envelope of a stored snapshot; absent optionals are omitted. */
export function toRetryData(row: RetryDataRow): FlowStepRetryData {
  // Built in the spec's property order; oneToMany is required, so it is set before the cast is true.
  const out = { retryDataKey: retryDataKeyOf(row), data: JSON.parse(row.data) as unknown, stage: row.stage } as FlowStepRetryData;
  if (row.pgExportId !== null) out.pgExportId = row.pgExportId;
  out.oneToMany = row.oneToMany;
  if (row.pathToMany !== null) out.pathToMany = row.pathToMany;
  if (row.childIndex !== null) out.childIndex = row.childIndex;
  if (row.traceKey !== null) out.traceKey = row.traceKey;
  const adaptor = parseJsonColumn(row.adaptorResponse);
  if (adaptor !== null && typeof adaptor === 'object' && !Array.isArray(adaptor)) out.adaptorResponse = adaptor as Record<string, unknown>;
  return out;
}

function pick<T extends object>(source: unknown, keys: ReadonlyArray<keyof T>, types: Record<string, string>): T {
  const out: Record<string, unknown> = {};
  if (source === null || typeof source !== 'object') return out as T;
  for (const key of keys) {
    const value = (source as Record<string, unknown>)[key as string];
    const want = types[key as string];
    if (value === undefined || value === null) continue;
    if (want === 'headers') {
      if (typeof value === 'object' && !Array.isArray(value)) {
        out[key as string] = Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, String(v)]));
      }
    } else if (want === 'integer') {
      if (Number.isInteger(value)) out[key as string] = value;
    } else {
      out[key as string] = typeof value === 'string' ? value : JSON.stringify(value);
    }
  }
  return out as T;
}

function logStatus(value: LogStatusFilter | undefined): LogEntryRow['status'] | undefined {
  if (value === undefined) return undefined;
  if (value === 'ignore' || value === 'ignored') return 'ignored';
  if (value === 'success' || value === 'error') return value;
  throw new InvalidInputError(`status must be one of success, error, ignore, got "${String(value)}"`, 'status');
}

function timeParam(name: string, value: number | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new InvalidInputError(`${name} must be epoch milliseconds (a whole number), got ${String(value)}`, name, 'invalid_or_missing_field');
  }
  return value;
}

export class RecordsService implements RecordsApi {
  constructor(private readonly local: LocalBackend) {}

  private get store() {
    return this.local.store;
  }

  private audit(tx: StorePorts, action: string, flow: FlowRow, step: StepRow | undefined, count: number, detail?: unknown): Promise<void> {
    return tx.auditLog.audit({
      at: Date.now(),
      actor: this.local.operator,
      action,
      flowId: flow.id,
      ...(step ? { stepId: step.stepId } : {}),
      count,
      ...(detail === undefined ? {} : { detail }),
    });
  }

  private async flowAndStep(flowRef: string, stepRef: string): Promise<{ flow: FlowRow; step: StepRow }> {
    const flow = await this.local.resolveFlow(flowRef);
    return { flow, step: await this.local.resolveStep(flow, stepRef) };
  }

  // ---- retry data -----------------------------------------------------------------------------

  /** The snapshot named by a retryDataKey (or by an errorId that has one) on this step. */
  private async snapshot(step: StepRow, key: string): Promise<RetryDataRow> {
    const asKey = decodeId('retryData', key);
    if (asKey) {
      const row = await this.store.records.getRetryData(asKey.rowId);
      if (row && row.step === step.key && idMatchesTime(asKey, row.createdAt)) return row;
      throw new NoRetryDataError(key);
    }
    const asError = decodeId('error', key);
    if (asError) {
      const error = await this.store.errors.getError(asError.rowId);
      if (error && error.step === step.key && idMatchesTime(asError, error.occurredAt) && error.retryData !== null) {
        const row = await this.store.records.getRetryData(error.retryData);
        if (row) return row;
      }
    }
    throw new NoRetryDataError(key);
  }

  async getRetryData(flowRef: string, stepRef: string, key: string): Promise<FlowStepRetryData> {
    const { step } = await this.flowAndStep(flowRef, stepRef);
    return toRetryData(await this.snapshot(step, key));
  }

  async putRetryData(flowRef: string, stepRef: string, key: string, envelope: unknown, options: PutRetryDataOptions = {}): Promise<FlowStepRetryData> {
    const { flow, step } = await this.flowAndStep(flowRef, stepRef);
    const row = await this.snapshot(step, key);
    assertJsonDepth(envelope, 'the retry data envelope', 'data');
    const parsed = retryDataEnvelope().safeParse(envelope);
    if (!parsed.success) throw envelopeError(parsed.error.issues, envelope);
    const env = parsed.data;
    if (!Object.prototype.hasOwnProperty.call(envelope, 'data') || env.data === undefined) {
      throw new InvalidInputError('retry data envelope field "data" is required', 'data');
    }
    const storedKey = retryDataKeyOf(row);
    if (env.retryDataKey.toLowerCase() !== storedKey) {
      throw new InvalidInputError(`retryDataKey "${env.retryDataKey}" does not match the stored snapshot's "${storedKey}"`, 'retryDataKey');
    }
    if (env.stage !== row.stage) {
      throw new InvalidInputError(`stage "${env.stage}" does not match the stored snapshot's "${row.stage}"`, 'stage');
    }
    const shape = recordShapeProblem(row.stage, env.data);
    if (shape) throw new InvalidInputError(`retry data envelope field "data": ${shape}`, 'data');
    if ((env.traceKey ?? null) !== row.traceKey) {
      throw new InvalidInputError(
        `traceKey ${env.traceKey == null ? '(absent)' : `"${env.traceKey}"`} does not match the stored snapshot's ${row.traceKey === null ? '(absent)' : `"${row.traceKey}"`}; it names the record in the execution logs and cannot change`,
        'traceKey',
      );
    }
    if ((env.pgExportId ?? null) !== row.pgExportId) {
      throw new InvalidInputError(
        `pgExportId ${env.pgExportId === undefined ? '(absent)' : `"${env.pgExportId}"`} does not match the stored snapshot's ${row.pgExportId === null ? '(absent)' : `"${row.pgExportId}"`}`,
        'pgExportId',
      );
    }
    const next: RetryDataRow = {
      ...row,
      data: JSON.stringify(env.data),
      oneToMany: env.oneToMany ?? false,
      pathToMany: env.pathToMany ?? null,
      childIndex: env.childIndex ?? null,
      traceKey: env.traceKey ?? null,
      adaptorResponse: env.adaptorResponse === undefined ? null : JSON.stringify(env.adaptorResponse),
    };
    if (options.dryRun) return toRetryData(next);
    const at = Date.now();
    await this.store.withTransaction(async (tx) => {
      await tx.records.replaceRetryData(row.id, next, at);
      await this.audit(tx, 'retry-data.put', flow, step, 1, { retryDataKey: storedKey });
    });
    return toRetryData((await this.store.records.getRetryData(row.id))!);
  }

  async patchRetryData(
    flowRef: string,
    stepRef: string,
    selection: ErrorSelection,
    ops: readonly PatchOp[],
    options: { dryRun?: boolean } = {},
  ): Promise<RetryDataPatchResult> {
    if (ops.length === 0) throw new InvalidInputError('say what to change: --set data.path=value, --unset data.path or --patch file.json', 'patch');
    assertPathsUnder(ops, '/data');
    const { flow, step } = await this.flowAndStep(flowRef, stepRef);
    // Explicit keys must name snapshots of this step, each used by an open error: a typo never half-applies.
    for (const key of selection.retryDataKeys ?? []) await this.snapshot(step, key);
    const selected = await selectErrors(this.local, flow.id, step.stepId, selection);
    const refs = await this.store.records.snapshotsOfErrors(selected.rowIds);
    const bySnapshot = new Map<number, string[]>();
    let skippedNoRetryData = 0;
    for (const ref of refs) {
      if (ref.retryData === null) {
        skippedNoRetryData++;
        continue;
      }
      const list = bySnapshot.get(ref.retryData) ?? [];
      list.push(errorIdOf({ id: ref.error, occurredAt: ref.occurredAt }));
      bySnapshot.set(ref.retryData, list);
    }
    for (const key of selection.retryDataKeys ?? []) {
      const row = await this.snapshot(step, key);
      if (!bySnapshot.has(row.id)) throw new InvalidInputError(`retry data ${key} belongs to no open error on step "${step.name}"`, 'retryDataKey');
    }

    const dryRun = options.dryRun === true;
    const compute = async (ports: StorePorts, at: number): Promise<RetryDataPatchResult> => {
      const result: RetryDataPatchResult = { dryRun, selected: selected.rowIds.length, changed: [], unchanged: [], testFailed: [], skippedNoRetryData };
      for (const [id, errorIds] of bySnapshot) {
        const row = await ports.records.getRetryData(id);
        if (!row) {
          result.skippedNoRetryData += errorIds.length;
          continue;
        }
        const before = toRetryData(row);
        let patched: { data: unknown };
        try {
          patched = applyPatch({ data: before.data }, ops);
        } catch (e) {
          if (e instanceof PatchTestFailed) {
            result.testFailed.push(before.retryDataKey);
            continue;
          }
          if (e instanceof InvalidInputError) throw new InvalidInputError(`retry data ${before.retryDataKey}: ${e.message}`, e.field);
          throw e;
        }
        if (deepEqual(patched.data, before.data)) {
          result.unchanged.push(before.retryDataKey);
          continue;
        }
        const shape = recordShapeProblem(row.stage, patched.data);
        if (shape) throw new InvalidInputError(`retry data ${before.retryDataKey}: the patch leaves "data" unusable: ${shape}`, 'patch');
        const after: FlowStepRetryData = { ...before, data: patched.data };
        result.changed.push({ retryDataKey: before.retryDataKey, errorIds, before, after });
        if (!dryRun) await ports.records.updateRetryDataJson(id, JSON.stringify(patched.data), at);
      }
      return result;
    };
    if (dryRun) return compute(this.store, Date.now());
    return this.store.withTransaction(async (tx) => {
      const result = await compute(tx, Date.now());
      if (result.changed.length > 0) {
        await this.audit(tx, 'retry-data.patch', flow, step, result.changed.length, {
          ops,
          retryDataKeys: result.changed.slice(0, 1000).map((c) => c.retryDataKey),
        });
      }
      return result;
    });
  }

  // ---- request traces ---------------------------------------------------------------------------

  /** The trace named by a reqAndResKey (or by an errorId that has one) on this step. */
  private async trace(step: StepRow, key: string): Promise<TraceRow | undefined> {
    const asKey = decodeId('trace', key);
    if (asKey) {
      const row = await this.store.records.getTrace(asKey.rowId);
      return row && row.step === step.key && idMatchesTime(asKey, row.time) ? row : undefined;
    }
    const asError = decodeId('error', key);
    if (asError) {
      const error = await this.store.errors.getError(asError.rowId);
      if (error && error.step === step.key && idMatchesTime(asError, error.occurredAt) && error.trace !== null) {
        return this.store.records.getTrace(error.trace);
      }
    }
    return undefined;
  }

  async listRequests(flowRef: string, stepRef: string, params: RequestListParams = {}): Promise<FlowStepRequestsListResponse> {
    const { flow, step } = await this.flowAndStep(flowRef, stepRef);
    const limit = clampLimit(params.pageSize ?? DEFAULT_PAGE_SIZE);
    const timeLte = timeParam('time_lte', params.timeLte);
    const timeGt = timeParam('time_gt', params.timeGt);
    let statusCode: number | undefined;
    if (params.statusCode !== undefined) {
      if (!/^\d{3}$/.test(params.statusCode)) throw new InvalidInputError(`statusCode must be a three-digit HTTP status, got "${params.statusCode}"`, 'statusCode');
      statusCode = Number(params.statusCode);
    }
    const method = params.method?.toUpperCase();
    if (method !== undefined && !/^[A-Z]+$/.test(method)) throw new InvalidInputError(`method must be an HTTP method like GET or POST, got "${params.method}"`, 'method');
    let before: { time: number; id: number } | undefined;
    if (params.before !== undefined) {
      const decoded = decodeId('trace', params.before);
      if (!decoded || timeLte === undefined) throw new InvalidInputError(`"${params.before}" is not a page cursor (use the nextPageURL as printed)`, 'before');
      before = { time: timeLte, id: decoded.rowId };
    }
    const rows = await this.store.records.listTraces(step.key, { timeLte, timeGt, statusCode, method, stage: params.stage, before }, limit + 1);
    const page = rows.slice(0, limit);
    const response: FlowStepRequestsListResponse = {
      requests: page.map((r) => ({ key: reqAndResKeyOf(r), time: r.time, method: r.method, statusCode: r.statusCode === null ? '' : String(r.statusCode), stage: r.stage })),
      nextPageURL: null,
    };
    const last = page[page.length - 1];
    if (rows.length > limit && last) {
      const search = new URLSearchParams({ time_lte: String(last.time), before: reqAndResKeyOf(last), pageSize: String(limit) });
      if (timeGt !== undefined) search.set('time_gt', String(timeGt));
      if (params.statusCode !== undefined) search.set('statusCode', params.statusCode);
      if (method !== undefined) search.set('method', method);
      if (params.stage !== undefined) search.set('stage', params.stage);
      response.nextPageURL = `/v1/flows/${flow.id}/${step.stepId}/requests?${search.toString()}`;
    }
    return response;
  }

  async getRequest(flowRef: string, stepRef: string, key: string): Promise<FlowStepRequestResponse> {
    const { step } = await this.flowAndStep(flowRef, stepRef);
    const row = await this.trace(step, key);
    if (!row) throw new NotFoundError('request trace', key, 'file_not_found');
    const request = pick<FlowStepRequestResponse['request']>(JSON.parse(row.request), ['method', 'url', 'headers', 'body'], {
      method: 'string',
      url: 'string',
      headers: 'headers',
      body: 'string',
    });
    const response = pick<FlowStepRequestResponse['response']>(JSON.parse(row.response), ['statusCode', 'headers', 'body', 'receivedAt'], {
      statusCode: 'integer',
      headers: 'headers',
      body: 'string',
      receivedAt: 'integer',
    });
    return { request, response, key: reqAndResKeyOf(row), time: row.time };
  }

  async deleteRequests(flowRef: string, stepRef: string, keys: readonly string[], options: DeleteRequestsOptions = {}): Promise<FlowStepRequestsDeleteResponse> {
    const { flow, step } = await this.flowAndStep(flowRef, stepRef);
    if (keys.length === 0) throw new InvalidInputError('keys is not valid: give at least one reqAndResKey', 'keys');
    const deleted: string[] = [];
    const ids: number[] = [];
    const errors: FlowStepRequestsDeleteResponse['errors'] = [];
    for (const key of new Set(keys)) {
      const decoded = decodeId('trace', key);
      const row = decoded ? await this.trace(step, key) : undefined;
      if (!row) {
        errors.push({ key, code: 'file_not_found', message: `request trace not found on step "${step.name}": ${key}` });
        continue;
      }
      deleted.push(reqAndResKeyOf(row));
      ids.push(row.id);
    }
    if (!options.dryRun && ids.length > 0) {
      await this.store.withTransaction(async (tx) => {
        await tx.records.deleteTraces(step.key, ids);
        await this.audit(tx, 'requests.delete', flow, step, ids.length, { keys: deleted.slice(0, 1000) });
      });
    }
    return { deleted, errors };
  }

  // ---- jobs and flows -----------------------------------------------------------------------------

  async searchJobs(flowRef: string, traceKeyPrefix: string, params: JobSearchParams = {}): Promise<FlowJobsSearchResponse> {
    const flow = await this.local.resolveFlow(flowRef);
    if (!traceKeyPrefix) throw new InvalidInputError('traceKeyPrefix is required', 'traceKeyPrefix');
    const limit = clampLimit(params.pageSize ?? 1000);
    const runs: FlowJobsSearchResponse['runs'] = [];
    for (const id of await this.store.records.jobIdsByTraceKeyPrefix(flow.id, traceKeyPrefix, limit)) {
      const job = await this.store.jobs.getJob(id);
      if (!job) continue;
      const run: FlowJobsSearchResponse['runs'][number] = { _id: jobIdOf(job), _flowId: flow.id, type: job.type, status: job.status };
      if (job.startedAt !== null) run.startedAt = iso(job.startedAt);
      if (job.endedAt !== null) run.endedAt = iso(job.endedAt);
      run.numSuccess = job.numSuccess;
      run.numError = job.numError;
      run.numIgnore = job.numIgnore;
      runs.push(run);
    }
    return { runs };
  }

  async setFlowDisabled(flowRef: string, disabled: boolean): Promise<FlowInfo> {
    const flow = await this.local.resolveFlow(flowRef);
    if (flow.removed) throw new RemovedFlowError(flow.name, flow.file, 'enabling or disabling');
    if (flow.disabled !== disabled) {
      await this.store.withTransaction(async (tx) => {
        await tx.catalog.setFlowDisabled(flow.id, disabled);
        await this.audit(tx, disabled ? 'flow.disable' : 'flow.enable', flow, undefined, 1);
      });
    }
    return this.local.getFlow(flow.id);
  }

  // ---- execution logs -----------------------------------------------------------------------------

  /** A flow-run (or retry) job of this flow; a child step job stands for its parent run. */
  private async flowJob(flow: FlowRow, jobId: string): Promise<JobRow> {
    let job = await this.local.resolveJob(jobId);
    if (job.parentId !== null) job = (await this.store.jobs.getJob(job.parentId)) ?? job;
    if (job.flowId !== flow.id) throw new NotFoundError(`job of flow "${flow.name}"`, jobId);
    return job;
  }

  private async stepIds(flow: FlowRow): Promise<Map<number, StepRow>> {
    return new Map((await this.store.catalog.steps(flow.id)).map((s) => [s.key, s]));
  }

  private toEntry(row: LogEntryRow, steps: Map<number, StepRow>): ExecutionLogEntry {
    // The spec's property order: startedAt, recordId, groupId, traceKey, _expOrImpId, status, timeTaken.
    const entry = { startedAt: iso(row.startedAt), recordId: row.recordId, groupId: row.groupId } as ExecutionLogEntry;
    if (row.traceKey !== null) entry.traceKey = row.traceKey;
    entry._expOrImpId = steps.get(row.step)?.stepId ?? String(row.step);
    entry.status = row.status;
    if (row.timeTaken !== null) entry.timeTaken = row.timeTaken;
    return entry;
  }

  private toStep(row: LogEntryRow, steps: Map<number, StepRow>): ExecutionLogStep {
    const out: ExecutionLogStep = {
      _expOrImpId: steps.get(row.step)?.stepId ?? String(row.step),
      recordId: row.recordId,
      groupId: row.groupId,
      status: row.status,
    };
    if (row.timeTaken !== null) out.timeTaken = row.timeTaken;
    out.startedAt = iso(row.startedAt);
    if (row.completedAt !== null) out.completedAt = iso(row.completedAt);
    if (row.stage !== null) out.stage = row.stage;
    return out;
  }

  private async logCursor(job: JobRow, cursor: string, name: 'next' | 'prev'): Promise<{ startedAt: number; id: number }> {
    const decoded = decodeId('logEntry', cursor);
    const row = decoded ? await this.store.records.getLogEntry(decoded.rowId) : undefined;
    if (!decoded || !row || row.job !== job.id || !idMatchesTime(decoded, row.startedAt)) {
      throw new InvalidInputError(`"${cursor}" is not a page cursor of this job's logs (use the ${name}PageUrl as printed)`, name);
    }
    return { startedAt: row.startedAt, id: row.id };
  }

  async listLogs(flowRef: string, jobId: string, params: LogListParams = {}): Promise<ExecutionLogsResponse> {
    const flow = await this.local.resolveFlow(flowRef);
    const job = await this.flowJob(flow, jobId);
    const limit = clampLimit(params.pageSize ?? DEFAULT_PAGE_SIZE);
    const order = params.sortOrder ?? 'desc';
    if (order !== 'asc' && order !== 'desc') throw new InvalidInputError(`sortOrder must be asc or desc, got "${String(order)}"`, 'sortOrder');
    if (params.next !== undefined && params.prev !== undefined) throw new InvalidInputError('give next or prev, not both', 'next');
    const status = logStatus(params.status);
    const stepRows: StepRow[] = [];
    for (const ref of params.stepRefs ?? []) stepRows.push(await this.local.resolveStep(flow, ref));
    const filter = { status, steps: stepRows.map((s) => s.key), traceKeyPrefix: params.traceKeyPrefix };
    let rows: LogEntryRow[];
    let hasNext: boolean;
    let hasPrev: boolean;
    if (params.prev !== undefined) {
      const after = await this.logCursor(job, params.prev, 'prev');
      const back = await this.store.records.listLogEntries(job.id, { ...filter, order: order === 'asc' ? 'desc' : 'asc', after, limit: limit + 1 });
      hasPrev = back.length > limit;
      rows = back.slice(0, limit).reverse();
      hasNext = true;
    } else {
      const after = params.next !== undefined ? await this.logCursor(job, params.next, 'next') : undefined;
      const forward = await this.store.records.listLogEntries(job.id, { ...filter, order, after, limit: limit + 1 });
      hasNext = forward.length > limit;
      rows = forward.slice(0, limit);
      hasPrev = after !== undefined;
    }
    const steps = await this.stepIds(flow);
    const url = (cursor: 'next' | 'prev', row: LogEntryRow) => {
      const search = new URLSearchParams({ pageSize: String(limit), sortOrder: order });
      if (status) search.set('status', status === 'ignored' ? 'ignore' : status);
      if (stepRows.length) search.set('_expOrImpId', stepRows.map((s) => s.stepId).join(','));
      if (params.traceKeyPrefix) search.set('traceKeyPrefix', params.traceKeyPrefix);
      search.set(cursor, encodeId('logEntry', row.id, row.startedAt));
      return `/v1/flows/${flow.id}/jobs/${jobIdOf(job)}/logs?${search.toString()}`;
    };
    const first = rows[0];
    const last = rows[rows.length - 1];
    return {
      logs: rows.map((r) => this.toEntry(r, steps)),
      nextPageUrl: hasNext && last ? url('next', last) : null,
      prevPageUrl: hasPrev && first ? url('prev', first) : null,
    };
  }

  async findLogEntry(flowRef: string, jobId: string, recordId: string, stepRef?: string): Promise<ExecutionLogEntry> {
    const flow = await this.local.resolveFlow(flowRef);
    const job = await this.flowJob(flow, jobId);
    const steps = await this.stepIds(flow);
    const candidates = stepRef !== undefined ? [(await this.local.resolveStep(flow, stepRef)).key] : [...steps.keys()];
    const found = await this.store.records.findLogEntries(job.id, candidates, recordId);
    if (found.length === 0) throw new NotFoundError(`log entry of job ${jobIdOf(job)}`, recordId);
    const atSteps = [...new Set(found.map((r) => r.step))];
    if (atSteps.length > 1) {
      const names = atSteps.map((s) => `"${steps.get(s)?.name ?? s}"`).join(', ');
      throw new InvalidInputError(`record ${recordId} has log entries at several steps (${names}); name the step`, 'step');
    }
    return this.toEntry(found[0]!, steps);
  }

  /** The entry a metadata or data query names: (step, groupId, recordId) within the job. */
  private async entryOf(flow: FlowRow, job: JobRow, stepRef: string, groupId: string, recordId: string): Promise<LogEntryRow> {
    if (!recordId) throw new InvalidInputError('recordId is required', 'recordId');
    if (!groupId) throw new InvalidInputError('groupId is required', 'groupId');
    const step = await this.local.resolveStep(flow, stepRef);
    const entry = (await this.store.records.findLogEntries(job.id, [step.key], recordId)).find((r) => r.groupId === groupId);
    if (!entry) throw new NotFoundError(`log entry at step "${step.name}" of job ${jobIdOf(job)}`, `${recordId} (group ${groupId})`);
    return entry;
  }

  async logMetadata(flowRef: string, jobId: string, query: LogMetadataQuery): Promise<ExecutionLogMetadataResponse> {
    const flow = await this.local.resolveFlow(flowRef);
    const job = await this.flowJob(flow, jobId);
    const anchor = await this.entryOf(flow, job, query._expOrImpId, query.groupId, query.recordId);
    const steps = await this.stepIds(flow);
    if (query.traceKey === undefined || query.traceKey === '') {
      const response: ExecutionLogMetadataResponse = { duplicateTraceKey: false, traceView: false, steps: [this.toStep(anchor, steps)] };
      return anchor.traceKey !== null ? { traceKey: anchor.traceKey, ...response } : response;
    }
    if (anchor.traceKey !== query.traceKey) {
      throw new InvalidInputError(
        `record ${query.recordId} has ${anchor.traceKey === null ? 'no traceKey' : `traceKey "${anchor.traceKey}"`}, not "${query.traceKey}"`,
        'traceKey',
      );
    }
    const entries = await this.store.records.logEntriesByTraceKey(job.id, query.traceKey);
    const recordsPerStep = new Map<number, Set<string>>();
    for (const e of entries) {
      const set = recordsPerStep.get(e.step) ?? new Set<string>();
      set.add(e.recordId);
      recordsPerStep.set(e.step, set);
    }
    const position = (key: number) => steps.get(key)?.position ?? Number.MAX_SAFE_INTEGER;
    entries.sort((a, b) => position(a.step) - position(b.step) || a.startedAt - b.startedAt || a.id - b.id);
    return {
      traceKey: query.traceKey,
      duplicateTraceKey: [...recordsPerStep.values()].some((s) => s.size > 1),
      traceView: true,
      steps: entries.map((e) => this.toStep(e, steps)),
    };
  }

  async logData(flowRef: string, jobId: string, query: LogDataQuery): Promise<ExecutionLogDataResponse> {
    if (!LOG_QUERY_STAGES.includes(query.stage)) {
      throw new InvalidInputError(`stage must be one of ${LOG_QUERY_STAGES.join(', ')}, got "${query.stage}"`, 'stage');
    }
    const flow = await this.local.resolveFlow(flowRef);
    const job = await this.flowJob(flow, jobId);
    const entry = await this.entryOf(flow, job, query._expOrImpId, query.groupId, query.recordId);
    return {
      logs: (await this.store.records.logData(entry.id, query.stage)).map((text) => {
        const value: unknown = JSON.parse(text);
        return { log: value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : { value } };
      }),
    };
  }

  async logChildren(flowRef: string, jobId: string, stepRef: string, recordId: string, params: LogChildrenParams = {}): Promise<FlowJobLogChildrenResponse> {
    const flow = await this.local.resolveFlow(flowRef);
    const job = await this.flowJob(flow, jobId);
    const step = await this.local.resolveStep(flow, stepRef);
    const limit = clampLimit(params.pageSize ?? DEFAULT_PAGE_SIZE);
    const offset = params.offset ?? 0;
    if (!Number.isSafeInteger(offset) || offset < 0) throw new InvalidInputError(`offset must be a whole number ≥ 0, got ${String(offset)}`, 'offset');
    const status = logStatus(params.status);
    if ((await this.store.records.findLogEntries(job.id, [step.key], recordId)).length === 0) {
      throw new NotFoundError(`log entry at step "${step.name}" of job ${jobIdOf(job)}`, recordId);
    }
    const rows = await this.store.records.logChildren(job.id, step.key, recordId, status, offset, limit + 1);
    const steps = await this.stepIds(flow);
    const url = (at: number) => {
      const search = new URLSearchParams({ pageSize: String(limit), offset: String(at) });
      if (status) search.set('status', status === 'ignored' ? 'ignore' : status);
      return `/v1/flows/${flow.id}/jobs/${jobIdOf(job)}/${step.stepId}/logs/${encodeURIComponent(recordId)}/children?${search.toString()}`;
    };
    return {
      children: rows.slice(0, limit).map((r) => {
        const entry = this.toEntry(r, steps);
        return { ...entry, status: entry.status === 'ignored' ? 'ignore' : entry.status };
      }),
      nextPageUrl: rows.length > limit ? url(offset + limit) : null,
      prevPageUrl: offset > 0 ? url(Math.max(0, offset - limit)) : null,
    };
  }

  // ---- CSV --------------------------------------------------------------------------------------

  async exportErrors(flowRef: string, stepRef: string | undefined, options: CsvExportOptions): Promise<TextDownload> {
    // csv-stringify is loaded by the export only, not by every command that opens a backend.
    const { exportErrorsCsv } = await import('./csv.js');
    return exportErrorsCsv(this.local, flowRef, stepRef, options);
  }
}

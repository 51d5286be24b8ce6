import type { FlowStepError, Job, ResolvedFlowStepError } from '../domain/api.js';
import { encodeId, encodeIdAtSeconds } from '../domain/ids.js';
import type { ErrorRow, JobRow, StepRow } from '../store/contract/rows.js';

// Store rows → the API's shapes. Optional fields are omitted, never null, unless the spec
// allows null (tags).

export const iso = (ms: number): string => new Date(ms).toISOString();

export function errorIdOf(row: Pick<ErrorRow, 'id' | 'occurredAt'>): string {
  return encodeId('error', row.id, row.occurredAt);
}

export function toFlowStepError(row: ErrorRow, tagName: (code: string) => string): FlowStepError {
  const out: FlowStepError = {
    errorId: errorIdOf(row),
    occurredAt: iso(row.occurredAt),
    source: row.source,
    code: row.code,
    message: row.message,
  };
  if (row.oIndex !== null) out.oIndex = row.oIndex;
  if (row.job !== null && row.jobCreatedAt !== null) out._flowJobId = encodeId('job', row.job, row.jobCreatedAt);
  if (row.traceKey !== null) out.traceKey = row.traceKey;
  if (row.classification !== null) out.classification = row.classification;
  if (row.classifiedBy !== null) out.classifiedBy = row.classifiedBy;
  if (row.trace !== null && row.traceSeconds !== null) out.reqAndResKey = encodeIdAtSeconds('trace', row.trace, row.traceSeconds);
  if (row.retryData !== null && row.retryDataSeconds !== null) out.retryDataKey = encodeIdAtSeconds('retryData', row.retryData, row.retryDataSeconds);
  if (row.purgeAt !== null) out.purgeAt = iso(row.purgeAt);
  if (row.retryAt !== null) out.retryAt = iso(row.retryAt);
  out.tags = row.tags.map(tagName);
  if (row.assignee !== null) out.assignedTo = row.assignee;
  if (row.assignedBy !== null) out.assignedBy = row.assignedBy;
  if (row.assigneeUser !== null && row.assigneeUserCreatedAt !== null) {
    out._assignedToUserId = encodeId('user', row.assigneeUser, row.assigneeUserCreatedAt);
  }
  return out;
}

export function toResolvedError(row: ErrorRow, tagName: (code: string) => string): ResolvedFlowStepError {
  const out: ResolvedFlowStepError = toFlowStepError(row, tagName);
  if (row.resolvedAt !== null) out.resolvedAt = iso(row.resolvedAt);
  if (row.resolvedBy !== null) out.resolvedBy = row.resolvedBy;
  return out;
}

export function jobIdOf(row: Pick<JobRow, 'id' | 'createdAt'>): string {
  return encodeId('job', row.id, row.createdAt);
}

export function toJob(
  row: JobRow,
  extra: { counts: { open: number; resolved: number }; step?: StepRow | undefined; parent?: JobRow | undefined },
): Job {
  const job: Job = { _id: jobIdOf(row), type: row.type, status: row.status };
  if (row.flowId !== null) job._flowId = row.flowId;
  if (extra.step) {
    if (extra.step.kind === 'import') job._importId = extra.step.stepId;
    else job._exportId = extra.step.stepId;
    job._expOrImpId = extra.step.stepId;
  }
  if (extra.parent) {
    job._parentJobId = jobIdOf(extra.parent);
    job._flowJobId = jobIdOf(extra.parent);
  }
  if (row.startedAt !== null) job.startedAt = iso(row.startedAt);
  if (row.endedAt !== null) job.endedAt = iso(row.endedAt);
  job.createdAt = iso(row.createdAt);
  job.lastModified = iso(row.lastModified);
  if (row.triggeredBy !== null) job.triggeredBy = row.triggeredBy;
  if (row.canceledBy !== null) job.canceledBy = row.canceledBy;
  job.numError = row.numError;
  job.numOpenError = extra.counts.open;
  job.numResolved = extra.counts.resolved;
  job.numSuccess = row.numSuccess;
  job.numIgnore = row.numIgnore;
  if (row.type === 'flow' || row.type === 'export') {
    job.numExport = row.numExport;
    job.numPagesGenerated = row.numPagesGenerated;
  }
  job.numPagesProcessed = row.numPagesProcessed;
  job.doneExporting = row.doneExporting;
  if (row.logMode !== null) job.logMode = row.logMode;
  return job;
}

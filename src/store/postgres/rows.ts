import type { JobStatus, JobType } from '../../domain/api.js';
import type { FlowRow, JobRow, LogEntryRow, RetryDataRow, StepRow, TraceRow } from '../contract/rows.js';
import type { TokenRow } from '../contract/queries.js';
import { num } from './error-columns.js';

// PostgreSQL rows into the contract's row shapes (the same as the SQLite adapter's mappers give).

export type Raw = Record<string, unknown>;

const str = (v: unknown): string | null => (v as string | null | undefined) ?? null;

export function toJobRow(r: Raw): JobRow {
  return {
    id: num(r.id)!,
    type: r.type as JobType,
    status: r.status as JobStatus,
    flowId: str(r.flow_id),
    step: num(r.step),
    parentId: num(r.parent_id),
    retryOf: num(r.retry_of),
    createdAt: num(r.created_at)!,
    startedAt: num(r.started_at),
    endedAt: num(r.ended_at),
    lastModified: num(r.last_modified)!,
    triggeredBy: str(r.triggered_by),
    canceledBy: str(r.canceled_by),
    numError: num(r.num_error)!,
    numSuccess: num(r.num_success)!,
    numIgnore: num(r.num_ignore)!,
    numExport: num(r.num_export)!,
    numPagesGenerated: num(r.num_pages_generated)!,
    numPagesProcessed: num(r.num_pages_processed)!,
    doneExporting: r.done_exporting === true,
    logMode: str(r.log_mode),
    ownerPid: num(r.owner_pid),
    heartbeatAt: num(r.heartbeat_at),
    options: str(r.options),
    note: str(r.note),
  };
}

export function toStepRow(r: Raw): StepRow {
  return {
    key: num(r.id)!,
    flowId: r.flow_id as string,
    stepId: r.step_id as string,
    kind: r.kind as StepRow['kind'],
    name: r.name as string,
    position: num(r.position)!,
  };
}

export function toFlowRow(r: Raw): FlowRow {
  return {
    id: r.id as string,
    name: r.name as string,
    file: r.file as string,
    definition: r.definition as string,
    disabled: (r.disabled_override ?? r.disabled_in_file) === true,
    removed: r.removed === true,
    lastExecutedAt: num(r.last_executed_at),
  };
}

export function toRetryDataRow(r: Raw): RetryDataRow {
  return {
    id: num(r.id)!,
    step: num(r.step)!,
    createdAt: num(r.created_at)!,
    updatedAt: num(r.updated_at)!,
    stage: r.stage as string,
    pgExportId: str(r.pg_export_id),
    oneToMany: r.one_to_many === true,
    pathToMany: str(r.path_to_many),
    childIndex: num(r.child_index),
    traceKey: str(r.trace_key),
    data: r.data as string,
    adaptorResponse: str(r.adaptor_response),
    attempts: num(r.attempts)!,
  };
}

export function toTraceRow(r: Raw): TraceRow {
  return {
    id: num(r.id)!,
    step: num(r.step)!,
    time: num(r.time)!,
    stage: r.stage as string,
    method: r.method as string,
    statusCode: num(r.status_code),
    request: r.request as string,
    response: r.response as string,
  };
}

export function toLogEntry(r: Raw): LogEntryRow {
  return {
    id: num(r.id)!,
    job: num(r.job)!,
    step: num(r.step)!,
    recordId: r.record_id as string,
    groupId: r.group_id as string,
    parentRecordId: str(r.parent_record_id),
    traceKey: str(r.trace_key),
    status: r.status as LogEntryRow['status'],
    stage: str(r.stage),
    startedAt: num(r.started_at)!,
    completedAt: num(r.completed_at),
    timeTaken: num(r.time_taken),
  };
}

export function toTokenRow(r: Raw): TokenRow {
  return {
    id: num(r.id)!,
    userEmail: r.user_email as string,
    name: r.name as string,
    last4: r.last4 as string,
    createdAt: num(r.created_at)!,
    lastUsedAt: num(r.last_used_at),
    revokedAt: num(r.revoked_at),
  };
}

/** jsonb as SQLite's JSON text of it (JSON.stringify's spacing), for columns the callers parse. */
export function jsonText(v: unknown): string | null {
  if (v === null || v === undefined) return null;
  return JSON.stringify(typeof v === 'string' ? JSON.parse(v) : v);
}

/** idSecondsSql (src/domain/ids.ts) in PostgreSQL: the seconds an id of something made at `epochMs` encodes. */
export function pgIdSecondsSql(epochMsExpr: string): string {
  return `(greatest(0, ${epochMsExpr} / 1000) & 4294967295)`;
}

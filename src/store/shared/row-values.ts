import type { AuditEntry } from '../contract/ports.js';
import type { NewLogEntry } from '../contract/rows.js';

// The values of an insert, in its columns' order, for the tables both adapters write alike: one
// list to change when a column is added, whatever each engine's placeholders are.

export const AUDIT_COLUMNS = 'at, actor, action, flow_id, step_id, count, detail';

export function auditValues(entry: AuditEntry): unknown[] {
  return [entry.at, entry.actor, entry.action, entry.flowId ?? null, entry.stepId ?? null, entry.count, entry.detail === undefined ? null : JSON.stringify(entry.detail)];
}

export const LOG_ENTRY_COLUMNS = 'job, step, record_id, group_id, parent_record_id, trace_key, status, stage, started_at, completed_at, time_taken';

export function logEntryValues(entry: NewLogEntry): unknown[] {
  return [entry.job, entry.step, entry.recordId, entry.groupId, entry.parentRecordId, entry.traceKey, entry.status, entry.stage, entry.startedAt, entry.completedAt, entry.timeTaken];
}

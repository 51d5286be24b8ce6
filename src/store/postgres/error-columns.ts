import type { ErrorRow } from '../contract/rows.js';

// The columns an ErrorRow is read from, and the mapping, in one place (the listing, getError).
// bigint columns may come back as strings (node-postgres's default for int8): read through num().

export const ERROR_COLUMNS = `e.id, e.step, e.resolved, e.occurred_at, e.source, e.code, e.message, e.o_index, e.job,
  e.trace_key, e.classification, e.classified_by, e.trace, e.trace_sec, e.retry_data, e.retry_data_sec, e.purge_at, e.retry_at, e.tags,
  e.assignee, e.assigned_by, e.assignee_user, e.resolved_at, e.resolved_by,
  (SELECT j.created_at FROM jobs j WHERE j.id = e.job) AS job_created_at,
  (SELECT u.created_at FROM users u WHERE u.id = e.assignee_user) AS assignee_user_created_at`;

/** A bigint/integer column's value as a number (null stays null). */
export function num(v: unknown): number | null {
  if (v === null || v === undefined) return null;
  return typeof v === 'number' ? v : Number(v);
}

/** errors.tags (jsonb, or JSON text) as the list of codes. */
export function tagList(v: unknown): string[] {
  if (v === null || v === undefined) return [];
  return (typeof v === 'string' ? JSON.parse(v) : v) as string[];
}

type Raw = Record<string, unknown>;

export function toErrorRow(r: Raw): ErrorRow {
  return {
    id: num(r.id)!,
    step: num(r.step)!,
    resolved: r.resolved === true,
    occurredAt: num(r.occurred_at)!,
    source: r.source as string,
    code: r.code as string,
    message: r.message as string,
    oIndex: (r.o_index as string | null) ?? null,
    job: num(r.job),
    jobCreatedAt: num(r.job_created_at),
    traceKey: (r.trace_key as string | null) ?? null,
    classification: (r.classification as string | null) ?? null,
    classifiedBy: (r.classified_by as string | null) ?? null,
    trace: num(r.trace),
    traceSeconds: num(r.trace_sec),
    retryData: num(r.retry_data),
    retryDataSeconds: num(r.retry_data_sec),
    purgeAt: num(r.purge_at),
    retryAt: num(r.retry_at),
    tags: tagList(r.tags),
    assignee: (r.assignee as string | null) ?? null,
    assignedBy: (r.assigned_by as string | null) ?? null,
    assigneeUser: num(r.assignee_user),
    assigneeUserCreatedAt: num(r.assignee_user_created_at),
    resolvedAt: num(r.resolved_at),
    resolvedBy: (r.resolved_by as string | null) ?? null,
  };
}

import type { JobStatus, JobType } from '../../domain/api.js';
import type { StepKind } from '../../flows/load.js';

// Rows as the store keeps them: integer keys, epoch-ms times. The backend turns them into the
// API's shapes (src/backend/shapes.ts); nothing outside the store writes SQL.

/** resolvedBy of an error a failed retry replaced with a newer one (same retryDataKey). */
export const SUPERSEDED_BY = 'superseded';

export interface FlowRow {
  id: string;
  name: string;
  file: string;
  definition: string;
  disabled: boolean;
  removed: boolean;
  lastExecutedAt: number | null;
}

export interface StepRow {
  key: number;
  flowId: string;
  stepId: string;
  kind: StepKind;
  name: string;
  position: number;
}

export interface JobRow {
  id: number;
  type: JobType;
  status: JobStatus;
  flowId: string | null;
  step: number | null;
  parentId: number | null;
  retryOf: number | null;
  createdAt: number;
  startedAt: number | null;
  endedAt: number | null;
  lastModified: number;
  triggeredBy: string | null;
  canceledBy: string | null;
  numError: number;
  numSuccess: number;
  numIgnore: number;
  numExport: number;
  numPagesGenerated: number;
  numPagesProcessed: number;
  doneExporting: boolean;
  logMode: string | null;
  ownerPid: number | null;
  heartbeatAt: number | null;
  options: string | null;
  note: string | null;
}

export type JobCounters = Partial<
  Pick<JobRow, 'numError' | 'numSuccess' | 'numIgnore' | 'numExport' | 'numPagesGenerated' | 'numPagesProcessed'>
>;

/** What checking an explicit error id needs: where it lives, its state, the time its id encodes. */
export interface ErrorKey {
  id: number;
  step: number;
  resolved: boolean;
  occurredAt: number;
}

export interface ErrorRow {
  id: number;
  step: number;
  resolved: boolean;
  occurredAt: number;
  source: string;
  code: string;
  message: string;
  oIndex: string | null;
  job: number | null;
  jobCreatedAt: number | null;
  traceKey: string | null;
  classification: string | null;
  classifiedBy: string | null;
  trace: number | null;
  /** The seconds the reqAndResKey encodes (idSeconds of the trace's time), stored on the error. */
  traceSeconds: number | null;
  retryData: number | null;
  /** The seconds the retryDataKey encodes (idSeconds of the snapshot's created_at), stored on the error. */
  retryDataSeconds: number | null;
  purgeAt: number | null;
  retryAt: number | null;
  tags: string[];
  assignee: string | null;
  assignedBy: string | null;
  assigneeUser: number | null;
  assigneeUserCreatedAt: number | null;
  resolvedAt: number | null;
  resolvedBy: string | null;
}

export interface NewError {
  step: number;
  occurredAt: number;
  source: string;
  code: string;
  message: string;
  oIndex?: string | undefined;
  job?: number | undefined;
  traceKey?: string | undefined;
  classification: string;
  classifiedBy: string;
  trace?: number | undefined;
  retryData?: number | undefined;
  purgeAt?: number | undefined;
  retryAt?: number | undefined;
  tags?: string[] | undefined;
  assignee?: string | undefined;
  assignedBy?: string | undefined;
  assigneeUser?: number | undefined;
}

export interface RetryDataRow {
  id: number;
  step: number;
  createdAt: number;
  updatedAt: number;
  stage: string;
  pgExportId: string | null;
  oneToMany: boolean;
  pathToMany: string | null;
  childIndex: number | null;
  traceKey: string | null;
  data: string;
  adaptorResponse: string | null;
  attempts: number;
}

export interface NewRetryData {
  step: number;
  createdAt: number;
  stage: string;
  pgExportId?: string | undefined;
  traceKey?: string | undefined;
  data: unknown;
  adaptorResponse?: unknown;
  attempts?: number;
}

export interface TraceRow {
  id: number;
  step: number;
  time: number;
  stage: string;
  method: string;
  statusCode: number | null;
  request: string;
  response: string;
}

export interface NewTrace {
  step: number;
  time: number;
  stage: string;
  method: string;
  statusCode?: number | undefined;
  request: { method: string; url: string; headers: Record<string, string>; body?: string };
  response: { statusCode?: number; headers?: Record<string, string>; body?: string; receivedAt?: number };
}

export interface LogEntryRow {
  id: number;
  job: number;
  step: number;
  recordId: string;
  groupId: string;
  parentRecordId: string | null;
  traceKey: string | null;
  status: 'success' | 'error' | 'ignored';
  stage: string | null;
  startedAt: number;
  completedAt: number | null;
  timeTaken: number | null;
}

export type NewLogEntry = Omit<LogEntryRow, 'id'> & { data?: Array<{ stage: string; data: unknown }> };

export interface StepErrorStats {
  step: number;
  open: number;
  lastErrorId: number | null;
  lastErrorAt: number | null;
}

// The demo generator's rows, as flat parameter arrays in each table's column order. Plain values,
// so any store can load them (multi-row INSERTs on SQLite, COPY on PostgreSQL).

export type SyntheticTable = 'errors' | 'retryData' | 'traces';

/** Values per row of each table, in the column order of SYNTHETIC_COLUMNS. */
export const SYNTHETIC_COLUMNS: Record<SyntheticTable, readonly string[]> = {
  errors: ['id', 'step', 'resolved', 'occurred_at', 'source', 'code', 'message', 'o_index', 'job', 'trace_key', 'classification', 'classified_by',
    'trace', 'trace_sec', 'retry_data', 'retry_data_sec', 'purge_at', 'retry_at', 'tags', 'assignee', 'assigned_by', 'assignee_user', 'sig'],
  retryData: ['id', 'step', 'created_at', 'updated_at', 'stage', 'pg_export_id', 'one_to_many', 'trace_key', 'data', 'adaptor_response', 'attempts'],
  traces: ['id', 'step', 'time', 'stage', 'method', 'status_code', 'request', 'response'],
};

export interface SyntheticBatch {
  rows: number;
  /** First and last error row id of the chunk (derived rows are built from them). */
  firstErrorId: number;
  lastErrorId: number;
  /** Per table: arrays of up to `rowsPerStatement` rows each, flattened (the last one may be shorter). */
  tables: Record<SyntheticTable, unknown[][]>;
  /** `${flowJob}:${stepKey}` → errors written for it. */
  counts: Array<[string, number]>;
  /** Signatures first seen in this chunk: (id, step, code, source, classification, template, first_at). */
  sigs: Array<[number, number, string, string, string, string, number]>;
  tagged: number;
  assigned: number;
  retryData: number;
  traces: number;
}

import type { JobCounters } from '../contract/rows.js';

// The jobs table's columns by the contract's field names: both adapters' schemas name them alike
// (the PostgreSQL migrations mirror SQLite's), so a patch or a counter maps the same in both.

export const JOB_FIELDS: Record<string, string> = {
  status: 'status',
  startedAt: 'started_at',
  endedAt: 'ended_at',
  canceledBy: 'canceled_by',
  doneExporting: 'done_exporting',
  ownerPid: 'owner_pid',
  heartbeatAt: 'heartbeat_at',
  note: 'note',
  logMode: 'log_mode',
  options: 'options',
};

export const COUNTER_FIELDS: Record<keyof JobCounters, string> = {
  numError: 'num_error',
  numSuccess: 'num_success',
  numIgnore: 'num_ignore',
  numExport: 'num_export',
  numPagesGenerated: 'num_pages_generated',
  numPagesProcessed: 'num_pages_processed',
};

import type { FlowStepError } from '../domain/api.js';
import { messageLine } from '../domain/text.js';
import { formatAge, formatRetryAt, type Column } from './output.js';

// The table of errors, shared by the open and the resolved listings.

/** The columns of an error, open or resolved. */
export const errorCoreColumns: Column<FlowStepError>[] = [
  { header: 'ERROR ID', value: (e: FlowStepError) => e.errorId },
  { header: 'AGE', value: (e: FlowStepError) => formatAge(e.occurredAt) },
  { header: 'CODE', value: (e: FlowStepError) => e.code },
  { header: 'SOURCE', value: (e: FlowStepError) => e.source },
  { header: 'CLASS', value: (e: FlowStepError) => e.classification ?? '-' },
  { header: 'MESSAGE', value: (e: FlowStepError) => messageLine(e.message), flex: true },
  { header: 'TAGS', value: (e: FlowStepError) => (e.tags && e.tags.length ? e.tags.join(',') : '-') },
  { header: 'ASSIGNEE', value: (e: FlowStepError) => e.assignedTo ?? '-' },
];

export const errorColumns: Column<FlowStepError>[] = [...errorCoreColumns, { header: 'RETRY AT', value: (e) => formatRetryAt(e.retryAt) }];

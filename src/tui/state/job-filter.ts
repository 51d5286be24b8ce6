import type { JobListParams } from '../../backend/contract/index.js';
import { JOB_STATUSES, JOB_TYPES, type JobStatus, type JobType } from '../../domain/api.js';

// The jobs view's filter, the flags of `jobs list` as words: `type:retry status:failed by:me
// flow:"Shop orders to ERP"`. `by:me` is the operator; `mine` alone says the same.

export const JOB_FILTER_HINT = 'type:retry status:failed by:me|auto flow:<name> · mine';

export const JOB_FILTER_SUGGESTIONS: readonly string[] = [
  'mine',
  'by:me',
  'by:auto',
  ...JOB_TYPES.map((t) => `type:${t}`),
  ...JOB_STATUSES.map((s) => `status:${s}`),
  'flow:',
];

/** The list parameters of a filter text, or why it does not parse (one line, the operator's words). */
export function parseJobFilter(text: string, operator: string | undefined): { params: Omit<JobListParams, 'limit' | 'before'> } | { error: string } {
  const params: Omit<JobListParams, 'limit' | 'before'> = {};
  const words = text.match(/\S+:"[^"]*"|\S+/g) ?? [];
  for (const word of words) {
    if (word === 'mine') {
      if (!operator) return { error: 'who you are is not set (FLOWDECK_USER or config user.email): write by:<email>' };
      params.triggeredBy = operator;
      continue;
    }
    const m = /^(type|status|by|flow):(.*)$/.exec(word);
    const value = m?.[2]?.replace(/^"(.*)"$/, '$1') ?? '';
    if (!m || value === '') return { error: `"${word}": write ${JOB_FILTER_HINT}` };
    if (m[1] === 'type') {
      if (!JOB_TYPES.includes(value as JobType)) return { error: `no job type "${value}" (types: ${JOB_TYPES.join(', ')})` };
      params.type = value as JobType;
    } else if (m[1] === 'status') {
      if (!JOB_STATUSES.includes(value as JobStatus)) return { error: `no job status "${value}" (statuses: ${JOB_STATUSES.join(', ')})` };
      params.status = value as JobStatus;
    } else if (m[1] === 'by') {
      if (value === 'me' && !operator) return { error: 'who you are is not set (FLOWDECK_USER or config user.email): write by:<email>' };
      params.triggeredBy = value === 'me' ? operator! : value;
    } else {
      params.flowRef = value;
    }
  }
  return { params };
}

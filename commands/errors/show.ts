import { Command } from 'commander';
import { print, withBackend, type CommandIO } from '../../src/cli/context.js';
import { formatAge, json } from '../../src/cli/output.js';
import { prettyText } from '../../src/domain/text.js';
import type { ErrorDetail } from '../../src/backend/contract/index.js';

export function describeError(detail: ErrorDetail): string {
  const e = detail.error;
  const at = (iso: string | undefined) => (iso ? `${iso} (${formatAge(iso)})` : '-');
  const rows: Array<[string, string | undefined]> = [
    ['Error', e.errorId],
    ['State', detail.resolved ? 'resolved' : 'open'],
    ['Flow', `${detail.flowName} (${detail.flowId})`],
    ['Step', `${detail.stepName} (${detail.stepId})`],
    ['Occurred', at(e.occurredAt)],
    ['Source', e.source],
    ['Code', e.code],
    ['Class', e.classification ? `${e.classification}${e.classifiedBy ? ` (by ${e.classifiedBy})` : ''}` : undefined],
    ['Record', e.oIndex !== undefined ? `#${e.oIndex}` : undefined],
    ['Trace key', e.traceKey],
    ['Job', e._flowJobId],
    ['Retry data', e.retryDataKey ?? 'none (cannot be retried record by record)'],
    ['Request', e.reqAndResKey],
    ['Retry at', e.retryAt ? at(e.retryAt) : undefined],
    ['Purge at', e.purgeAt ? at(e.purgeAt) : undefined],
    ['Tags', e.tags && e.tags.length ? e.tags.join(', ') : '-'],
    ['Assignee', e.assignedTo ? `${e.assignedTo}${e.assignedBy ? ` (by ${e.assignedBy})` : ''}` : '-'],
    ['Assignee id', e._assignedToUserId],
    ['Resolved', detail.resolved ? `${at(e.resolvedAt)}${e.resolvedBy ? ` by ${e.resolvedBy}` : ''}` : undefined],
  ];
  const label = Math.max(...rows.map(([k]) => k.length)) + 2;
  const lines = rows.filter(([, v]) => v !== undefined).map(([k, v]) => `${`${k}:`.padEnd(label)}${v}`);
  lines.push('Message:');
  lines.push(...prettyText(e.message).split('\n').map((l) => `  ${l}`));
  return lines.join('\n');
}

export function errorsShowCommand(io: CommandIO): Command {
  return new Command('show')
    .description('show one error (open or resolved) with every field')
    .argument('<errorId>', 'the errorId')
    .option('--json', 'print the FlowStepError (or resolved error) as JSON')
    .action(async (errorId: string, opts: { json?: boolean }) => {
      await withBackend(io, async (backend) => {
        const detail = await backend.triage.getError(errorId);
        print(io, opts.json ? json(detail.error) : describeError(detail));
      });
    });
}

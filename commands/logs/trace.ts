import { Command } from 'commander';
import { print, withBackend, width, type CommandIO } from '../../src/cli/context.js';
import { json, renderTable } from '../../src/cli/output.js';
import type { ExecutionLogMetadataResponse, ExecutionLogStep } from '../../src/domain/api.js';
import { formatTook, stepNames } from './list.js';

export function describeTrace(meta: ExecutionLogMetadataResponse, names: Map<string, string>, maxWidth: number): string {
  const head = meta.traceView
    ? `traceKey ${meta.traceKey} across ${meta.steps.length} entr${meta.steps.length === 1 ? 'y' : 'ies'}`
    : 'this record has no traceKey: only its own step';
  const lines = [head];
  if (meta.duplicateTraceKey) lines.push('warning: this traceKey is on more than one record at a step; the view may mix records');
  lines.push(
    '',
    renderTable(
      meta.steps,
      [
        { header: 'STEP', value: (s: ExecutionLogStep) => names.get(s._expOrImpId) ?? s._expOrImpId },
        { header: 'RECORD', value: (s: ExecutionLogStep) => s.recordId },
        { header: 'STATUS', value: (s: ExecutionLogStep) => s.status },
        { header: 'STAGE', value: (s: ExecutionLogStep) => s.stage ?? '-' },
        { header: 'STARTED', value: (s: ExecutionLogStep) => s.startedAt ?? '-' },
        { header: 'TOOK', value: (s: ExecutionLogStep) => formatTook(s.timeTaken), align: 'right' },
      ],
      maxWidth,
    ),
  );
  return lines.join('\n');
}

export function logsTraceCommand(io: CommandIO): Command {
  return new Command('trace')
    .description('follow one record through every step of a run (by its traceKey)')
    .argument('<flow>', 'flow id or name')
    .argument('<job>', 'flow job id')
    .argument('<recordId>', 'a recordId from `logs list`')
    .option('--step <step>', 'the step of the record, when its recordId is at several')
    .option('--json', 'print ExecutionLogMetadataResponse')
    .action(async (flow: string, job: string, recordId: string, opts: { step?: string; json?: boolean }) => {
      await withBackend(io, async (backend) => {
        const records = backend.records;
        const entry = await records.findLogEntry(flow, job, recordId, opts.step);
        const meta = await records.logMetadata(flow, job, {
          _expOrImpId: entry._expOrImpId,
          groupId: entry.groupId,
          recordId: entry.recordId,
          ...(entry.traceKey !== undefined ? { traceKey: entry.traceKey } : {}),
        });
        if (opts.json) return print(io, json(meta));
        print(io, describeTrace(meta, await stepNames(backend, flow), width(io)));
      });
    });
}

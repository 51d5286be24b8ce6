import { writeFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import type { JobDetail } from '../../src/backend/contract/index.js';
import { CanceledError, meanwhileNote, plural, preview } from '../../src/cli/bulk.js';
import { confirm } from '../../src/cli/confirm.js';
import { followJob } from '../../src/backend/follow-job.js';
import { print, withBackend, type CommandIO } from '../../src/cli/context.js';
import { formatDuration, parseDurationMs, parseNumberIn, parsePositiveInt, parseRate } from '../../src/cli/options.js';
import { formatCount, json } from '../../src/cli/output.js';
import { assertWritableFile } from '../../src/cli/input.js';
import { backoffFromFlags, checkReportFlags, type RetryFlags } from '../../src/cli/retry-flags.js';
import { makeProgress } from '../../src/cli/progress.js';
import { addSelectionOptions, selectionFromOptions, type SelectionOptions } from '../../src/cli/selection.js';
import { DEFAULT_BACKOFF } from '../../src/domain/backoff.js';
import { heldByMessage } from '../../src/backend/held-message.js';
import { ConflictError, JobOutcomeError, NothingToDoError } from '../../src/domain/errors.js';
import { stripChildren } from '../jobs/show.js';
import type { RetryReport } from '../../src/backend/contract/index.js';

interface RetryOptions extends SelectionOptions, RetryFlags {
  rate?: number;
}

export function retrySummary(job: JobDetail, counts: RetryReport['summary']): string {
  const meanwhile = counts.resolvedMeanwhile ? `, ${formatCount(counts.resolvedMeanwhile)} resolved meanwhile (left as they were)` : '';
  return `Retry job ${job._id} ${job.status}: ${formatCount(counts.resolved)} resolved, ${formatCount(counts.failed)} still failing, ${formatCount(counts.skipped)} skipped${meanwhile}${counts.pending ? `, ${formatCount(counts.pending)} pending` : ''}.`;
}

/** Nothing had retry data to re-feed: said in the operator's words, exit 1. */
function nothingToRetry(errorIds: readonly string[], alreadyQueued: number, heldBy: readonly string[] = []): NothingToDoError {
  if (alreadyQueued > 0) return new NothingToDoError(heldByMessage(heldBy), 'retry_in_progress');
  const which = errorIds.length === 1 ? `error ${errorIds[0]} has no` : 'no selected open error has';
  return new NothingToDoError(`${which} retry data (a connection failure has no record to re-feed; run the flow again to recover it): nothing was queued`, 'no_retrydata_found');
}

export function errorsRetryCommand(io: CommandIO): Command {
  const command = new Command('retry')
    .description('re-feed stored snapshots into the flow as a durable retry job')
    .argument('<flow>', 'flow id or name')
    .argument('<step>', 'step (import or lookup) id or name')
    .argument('[ids...]', 'retryDataKeys or errorIds to retry (or --all, or filters)')
    .addOption(new Option('--backoff <strategy>', 'space attempts of transiently failing records').choices(['exponential']))
    .option('--max-attempts <n>', 'attempts per record with --backoff', parsePositiveInt('max-attempts', 100), 5)
    .addOption(new Option('--base-delay <duration>', 'first back-off delay (500ms, 2s, 1m)').argParser(parseDurationMs('base-delay')).default(DEFAULT_BACKOFF.baseDelayMs, formatDuration(DEFAULT_BACKOFF.baseDelayMs)))
    .option('--factor <x>', 'back-off growth factor', parseNumberIn('factor', 1, 10), DEFAULT_BACKOFF.factor)
    .addOption(new Option('--max-delay <duration>', 'cap of a back-off delay (30s, 5m)').argParser(parseDurationMs('max-delay')).default(DEFAULT_BACKOFF.maxDelayMs, formatDuration(DEFAULT_BACKOFF.maxDelayMs)))
    .option('--jitter <0..1>', 'share of each delay randomised', parseNumberIn('jitter', 0, 1), DEFAULT_BACKOFF.jitter)
    .option('--rate <n/s>', 'at most this many records per second', parseRate)
    .option('--wait', 'run the job here with a progress bar and end with a summary')
    .option('--report <file>', 'with --wait: write the outcome of every key as JSON');
  addSelectionOptions(command);
  return command.action(async (flow: string, step: string, ids: string[], opts: RetryOptions) => {
    const selection = selectionFromOptions(ids, opts);
    const backoff = backoffFromFlags(opts, (key) => command.getOptionValueSource(key) === 'cli');
    checkReportFlags(opts);
    if (opts.report !== undefined) assertWritableFile(opts.report, 'report');
    await withBackend(io, async (backend) => {
      if (opts.dryRun) {
        // Computed like the retry itself (same selection and checks, records queued elsewhere left out), so it names what would be queued.
        const would = await backend.retries.preview(flow, step, selection);
        if (opts.json) return print(io, json(would));
        const queued = would.alreadyQueued ? `, ${formatCount(would.alreadyQueued)} already queued by another retry job` : '';
        return print(io, `Would retry ${plural(would.count, 'record')}${queued} (dry run, nothing changed)${preview(would.retryDataKeys)}`);
      }
      // What will actually be retried is counted before asking (records with retry data, less those
      // another job has queued), and the retry then takes exactly that confirmed set.
      let target = selection;
      let confirmedRecords: number | undefined;
      if (!opts.yes || ids.length > 0) {
        const would = await backend.retries.preview(flow, step, selection);
        if (would.count === 0) throw nothingToRetry(selection.errorIds ?? [], would.alreadyQueued, would.heldBy);
        if (ids.length === 0 && would.count > 1) {
          const left = would.alreadyQueued ? ` (${formatCount(would.alreadyQueued)} more already queued by another retry job)` : '';
          if (!(await confirm(io, `Retry ${plural(would.count, 'record')}${left}?`, { yes: opts.yes }))) throw new CanceledError();
          target = { errorIds: would.errorsToReturn, confirmed: true };
          confirmedRecords = would.count;
        }
      }
      const queued = await backend.retries.retry(flow, step, target, {
        ...(backoff ? { backoff } : {}),
        ...(opts.rate ? { ratePerSecond: opts.rate } : {}),
      });
      if (!queued) throw nothingToRetry(selection.errorIds ?? [], 0);
      const queuedRecords = (await backend.retries.recordCounts(queued._id))?.total ?? 0;
      const gone = confirmedRecords === undefined ? '' : meanwhileNote(confirmedRecords, queuedRecords, 'resolved or queued by another job meanwhile');
      if (opts.wait || gone) io.stderr.write(`Queued ${plural(queuedRecords, 'record')} (job ${queued._id}).${gone}\n`);
      let job = queued;
      if (opts.wait) {
        const progress = makeProgress(io.stderr, queuedRecords);
        progress.update(queued, true);
        job = await followJob(backend, queued._id, { onProgress: (j) => progress.update(j) }).catch((e: unknown) => {
          progress.interrupted();
          throw e;
        });
        progress.done();
      }
      if (!opts.wait) {
        if (opts.json) return print(io, json(stripChildren(job)));
        return print(io, `Queued retry job ${job._id} (${plural(queuedRecords, 'record')}). Follow it with: flowdeck jobs wait ${job._id}`);
      }
      const report = await backend.retries.retryReport(job._id);
      if (opts.report) {
        try {
          writeFileSync(opts.report, `${json(report)}\n`);
        } catch (e) {
          // The path was checked before the job ran; it can still fail now (disk full, removed meanwhile).
          throw new ConflictError(`retry job ${job._id} ran, but its report could not be written to ${opts.report} (${(e as Error).message}); see flowdeck jobs show ${job._id}`, 'report_not_written');
        }
      }
      if (opts.json) print(io, json(stripChildren(job)));
      else print(io, retrySummary(job, report.summary));
      // 0 only when every record is done: a script must notice records still failing.
      if (job.status !== 'completed' || report.summary.failed > 0 || report.summary.pending > 0) {
        throw new JobOutcomeError(`retry job ${job._id} ${job.status === 'completed' ? `left ${plural(report.summary.failed + report.summary.pending, 'record')} failing` : job.status}`);
      }
    });
  });
}

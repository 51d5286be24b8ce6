import { createWriteStream, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { finished } from 'node:stream/promises';
import { tmpdir } from 'node:os';
import { join, resolve as resolvePath } from 'node:path';
import { structuredPatch } from 'diff';
import type { JobDetail } from '../backend/contract/index.js';
import type { FlowStepRetryData } from '../domain/api.js';
import { DEFAULT_BACKOFF } from '../domain/backoff.js';
import { InvalidInputError } from '../domain/errors.js';
import { parsePatchDocument, parseSetArg, parseUnsetArg, type PatchOp } from '../domain/json-patch.js';
import type { TuiBackend } from './backend.js';
import type { UIActions } from './context.js';
import { formatCount, plural } from './format.js';
import type { StyledLine } from './state/prompt.js';
import type { ErrorSelection } from '../backend/contract/index.js';
import { saveDownload } from '../backend/download.js';

// What the keys on errors do (resolve, reopen, retry, assign, tag, edit and patch snapshots,
// export), shared by the errors table and the error detail. Each one: work out how many errors the
// selection means, confirm bulk work with that count, call the backend once, and report the
// outcome in the footer. Failures are reported, never thrown at the view.

export interface Target {
  flowId: string;
  stepId: string;
  stepName: string;
  selection: ErrorSelection;
  tab: 'open' | 'resolved';
  /** Known when the selection is explicit ids. */
  count?: number;
}

export interface ActionContext {
  backend: TuiBackend;
  ui: UIActions;
}

export const TUI_BACKOFF = { ...DEFAULT_BACKOFF, maxAttempts: 5 };

const EMAIL = /^[^\s@"(),:;<>[\]\\]+@[^\s@"(),:;<>[\]\\]+$/;

function describeBackoff(): string {
  const b = TUI_BACKOFF;
  return `${b.maxAttempts} attempts, ${b.baseDelayMs / 1000}s ×${b.factor}, at most ${Math.round(b.maxDelayMs / 60_000)}m apart`;
}

/** A set counted (and, when it is more than one, confirmed) for an action: exactly what it acts on. */
export interface CountedSet {
  n: number;
  /** The counted errors by id (confirmed: those changed meanwhile are skipped, not refused). */
  selection: ErrorSelection;
}

/**
 * The errors a selection means now, by id: ids are taken as given; a filter or mark-all with a dry
 * run, whose ids then are the set asked about and acted on (errors that automatic retries add while
 * the question is open are not reached).
 */
export async function countSelection(ctx: ActionContext, t: Target): Promise<CountedSet> {
  if (t.selection.errorIds) return { n: t.count ?? t.selection.errorIds.length, selection: t.selection.errorIds.length > 1 ? { ...t.selection, confirmed: true } : t.selection };
  const api = ctx.backend.triage;
  const dry = t.tab === 'open'
    ? await api.resolve(t.flowId, t.stepId, t.selection, { dryRun: true })
    : await api.reopen(t.flowId, t.stepId, t.selection, { dryRun: true });
  return { n: dry.errorsToReturn.length, selection: { errorIds: dry.errorsToReturn, confirmed: true } };
}

/** " 12 of the 66,292 were resolved meanwhile and left alone." when fewer than confirmed changed. */
export function meanwhile(confirmed: number, acted: number, what = 'resolved or changed meanwhile'): string {
  const gone = confirmed - acted;
  return gone > 0 ? ` ${formatCount(gone)} of the ${formatCount(confirmed)} ${gone === 1 ? 'was' : 'were'} ${what} and left alone.` : '';
}

async function confirmBulk(ctx: ActionContext, t: Target, message: (n: string) => string): Promise<CountedSet | undefined> {
  const explicit = t.selection.errorIds !== undefined;
  if (!explicit) ctx.ui.progress('Counting the errors that match…');
  const counted = await countSelection(ctx, t);
  if (counted.n === 0) {
    ctx.ui.info('No errors match: nothing to do.');
    return undefined;
  }
  // One error under the cursor is acted on at once; anything more asks first, with the count.
  if (explicit && counted.n === 1 && (t.selection.errorIds?.length ?? 0) <= 1) return counted;
  const answer = await ctx.ui.ask({ kind: 'confirm', message: message(plural(counted.n, 'error')) });
  if (!answer?.yes) {
    ctx.ui.info('Canceled: nothing changed.');
    return undefined;
  }
  return counted;
}

async function guarded<T>(ctx: ActionContext, work: () => Promise<T>): Promise<T | undefined> {
  try {
    return await work();
  } catch (e) {
    ctx.ui.fail(e);
    return undefined;
  }
}

/** Resolves; returns the errorIds that moved to resolved. */
export function resolveErrors(ctx: ActionContext, t: Target): Promise<string[] | undefined> {
  return guarded(ctx, async () => {
    const set = await confirmBulk(ctx, t, (c) => `Resolve ${c}?`);
    if (set === undefined) return undefined;
    ctx.ui.progress(`Resolving ${plural(set.n, 'error')}…`);
    const done = await ctx.backend.triage.resolve(t.flowId, t.stepId, set.selection);
    ctx.ui.success(`Resolved ${plural(done.errorsToReturn.length, 'error')}.${meanwhile(set.n, done.errorsToReturn.length, 'resolved meanwhile')}`);
    ctx.ui.touch();
    return done.errorsToReturn;
  });
}

export function reopenErrors(ctx: ActionContext, t: Target): Promise<string[] | undefined> {
  return guarded(ctx, async () => {
    const set = await confirmBulk(ctx, t, (c) => `Reopen ${c}?`);
    if (set === undefined) return undefined;
    ctx.ui.progress(`Reopening ${plural(set.n, 'error')}…`);
    const done = await ctx.backend.triage.reopen(t.flowId, t.stepId, set.selection);
    ctx.ui.success(`Reopened ${plural(done.errorsToReturn.length, 'error')}.${meanwhile(set.n, done.errorsToReturn.length, 'reopened or deleted meanwhile')}`);
    ctx.ui.touch();
    return done.errorsToReturn;
  });
}

/** Whether a mark-all selection matches no open error at all (an empty filtered list), not only none with retry data. */
async function noErrorSelected(ctx: ActionContext, t: Target): Promise<boolean> {
  if (t.selection.errorIds) return t.selection.errorIds.length === 0;
  const query = t.selection.all ? undefined : t.selection.query;
  return (await ctx.backend.countErrors(t.flowId, t.stepId, query ? { query } : {})) === 0;
}

/** Queues a retry job (the background worker runs it) and follows it. */
export function retryErrors(ctx: ActionContext, t: Target, backoff: boolean, maxRowId: number): Promise<JobDetail | undefined> {
  return guarded(ctx, async () => {
    const how = backoff ? ` with exponential back-off (${describeBackoff()})` : '';
    // What will be retried is counted first: records with retry data, less those another job has queued.
    const countRecords = async (): Promise<CountedSet & { errors: number; skipped: number }> => {
      const would = await ctx.backend.retries.preview(t.flowId, t.stepId, t.selection);
      const selected = t.selection.errorIds ? t.selection.errorIds.length : would.errorsToReturn.length;
      return { n: would.count, selection: { errorIds: would.errorsToReturn, confirmed: true }, errors: would.errorsToReturn.length, skipped: Math.max(0, selected - would.errorsToReturn.length) + would.alreadyQueued };
    };
    const single = t.selection.errorIds?.length === 1;
    ctx.ui.progress('Counting the records to retry…');
    const counted = await countRecords();
    if (counted.n === 0) {
      ctx.ui.info(single
        ? 'Nothing to retry: this error has no retry data (a connection failure: run the flow again to recover it).'
        : (await noErrorSelected(ctx, t))
          ? `Nothing to retry: there are no errors to retry${t.selection.query?.trim() && !t.selection.all ? ` (none matches ${t.selection.query.trim()})` : ''}.`
          : 'Nothing to retry: no selected error has retry data, or another retry job has them queued.');
      return undefined;
    }
    if (!single || backoff) {
      const left = counted.skipped ? ` (${plural(counted.skipped, 'selected error')} without retry data or already queued left out)` : '';
      const answer = await ctx.ui.ask({ kind: 'confirm', message: `Retry ${plural(counted.n, 'record')}${how}${left}?` });
      if (!answer?.yes) return void ctx.ui.info('Canceled: nothing retried.');
    }
    const n = counted.n;
    ctx.ui.progress(`Queueing a retry of ${plural(n, 'record')}…`);
    const job = await ctx.backend.retries.retry(t.flowId, t.stepId, counted.selection, backoff ? { backoff: TUI_BACKOFF } : {});
    const records = job ? ((await ctx.backend.retries.recordCounts(job._id))?.total ?? n) : n;
    if (!job) {
      ctx.ui.info('Nothing to retry: the counted records were resolved or queued by another job meanwhile.');
      return undefined;
    }
    ctx.ui.watchRetry({
      jobId: job._id,
      flowId: t.flowId,
      stepId: t.stepId,
      errorIds: new Set(counted.selection.errorIds),
      maxRowId,
      total: n,
      job,
    });
    ctx.ui.success(`Retry job ${job._id} queued for ${plural(records, 'record')}; it runs in the background (: jobs to follow it).${meanwhile(n, records, 'resolved or queued by another job meanwhile')}`);
    return job;
  });
}

/** Assign to a user picked from the list or typed as an email, or unassign. */
export function assignErrors(ctx: ActionContext, t: Target): Promise<boolean> {
  return guarded(ctx, async () => {
    const UNASSIGN = '\u0000unassign';
    const answer = await ctx.ui.ask(async () => {
      const users = await ctx.backend.triage.listUsers();
      return {
        kind: 'pick' as const,
        title: 'Assign to',
        options: [
          ...users.filter((u) => !u.synthetic).map((u) => ({ label: u.email, value: u.email, ...(u.name ? { hint: u.name } : {}) })),
          ...users.filter((u) => u.synthetic).map((u) => ({ label: u.email, value: u.email, hint: 'not a known user' })),
          { label: '— unassign —', value: UNASSIGN },
        ],
        freeText: { label: 'Assign to', validate: (v: string) => (EMAIL.test(v.trim()) ? undefined : `"${v}" is not an email address`) },
        hint: 'or type an email',
      };
    }, 'Loading users…');
    if (!answer) return false;
    const unassign = answer.value === UNASSIGN;
    const set = await confirmBulk(ctx, t, (c) => (unassign ? `Unassign ${c}?` : `Assign ${c} to ${answer.value}?`));
    if (set === undefined) return false;
    if (unassign) {
      const done = await ctx.backend.triage.unassign(t.flowId, t.stepId, set.selection);
      ctx.ui.success(`Unassigned ${plural(done.errorsToReturn.length, 'error')}.`);
    } else {
      const done = await ctx.backend.triage.assign(t.flowId, t.stepId, set.selection, answer.value);
      ctx.ui.success(`Assigned ${plural(done.errorsToReturn.length, 'error')} to ${answer.value}.`);
    }
    ctx.ui.touch();
    return true;
  }).then((ok) => ok === true);
}

/** Add or remove catalog tags; `current` is what the rows on hand carry (for the picker's notes). */
export function tagErrors(ctx: ActionContext, t: Target, current: ReadonlyArray<readonly string[] | null | undefined> = []): Promise<boolean> {
  return guarded(ctx, async () => {
    const answer = await ctx.ui.ask(async () => {
      const catalog = await ctx.backend.triage.listTags();
      return {
        kind: 'tags' as const,
        title: `Tags (${t.selection.errorIds ? plural(t.selection.errorIds.length, 'error') : 'every error matching'})`,
        tags: catalog.map((tag) => {
          const having = current.filter((tags) => tags?.includes(tag.tag)).length;
          const note = current.length === 1 ? (having ? 'has it' : '') : current.length > 1 ? `${having} of ${current.length} have it` : '';
          return { id: tag.tag, name: tag.tag, ...(note ? { note } : {}) };
        }),
      };
    }, 'Loading tags…');
    if (!answer) return false;
    if (answer.add.length === 0 && answer.remove.length === 0) {
      ctx.ui.info('No tag changed.');
      return false;
    }
    const change = [answer.add.length ? `add ${answer.add.join(', ')}` : '', answer.remove.length ? `remove ${answer.remove.join(', ')}` : ''].filter(Boolean).join(' and ');
    const set = await confirmBulk(ctx, t, (c) => `${change[0]!.toUpperCase()}${change.slice(1)} on ${c}?`);
    if (set === undefined) return false;
    const done = await ctx.backend.triage.setTags(t.flowId, t.stepId, { ...set.selection, resolved: t.tab === 'resolved' }, {
      ...(answer.add.length ? { add: answer.add } : {}),
      ...(answer.remove.length ? { remove: answer.remove } : {}),
    });
    const changed = done.errorsToReturn.errors.length + done.errorsToReturn.resolved.length;
    ctx.ui.success(`Tags: ${change} — ${plural(changed, 'error')} changed.`);
    ctx.ui.touch();
    return true;
  }).then((ok) => ok === true);
}

/** A unified diff of two texts as styled lines (no file header). */
export function diffLines(before: string, after: string, name: string): StyledLine[] {
  const patch = structuredPatch(`a/${name}`, `b/${name}`, before, after, undefined, undefined, { context: 3 });
  const lines: StyledLine[] = [];
  for (const hunk of patch.hunks) {
    lines.push({ text: `@@ -${hunk.oldStart},${hunk.oldLines} +${hunk.newStart},${hunk.newLines} @@`, kind: 'header' });
    for (const l of hunk.lines) lines.push({ text: l, kind: l.startsWith('+') ? 'add' : l.startsWith('-') ? 'remove' : 'context' });
  }
  return lines;
}

const pretty = (v: unknown) => `${JSON.stringify(v, null, 2)}\n`;

/** Edit one error's snapshot in $EDITOR: validated, a diff to review, saved with putRetryData. */
export function editSnapshot(ctx: ActionContext, flowId: string, stepId: string, errorId: string, retryDataKey: string | undefined): Promise<boolean> {
  return guarded(ctx, async () => {
    if (!retryDataKey) {
      ctx.ui.info('This error has no retry data (a connection failure): there is no snapshot to edit.');
      return false;
    }
    const before = await ctx.backend.records.getRetryData(flowId, stepId, retryDataKey);
    const dir = mkdtempSync(join(tmpdir(), 'flowdeck-edit-'));
    const file = join(dir, `${before.retryDataKey}.json`);
    const original = pretty(before);
    writeFileSync(file, original);
    let keep = false;
    try {
      ctx.ui.progress(`Editing retry data ${before.retryDataKey} in your editor…`);
      await ctx.ui.editFile(file);
      ctx.ui.progress('Checking your edit…');
      const text = readFileSync(file, 'utf8');
      if (text === original) {
        ctx.ui.info('No changes: nothing saved.');
        return false;
      }
      let edited: unknown;
      try {
        edited = JSON.parse(text);
      } catch (e) {
        keep = true;
        throw new InvalidInputError(`your edit is not valid JSON (${(e as Error).message}); it is kept in ${file}`);
      }
      let after: FlowStepRetryData;
      try {
        after = await ctx.backend.records.putRetryData(flowId, stepId, retryDataKey, edited, { dryRun: true });
      } catch (e) {
        keep = true;
        if (e instanceof InvalidInputError) throw new InvalidInputError(`${e.message} (your edit is kept in ${file})`, e.field);
        throw e;
      }
      const lines = diffLines(original, pretty(after), `${before.retryDataKey}.json`);
      if (lines.length === 0) {
        ctx.ui.info('No changes: nothing saved.');
        return false;
      }
      const answer = await ctx.ui.ask({ kind: 'review', title: `Retry data ${before.retryDataKey} of error ${errorId}`, lines, question: 'Save this snapshot?' });
      if (!answer?.yes) {
        keep = true;
        ctx.ui.info(`Not saved; your edit is kept in ${file}`);
        return false;
      }
      await ctx.backend.records.putRetryData(flowId, stepId, retryDataKey, edited);
      ctx.ui.success(`Saved retry data ${before.retryDataKey}. The error stays open until it is retried (r) or resolved (x).`);
      ctx.ui.touch();
      return true;
    } finally {
      if (!keep) rmSync(dir, { recursive: true, force: true });
    }
  }).then((ok) => ok === true);
}

/** `set data.a=1; unset data.b` or a JSON Patch array, as patch operations. */
export function parsePatchText(text: string): PatchOp[] {
  const trimmed = text.trim();
  if (!trimmed) throw new InvalidInputError('say what to change: set data.path=value, unset data.path, or a JSON Patch array');
  if (trimmed.startsWith('[')) {
    let doc: unknown;
    try {
      doc = JSON.parse(trimmed);
    } catch (e) {
      throw new InvalidInputError(`the JSON Patch does not parse: ${(e as Error).message}`);
    }
    return parsePatchDocument(doc);
  }
  return trimmed
    .split(/\s*;\s*/)
    .filter(Boolean)
    .map((part) => {
      const m = /^(set|unset)\s+(.+)$/i.exec(part);
      if (!m) throw new InvalidInputError(`"${part}": write set data.path=value or unset data.path`);
      return m[1]!.toLowerCase() === 'set' ? parseSetArg(m[2]!) : parseUnsetArg(m[2]!);
    });
}

/** Bulk snapshot patch for the selection: dry run, per-snapshot diff to review, then saved. */
export function patchSnapshots(ctx: ActionContext, t: Target): Promise<boolean> {
  return guarded(ctx, async () => {
    const answer = await ctx.ui.ask({
      kind: 'text',
      label: 'patch:',
      hint: 'set data.path=value; unset data.path — or a JSON Patch array',
      validate: (v) => {
        try {
          parsePatchText(v);
          return undefined;
        } catch (e) {
          return (e as Error).message;
        }
      },
    });
    if (!answer) return false;
    const ops = parsePatchText(answer.value);
    ctx.ui.progress('Computing the change…');
    const dry = await ctx.backend.records.patchRetryData(t.flowId, t.stepId, t.selection, ops, { dryRun: true });
    if (dry.changed.length === 0) {
      ctx.ui.info(`Nothing to change: ${plural(dry.unchanged.length, 'snapshot')} already so${dry.testFailed.length ? `, ${formatCount(dry.testFailed.length)} failed a test` : ''}${dry.skippedNoRetryData ? `, ${plural(dry.skippedNoRetryData, 'error')} without retry data` : ''}.`);
      return false;
    }
    const lines: StyledLine[] = [];
    const SHOWN = 50;
    for (const change of dry.changed.slice(0, SHOWN)) {
      lines.push({ text: `retry data ${change.retryDataKey} (${change.errorIds.length === 1 ? `error ${change.errorIds[0]}` : plural(change.errorIds.length, 'error')})`, kind: 'header' });
      lines.push(...diffLines(pretty(change.before.data), pretty(change.after.data), `${change.retryDataKey}.json`));
      lines.push({ text: '' });
    }
    if (dry.changed.length > SHOWN) lines.push({ text: `…and ${formatCount(dry.changed.length - SHOWN)} more snapshots`, kind: 'muted' });
    const notes = [
      dry.unchanged.length ? `${formatCount(dry.unchanged.length)} unchanged` : '',
      dry.testFailed.length ? `${formatCount(dry.testFailed.length)} failed a test` : '',
      dry.skippedNoRetryData ? `${plural(dry.skippedNoRetryData, 'error')} without retry data` : '',
    ].filter(Boolean);
    const review = await ctx.ui.ask({
      kind: 'review',
      title: `Patch ${plural(dry.changed.length, 'snapshot')} of ${plural(dry.selected, 'error')}${notes.length ? ` (${notes.join(', ')})` : ''}`,
      lines,
      question: `Save ${plural(dry.changed.length, 'snapshot')}?`,
    });
    if (!review?.yes) {
      ctx.ui.info('Not saved: nothing changed.');
      return false;
    }
    // Exactly the snapshots reviewed: errors recorded meanwhile are not reached.
    const done = await ctx.backend.records.patchRetryData(t.flowId, t.stepId, { errorIds: dry.changed.flatMap((c) => c.errorIds), confirmed: true }, ops);
    ctx.ui.success(`Patched ${plural(done.changed.length, 'snapshot')}. The errors stay open until retried (r).`);
    ctx.ui.touch();
    return true;
  }).then((ok) => ok === true);
}

/** The errors matching the filter, streamed to a CSV file the operator names. */
export function exportCsv(ctx: ActionContext, t: { flowId: string; stepId: string; stepName: string; query: string; tab: 'open' | 'resolved' }): Promise<string | undefined> {
  return guarded(ctx, async () => {
    const date = new Date().toISOString().slice(0, 10);
    const slug = t.stepName.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');
    const answer = await ctx.ui.ask({
      kind: 'text',
      label: 'Export to:',
      initial: `flowdeck-${slug}-${t.tab}-${date}.csv`,
      hint: `${t.tab} errors${t.query.trim() ? ` matching ${t.query}` : ''} as CSV`,
      validate: (v) => (v.trim() ? undefined : 'name a file'),
    });
    if (!answer) return undefined;
    const path = resolvePath(answer.value.trim());
    // An existing file is replaced only when the operator says so.
    let flags = 'wx';
    if (existsSync(path)) {
      const overwrite = await ctx.ui.ask({ kind: 'confirm', message: `${path} exists. Overwrite it?` });
      if (!overwrite?.yes) {
        ctx.ui.info(`Not exported: ${path} is kept as it was.`);
        return undefined;
      }
      flags = 'w';
    }
    const out = createWriteStream(path, { flags });
    const opened = new Promise<void>((resolve, reject) => {
      out.once('open', () => resolve());
      out.once('error', reject);
    });
    try {
      await opened;
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      throw new InvalidInputError(err.code === 'EEXIST' ? `${path} already exists: choose another name` : `cannot write ${path}: ${err.message}`);
    }
    ctx.ui.progress(`Exporting to ${path}…`);
    let last = 0;
    let result;
    try {
      const download = await ctx.backend.records.exportErrors(t.flowId, t.stepId, {
        ...(t.query.trim() ? { query: t.query } : {}),
        ...(t.tab === 'resolved' ? { resolved: true } : {}),
      });
      result = await saveDownload(download, out, (rows) => {
          if (rows - last >= 10_000) {
            last = rows;
            ctx.ui.progress(`Exporting to ${path}… ${formatCount(rows)} rows`);
          }
      });
      out.end();
      await finished(out);
    } catch (e) {
      out.destroy();
      rmSync(path, { force: true });
      throw e;
    }
    ctx.ui.success(`Exported ${plural(result.rows, 'row')} to ${path}`);
    return path;
  });
}

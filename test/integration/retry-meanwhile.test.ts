import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { LocalBackend } from '../../src/backend/local-backend.js';
import { decodeId } from '../../src/domain/ids.js';
import { Workspace } from '../../src/workspace/workspace.js';
import { retrySummary } from '../../commands/errors/retry.js';
import { GATED_FLOW, GATED_FLOWS_YAML, GATED_STEP, gatedTarget, type GatedTarget } from '../helpers/gated-target.js';
import { retryToEnd, runFlowToEnd } from '../helpers/jobs.js';
import { storeRows, storeValue } from '../helpers/store-sql.js';
import { tempHome, writeFlowFile, type TempHome } from '../helpers/workspace.js';

// An operator's change made while a retry of the same record is in flight is never undone by the
// retry's outcome. The target holds the retried request until the test releases it, so the
// operator's action lands exactly while the request is out; then the outcome (503 or 200) arrives.
// Each pair runs with the sender in the job's thread and in a thread of its own.

const RETRIER = 'night.shift@acme.example';
const OPERATOR = 'ops.lead@acme.example';
const FLOW = GATED_FLOW;
const STEP = GATED_STEP;

let tmp: TempHome;
let target: GatedTarget;
/** Runs the retry (as RETRIER). */
let runner: LocalBackend;
/** Another operator's session on the same workspace (a second connection, as a second process). */
let operator: LocalBackend;
let threadFrom: string | undefined;
/** The record's first error, tagged and assigned. */
let K: { errorId: string; retryDataKey: string };

const envFor = (user: string): NodeJS.ProcessEnv => ({
  ...process.env,
  TARGET: target.url,
  FLOWDECK_USER: user,
  FLOWDECK_WORKER: 'off',
  ...(threadFrom !== undefined ? { FLOWDECK_RETRY_THREAD_FROM: threadFrom } : {}),
});

beforeEach(async () => {
  tmp = tempHome();
  target = await gatedTarget();
  writeFlowFile(tmp.home, 'gated.yaml', GATED_FLOWS_YAML);
  runner = new LocalBackend(await Workspace.open(tmp.home, envFor(RETRIER)));
  await runFlowToEnd(runner, FLOW);
  operator = new LocalBackend(await Workspace.open(tmp.home, envFor(OPERATOR)));
  const [first] = (await operator.listErrors(FLOW, STEP)).errors;
  expect(first?.retryDataKey).toBeDefined();
  K = { errorId: first!.errorId, retryDataKey: first!.retryDataKey! };
  await operator.triage.createTag('Investigating');
  await operator.triage.createTag('Customer contacted');
  await operator.triage.setTags(FLOW, STEP, { errorIds: [K.errorId] }, { add: ['Investigating'] });
  await operator.triage.assign(FLOW, STEP, { errorIds: [K.errorId] }, 'ana.lima@acme.example');
});

afterEach(async () => {
  await runner.close();
  await operator.close();
  await target.close();
  tmp.cleanup();
});

/** Retries K; `during` runs while its request is held by the target, which then answers `status`. */
async function retryWith(during: () => Promise<unknown>, status: number) {
  target.hold();
  const sent = target.posts.length;
  const job = retryToEnd(runner, FLOW, STEP, { errorIds: [K.errorId] });
  await target.held();
  expect(target.posts.length).toBe(sent + 1);
  await during();
  target.release(status);
  const done = (await job)!;
  expect(done.status).toBe('completed');
  return { job: done, report: await runner.retries.retryReport(done._id) };
}

const row = (errorId: string) => runner.ws.store.errors.getError(decodeId('error', errorId)!.rowId);
const errorCount = async () => Number(await storeValue(runner.ws, 'SELECT count(*) FROM errors'));
const openOfRecord = async () => (await runner.listErrors(FLOW, STEP, { query: `rdk:${K.retryDataKey}` })).errors;

describe.each([
  ['its sender in the job\'s thread', undefined],
  ['its sender in a thread of its own', '1'],
])('an operator acts while a retry is in flight, %s', (_mode, from) => {
  beforeAll(() => {
    threadFrom = from;
  });
  afterAll(() => {
    threadFrom = undefined;
  });

  it('resolve, then the retry fails again: the record stays resolved by the operator with its tags and assignee', async () => {
    const { job, report } = await retryWith(() => operator.triage.resolve(FLOW, STEP, { errorIds: [K.errorId] }), 503);
    expect(await openOfRecord()).toEqual([]);
    expect(await row(K.errorId)).toMatchObject({ resolved: true, resolvedBy: OPERATOR, assignee: 'ana.lima@acme.example' });
    expect((await operator.triage.getError(K.errorId)).error.tags).toEqual(['Investigating']);
    // No other error of the record appeared anywhere (open or resolved).
    expect(await errorCount()).toBe(1);
    expect(report.summary).toMatchObject({ resolvedMeanwhile: 1, resolved: 0, failed: 0, skipped: 0, pending: 0 });
    expect(report.items).toEqual([
      expect.objectContaining({ retryDataKey: K.retryDataKey, outcome: 'resolved_meanwhile', attempts: 1, detail: expect.stringMatching(/while it was being retried; it failed again \(503/) }),
    ]);
    expect(report.items[0]!.newErrorId).toBeUndefined();
    expect(retrySummary(job, report.summary)).toMatch(/0 resolved, 0 still failing, 0 skipped, 1 resolved meanwhile/);
    // What jobs wait shows: every record of the job is in the total, those resolved meanwhile too.
    expect(await runner.retries.recordCounts(job._id)).toMatchObject({ total: 1, resolvedMeanwhile: 1, pending: 0 });
    // The attempt itself is in the execution log, as every attempt is.
    const jobRow = decodeId('job', job._id)!.rowId;
    expect((await storeRows<{ status: string }>(runner.ws, 'SELECT status FROM log_entries WHERE job = ?', [jobRow])).map((r) => r.status)).toEqual(['error']);
  });

  it('resolve, then the retry gets through: resolved once, by the operator, at the operator\'s time', async () => {
    let resolvedAt: number | null = null;
    const { job, report } = await retryWith(async () => {
      await operator.triage.resolve(FLOW, STEP, { errorIds: [K.errorId] });
      resolvedAt = (await row(K.errorId))!.resolvedAt;
    }, 200);
    expect(await row(K.errorId)).toMatchObject({ resolved: true, resolvedBy: OPERATOR, resolvedAt });
    expect(report.summary).toMatchObject({ resolvedMeanwhile: 1, resolved: 0, failed: 0 });
    expect(report.items[0]).toMatchObject({ outcome: 'resolved_meanwhile', detail: expect.stringMatching(/it got through/) });
    expect(job).toMatchObject({ numSuccess: 0, numError: 0, numIgnore: 1 });
  });

  it('resolve and delete, then the retry fails again: the record does not come back', async () => {
    const { report } = await retryWith(async () => {
      await operator.triage.resolve(FLOW, STEP, { errorIds: [K.errorId] });
      await operator.triage.deleteResolved(FLOW, STEP, { errorIds: [K.errorId] });
    }, 503);
    expect(await errorCount()).toBe(0);
    expect(report.summary).toMatchObject({ resolvedMeanwhile: 1, failed: 0 });
  });

  it('resolve and reopen, then the retry fails again: one open error, carrying the tags and assignee', async () => {
    const { report } = await retryWith(async () => {
      await operator.triage.resolve(FLOW, STEP, { errorIds: [K.errorId] });
      await operator.triage.reopen(FLOW, STEP, { errorIds: [K.errorId] });
    }, 503);
    const open = await openOfRecord();
    expect(open).toHaveLength(1);
    expect(open[0]).toMatchObject({ errorId: report.items[0]!.newErrorId, tags: ['Investigating'], assignedTo: 'ana.lima@acme.example' });
    expect(await row(K.errorId)).toMatchObject({ resolved: true, resolvedBy: 'superseded' });
    expect(report.summary).toMatchObject({ failed: 1, resolvedMeanwhile: 0 });
  });

  it('a tag added in flight is on the error the failure leaves', async () => {
    await retryWith(() => operator.triage.setTags(FLOW, STEP, { errorIds: [K.errorId] }, { add: ['Customer contacted'] }), 503);
    const open = await openOfRecord();
    expect(open).toHaveLength(1);
    expect(open[0]!.errorId).not.toBe(K.errorId);
    expect(open[0]!.tags).toEqual(['Investigating', 'Customer contacted']);
  });

  it('an assignee changed in flight is the one the failure leaves', async () => {
    await retryWith(() => operator.triage.assign(FLOW, STEP, { errorIds: [K.errorId] }, 'raj.patel@acme.example'), 503);
    const open = await openOfRecord();
    expect(open).toHaveLength(1);
    expect(open[0]).toMatchObject({ assignedTo: 'raj.patel@acme.example', tags: ['Investigating'] });
    expect((await row(open[0]!.errorId))!.assignedBy).toBe(OPERATOR);
  });

  it('a snapshot edited in flight is kept by the failure, with the triage data', async () => {
    await retryWith(async () => {
      const envelope = await operator.records.getRetryData(FLOW, STEP, K.retryDataKey);
      await operator.records.putRetryData(FLOW, STEP, K.retryDataKey, { ...envelope, data: { id: 'K-1-fixed' } });
    }, 503);
    const open = await openOfRecord();
    expect(open).toHaveLength(1);
    expect(open[0]).toMatchObject({ retryDataKey: K.retryDataKey, tags: ['Investigating'], assignedTo: 'ana.lima@acme.example' });
    expect((await runner.records.getRetryData(FLOW, STEP, K.retryDataKey)).data).toEqual({ id: 'K-1-fixed' });
    // The next retry sends the edited record.
    await retryToEnd(runner, FLOW, STEP, { errorIds: [open[0]!.errorId] });
    expect(JSON.parse(target.posts[target.posts.length - 1]!)).toMatchObject({ orderNumber: 'K-1-fixed' });
  });
});

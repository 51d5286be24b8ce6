import { sqliteCoreOf } from '../helpers/sqlite.js';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { LocalBackend } from '../../src/backend/local-backend.js';
import { decodeId, encodeId } from '../../src/domain/ids.js';
import { recoverStaleJobs } from '../../src/runtime/recovery.js';
import { RetryRepo } from '../../src/store/sqlite/retry-repo.js';
import { LocalBackend as Local } from '../../src/backend/local-backend.js';
import { seedDemoWorkspace, tagCode } from '../../src/workspace/demo.js';
import { Workspace } from '../../src/workspace/workspace.js';
import { retryToEnd, runFlowToEnd } from '../helpers/jobs.js';
import { runDemoFlows, tempHome, type TempHome } from '../helpers/workspace.js';
import { validateAgainst } from '../helpers/spec.js';
import { testStore } from '../helpers/store.js';
import { storeExec, storeValue } from '../helpers/store-sql.js';

const OPERATOR = 'ops.lead@acme.example';
const CRM_FLOW = 'Shop customers to CRM';
const CRM_STEP = 'CRM contacts';
const ERP_FLOW = 'Shop orders to ERP';
const ERP_STEP = 'ERP sales orders';
const fastBackoff = { maxAttempts: 10, baseDelayMs: 20, factor: 1.5, maxDelayMs: 200, jitter: 0 };

let tmp: TempHome;
let backend: LocalBackend;

/** FLOWDECK_RETRY_THREAD_FROM for the workspace: the retry tests run with the sender in this thread and in its own. */
let threadFrom: string | undefined;

async function seeded(): Promise<LocalBackend> {
  // FLOWDECK_WORKER=off: jobs run in this process only, never in a background worker racing the test.
  const env = { ...process.env, FLOWDECK_USER: OPERATOR, FLOWDECK_WORKER: 'off', ...(threadFrom !== undefined ? { FLOWDECK_RETRY_THREAD_FROM: threadFrom } : {}) };
  const b = new Local(await seedDemoWorkspace(tmp.home, env));
  await runDemoFlows(b);
  // The runs just saturated the ERP's rate-limit window; these tests are about other failures.
  b.runtime.mockSystems!.erp.setRateLimit(100_000);
  return b;
}

async function rowOf(errorId: string) {
  return (await backend.ws.store.errors.getError(decodeId('error', errorId)!.rowId))!;
}

beforeEach(async () => {
  tmp = tempHome();
  backend = await seeded();
});

afterEach(async () => {
  await backend.close();
  tmp.cleanup();
});

describe.each([
  ['its sender in the job\'s thread', undefined],
  ['its sender in a thread of its own', '1'],
])('retry, %s', (_mode, from) => {
  beforeAll(() => {
    threadFrom = from;
  });
  afterAll(() => {
    threadFrom = undefined;
  });

  it('a back-off retry against the flaky CRM ends resolved, resolvedBy the operator', async () => {
    const before = await backend.listErrors(CRM_FLOW, CRM_STEP, { query: 'class:intermittent', limit: 1000 });
    expect(before.errors.length).toBeGreaterThan(10);
    const job = await retryToEnd(backend, CRM_FLOW, CRM_STEP, { query: 'class:intermittent' }, { backoff: fastBackoff });
    expect(job).toBeDefined();
    expect(validateAgainst('Job', job)).toEqual([]);
    expect(job!.type).toBe('retry');
    expect(job!.status).toBe('completed');
    const report = await backend.retries.retryReport(job!._id);
    expect(report.summary).toMatchObject({ resolved: before.errors.length, failed: 0, pending: 0 });
    const after = await backend.listErrors(CRM_FLOW, CRM_STEP, { query: 'class:intermittent' });
    expect(after.errors).toEqual([]);
    for (const e of before.errors) {
      const row = await rowOf(e.errorId);
      expect(row.resolved).toBe(true);
      expect(row.resolvedBy).toBe(OPERATOR);
    }
    // Some records needed more than one attempt: the flaky target failed them at least once more.
    expect(report.items.some((i) => i.attempts > 1)).toBe(true);
  });

  it('an unfixed 422 fails again: a new errorId with the same retryDataKey, tags and assignee carried over', async () => {
    const [original] = (await backend.listErrors(ERP_FLOW, ERP_STEP, { query: 'code:422 class:value', limit: 1 })).errors;
    expect(original?.retryDataKey).toBeDefined();
    const row = await rowOf(original!.errorId);
    const code = tagCode('Investigating');
    await storeExec(backend.ws, 'UPDATE errors SET assignee = ?, assigned_by = ?, tags = ? WHERE id = ?', ['ana.lima@acme.example', OPERATOR, JSON.stringify([code]), row.id]);
    await storeExec(backend.ws, 'INSERT INTO error_tags (tag, step, resolved, error) VALUES (?, ?, false, ?)', [code, row.step, row.id]);

    const job = await retryToEnd(backend, ERP_FLOW, ERP_STEP, { retryDataKeys: [original!.retryDataKey!] });
    const report = await backend.retries.retryReport(job!._id);
    expect(report.summary).toMatchObject({ resolved: 0, failed: 1 });
    const newErrorId = report.items[0]!.newErrorId!;
    expect(newErrorId).not.toBe(original!.errorId);

    const page = await backend.listErrors(ERP_FLOW, ERP_STEP, { query: `rdk:${original!.retryDataKey}` });
    expect(page.errors.map((e) => e.errorId)).toEqual([newErrorId]);
    const fresh = page.errors[0]!;
    expect(fresh.retryDataKey).toBe(original!.retryDataKey);
    expect(fresh.tags).toEqual(['Investigating']);
    expect(fresh.assignedTo).toBe('ana.lima@acme.example');
    expect(fresh.code).toBe('422');
    expect(fresh._flowJobId).toBe(job!._id);
    expect(validateAgainst('FlowStepError', fresh)).toEqual([]);
    // The old error left the open list, marked as superseded rather than fixed.
    const old = await rowOf(original!.errorId);
    expect(old.resolved).toBe(true);
    expect(old.resolvedBy).toBe('superseded');
    // A superseded error cannot be reopened (its record lives on in the new error), alone or in bulk.
    await expect(backend.triage.reopen(ERP_FLOW, ERP_STEP, { errorIds: [original!.errorId] })).rejects.toThrow(/superseded by a newer error/);
    expect((await backend.triage.reopen(ERP_FLOW, ERP_STEP, { query: `rdk:${original!.retryDataKey}` })).errorsToReturn).toEqual([]);
    // Its tag index moved with it, so tag filters never show the superseded error as open.
    const tagged = await backend.listErrors(ERP_FLOW, ERP_STEP, { query: 'tag:Investigating' });
    expect(tagged.errors.map((e) => e.errorId)).toEqual([newErrorId]);
  });

  it('a fixed snapshot retried succeeds and resolves the error', async () => {
    const [original] = (await backend.listErrors(ERP_FLOW, ERP_STEP, { query: 'code:422 "valid email"', limit: 1 })).errors;
    expect(original).toBeDefined();
    const rd = decodeId('retryData', original!.retryDataKey!)!.rowId;
    const snapshot = JSON.parse((await backend.ws.store.records.getRetryData(rd))!.data);
    snapshot.customer.email = 'fixed.customer@example.com';
    await storeExec(backend.ws, 'UPDATE retry_data SET data = ? WHERE id = ?', [JSON.stringify(snapshot), rd]);

    const job = await retryToEnd(backend, ERP_FLOW, ERP_STEP, { retryDataKeys: [original!.retryDataKey!] });
    expect((await backend.retries.retryReport(job!._id)).summary.resolved).toBe(1);
    const row = await rowOf(original!.errorId);
    expect(row.resolved).toBe(true);
    expect(row.resolvedBy).toBe(OPERATOR);
  });

  it('keys that match nothing queue nothing (the API 204)', async () => {
    // Well formed (a malformed key is refused as bad input), but no snapshot has it.
    const job = await backend.retries.retry(ERP_FLOW, ERP_STEP, { retryDataKeys: [encodeId('retryData', 9_999_999, Date.now())] });
    expect(job).toBeUndefined();
    expect(await backend.listJobs({ type: 'retry' })).toEqual([]);
  });

  it('a disabled flow refuses retries with inactive_flow and queues nothing', async () => {
    const flow = await backend.getFlow(ERP_FLOW);
    await backend.ws.store.catalog.setFlowDisabled(flow._id, true);
    await expect(backend.retries.retry(ERP_FLOW, ERP_STEP, { all: true }, { backoff: fastBackoff })).rejects.toMatchObject({ code: 'inactive_flow' });
    expect(await backend.listJobs({ type: 'retry' })).toEqual([]);
  });

  it('canceling a queued retry leaves every error open and untouched', async () => {
    const before = await backend.listErrors(CRM_FLOW, CRM_STEP, { limit: 1000 });
    const flow = await backend.getFlow(CRM_FLOW);
    const step = await backend.resolveStep(await backend.resolveFlow(CRM_FLOW), CRM_STEP);
    const rowIds = before.errors.map((e) => decodeId('error', e.errorId)!.rowId);
    const repo = backend.ws.store.retries;
    const retryData = await repo.retryDataOf(rowIds);
    const jobId = (await backend.runtime.retries().queue(flow._id, step.key, retryData, OPERATOR, {}))!;
    const job = await backend.jobOf((await backend.ws.store.jobs.getJob(jobId))!);
    const canceled = await backend.retries.cancelJob(job._id);
    expect(canceled.status).toBe('canceled');
    expect(canceled.canceledBy).toBe(OPERATOR);
    const after = await backend.listErrors(CRM_FLOW, CRM_STEP, { limit: 1000 });
    expect(after).toEqual(before);
    expect(await repo.counts(jobId)).toMatchObject({ pending: 0, skipped: retryData.length });
  });

  it('canceling a running retry stops it: untouched records stay pending-free and their errors open', async () => {
    const open = await backend.listErrors(CRM_FLOW, CRM_STEP, { query: 'class:intermittent', limit: 1000 });
    const store = backend.ws.store;
    const flow = await backend.getFlow(CRM_FLOW);
    const step = await backend.resolveStep(await backend.resolveFlow(CRM_FLOW), CRM_STEP);
    const repo = store.retries;
    const retryData = await repo.retryDataOf(open.errors.map((e) => decodeId('error', e.errorId)!.rowId));
    // 5 records a second: the job runs for seconds after it starts, when the cancel is sent (on a
    // condition, not after a pause a loaded machine could stretch past the job's end).
    expect(retryData.length).toBeGreaterThan(10);
    const jobId = (await backend.runtime.retries().queue(flow._id, step.key, retryData, OPERATOR, { ratePerSecond: 5 }))!;
    const job = await backend.jobOf((await store.jobs.getJob(jobId))!);
    const running = backend.runtime.runRetryJob(jobId);
    for (const deadline = Date.now() + 20_000; (await store.jobs.getJob(jobId))!.status !== 'running'; ) {
      if (Date.now() > deadline) throw new Error('the retry job did not start within 20 s');
      await new Promise((r) => setTimeout(r, 10));
    }
    expect((await backend.retries.cancelJob(job._id)).status).toBe('canceling');
    await running;
    const done = (await store.jobs.getJob(jobId))!;
    expect(done.status).toBe('canceled');
    const counts = await repo.counts(jobId);
    expect(counts.pending).toBe(0);
    expect(counts.skipped).toBeGreaterThan(0);
    // Skipped records were never sent: their errors are still open, and a new retry may take them.
    const left = await backend.listErrors(CRM_FLOW, CRM_STEP, { query: 'class:intermittent', limit: 1000 });
    expect(left.errors.length).toBeGreaterThanOrEqual(counts.skipped);
    expect((await repo.pendingElsewhere(retryData)).size).toBe(0);
  });

  it('a retry job whose process died is resumed: settled records stay settled, none resolved twice', async () => {
    const flow = await backend.getFlow(CRM_FLOW);
    const step = await backend.resolveStep(await backend.resolveFlow(CRM_FLOW), CRM_STEP);
    const open = await backend.listErrors(CRM_FLOW, CRM_STEP, { query: 'class:intermittent', limit: 1000 });
    const store = backend.ws.store;
    const repo = store.retries;
    const retryData = await repo.retryDataOf(open.errors.map((e) => decodeId('error', e.errorId)!.rowId));
    const jobId = (await backend.runtime.retries().queue(flow._id, step.key, retryData, OPERATOR, { backoff: fastBackoff }))!;
    // A process (now dead) had claimed the job and settled the first record before it was killed.
    const deadPid = 2 ** 22 + 12345;
    const first = retryData[0]!;
    await store.withTransaction(async (tx) => {
      await tx.jobs.updateJob(jobId, { status: 'running', ownerPid: deadPid, heartbeatAt: Date.now() }, Date.now());
      await tx.retries.resolveManyByRetryData([first], OPERATOR, Date.now());
      await tx.retries.settle(jobId, 0, 'resolved', 1, null, null);
      await tx.jobs.addJobCounters(jobId, { numSuccess: 1 }, Date.now());
    });
    const resolvedAtOf = async (rd: number) => Number(await storeValue(backend.ws, 'SELECT resolved_at FROM errors WHERE retry_data = ?', [rd]));
    const resolvedAtBefore = await resolvedAtOf(first);

    expect(await recoverStaleJobs(backend.ws.store, Date.now())).toEqual({ failed: 0, requeued: 1 });
    expect((await store.jobs.getJob(jobId))!.status).toBe('queued');
    expect(await backend.runtime.runRetryJob(jobId)).toBe(true);

    expect((await store.jobs.getJob(jobId))!.status).toBe('completed');
    expect(await repo.counts(jobId)).toMatchObject({ resolved: retryData.length, pending: 0, failed: 0 });
    // The record settled before the crash was not retried or resolved again.
    expect(await resolvedAtOf(first)).toBe(resolvedAtBefore);
    expect((await store.jobs.getJob(jobId))!.numSuccess).toBe(retryData.length);
    // Every record's errors are resolved exactly once, and no open error remains for them.
    const openLeft = await storeValue(backend.ws, `SELECT count(*) FROM errors WHERE resolved = false AND retry_data IN (${retryData.map(() => '?').join(', ')})`, retryData);
    expect(Number(openLeft)).toBe(0);
  });

  it('automatic retries stop after the step policy is spent', async () => {
    const ws = backend.ws;
    const [err] = (await backend.listErrors(ERP_FLOW, ERP_STEP, { query: 'code:422', limit: 1 })).errors;
    const rd = decodeId('retryData', err!.retryDataKey!)!.rowId;
    const flow = await backend.getFlow(ERP_FLOW);
    const step = await backend.resolveStep(await backend.resolveFlow(ERP_FLOW), ERP_STEP);
    // A validation error never gets a retryAt: only transient classes are retried automatically.
    expect(err!.retryAt).toBeUndefined();
    for (let i = 0; i < 2; i++) {
      const job = (await backend.runtime.retries().queue(flow._id, step.key, [rd], 'auto', {}))!;
      await backend.runtime.runRetryJob(job);
    }
    expect((await ws.store.records.getRetryData(rd))!.attempts).toBe(2);
  });
});

describe('guards', () => {
  it('a record resolved while its retry was queued is not sent again', async () => {
    const [err] = (await backend.listErrors(ERP_FLOW, ERP_STEP, { query: 'code:422', limit: 1 })).errors;
    const flow = await backend.getFlow(ERP_FLOW);
    const step = await backend.resolveStep(await backend.resolveFlow(ERP_FLOW), ERP_STEP);
    const rd = decodeId('retryData', err!.retryDataKey!)!.rowId;
    const jobId = (await backend.runtime.retries().queue(flow._id, step.key, [rd], OPERATOR, {}))!;
    await backend.triage.resolve(ERP_FLOW, ERP_STEP, { errorIds: [err!.errorId] });
    const sent = backend.runtime.mockSystems!.erp.received();
    await backend.runtime.runRetryJob(jobId);
    expect(backend.runtime.mockSystems!.erp.received()).toBe(sent);
    expect(await backend.ws.store.retries.counts(jobId)).toMatchObject({ resolvedMeanwhile: 1, skipped: 0, failed: 0, resolved: 0 });
    expect((await backend.retries.retryReport((await backend.jobOf((await backend.ws.store.jobs.getJob(jobId))!))._id)).items[0]).toMatchObject({ outcome: 'resolved_meanwhile', detail: 'resolved or deleted before it was sent' });
    expect((await rowOf(err!.errorId)).resolvedBy).toBe(OPERATOR);
  });

  it('a snapshot corrupted in the store fails that record with the reason; the others go on', async () => {
    const errors = (await backend.listErrors(ERP_FLOW, ERP_STEP, { query: 'class:rate_limit', limit: 5 })).errors;
    expect(errors.length).toBe(5);
    const bad = decodeId('retryData', errors[0]!.retryDataKey!)!.rowId;
    await storeExec(backend.ws, 'UPDATE retry_data SET data = ? WHERE id = ?', ['{"id": "SO-1", ', bad]);
    const job = await retryToEnd(backend, ERP_FLOW, ERP_STEP, { errorIds: errors.map((e) => e.errorId) });
    expect(job!.status).toBe('completed');
    const report = await backend.retries.retryReport(job!._id);
    expect(report.summary).toMatchObject({ resolved: 4, failed: 1, pending: 0 });
    expect(report.items.find((i) => i.outcome === 'failed')!.detail).toMatch(/not JSON/);
  });

  // SQLite-only: a SQLite trigger refuses the outcomes.
  it.skipIf(testStore() === 'postgres')('a store that refuses the outcomes ends the job failed, saying why; its errors stay open and its items are released', async () => {
    const errors = (await backend.listErrors(ERP_FLOW, ERP_STEP, { query: 'class:rate_limit', limit: 5 })).errors;
    sqliteCoreOf(backend.ws).db.exec(`CREATE TRIGGER refuse BEFORE UPDATE ON retry_items BEGIN SELECT RAISE(ABORT, 'disk on fire'); END`);
    // The process following the job runs it (FLOWDECK_WORKER=off): the job it follows ends failed, saying why.
    const failed = await retryToEnd(backend, ERP_FLOW, ERP_STEP, { errorIds: errors.map((e) => e.errorId) });
    sqliteCoreOf(backend.ws).db.exec('DROP TRIGGER refuse');
    expect(failed).toMatchObject({ status: 'failed', note: expect.stringMatching(/runtime error: .*disk on fire/) });
    const [job] = await backend.listJobs({ type: 'retry' });
    expect(job).toMatchObject({ _id: failed!._id, status: 'failed' });
    const jobRow = decodeId('job', job!._id)!.rowId;
    expect((await backend.ws.store.jobs.getJob(jobRow))!.note).toMatch(/runtime error: .*disk on fire/);
    for (const e of errors) expect((await rowOf(e.errorId)).resolved).toBe(false);
    // The store refused the items' release with the rest; the next open releases them, saying why.
    await backend.close();
    backend = new Local(await Workspace.open(tmp.home, { ...process.env, FLOWDECK_USER: OPERATOR, FLOWDECK_WORKER: 'off' }));
    const report = await backend.retries.retryReport(job!._id);
    expect(report.summary).toMatchObject({ pending: 0, skipped: errors.length });
    expect(report.items.every((i) => /disk on fire/.test(i.detail ?? ''))).toBe(true);
    const again = await retryToEnd(backend, ERP_FLOW, ERP_STEP, { errorIds: errors.map((e) => e.errorId) });
    expect(again!.status).toBe('completed');
  });

  // SQLite-only: a full disk simulated inside the SQLite adapter.
  it.skipIf(testStore() === 'postgres')('a full disk while committing outcomes ends the job failed with the reason and holds no record', async () => {
    const errors = (await backend.listErrors(ERP_FLOW, ERP_STEP, { query: 'code:422', limit: 5 })).errors;
    expect(errors.length).toBe(5);
    const store = sqliteCoreOf(backend.ws);
    const flow = await backend.getFlow(ERP_FLOW);
    const step = await backend.resolveStep(await backend.resolveFlow(ERP_FLOW), ERP_STEP);
    const repo = new RetryRepo(store);
    const retryData = repo.retryDataOf(errors.map((e) => decodeId('error', e.errorId)!.rowId));
    const jobId = (await backend.runtime.retries().queue(flow._id, step.key, retryData, OPERATOR, {}))!;
    // SQLITE_FULL for real: the store may not grow, so the new errors of the failed records do not fit.
    store.db.pragma(`max_page_count = ${store.db.pragma('page_count', { simple: true }) as number}`);
    await expect(backend.runtime.runRetryJob(jobId)).rejects.toThrow(/full/);
    store.db.pragma('max_page_count = 1073741823');
    expect(store.getJob(jobId)).toMatchObject({ status: 'failed', note: expect.stringMatching(/runtime error: database or disk is full/) });
    expect(repo.counts(jobId)).toMatchObject({ pending: 0, skipped: retryData.length });
    for (const e of errors) expect((await rowOf(e.errorId)).resolved).toBe(false);
    expect(repo.pendingElsewhere(retryData).size).toBe(0);
    const again = await retryToEnd(backend, ERP_FLOW, ERP_STEP, { errorIds: errors.map((e) => e.errorId) });
    expect(again!.status).toBe('completed');
  });

  it('a retry refused because another job holds its records names that job and how to run or cancel it', async () => {
    const errors = (await backend.listErrors(ERP_FLOW, ERP_STEP, { query: 'code:422', limit: 2 })).errors;
    const selection = { errorIds: errors.map((e) => e.errorId) };
    const held = await backend.retries.retry(ERP_FLOW, ERP_STEP, selection);
    expect(held!.status).toBe('queued');
    const refusal = backend.retries.retry(ERP_FLOW, ERP_STEP, selection);
    await expect(refusal).rejects.toMatchObject({ code: 'retry_in_progress' });
    await expect(refusal).rejects.toThrow(
      `already being retried by another job (${held!._id}): run it with "flowdeck jobs wait ${held!._id}" (or "flowdeck worker"), or cancel it with "flowdeck jobs cancel ${held!._id}"`,
    );
  });

  it('a flow that is already running is not started twice', async () => {
    const flow = await backend.getFlow(CRM_FLOW);
    await backend.ws.store.jobs.insertJob({ type: 'flow', status: 'running', flowId: flow._id, createdAt: Date.now(), triggeredBy: OPERATOR });
    await expect(backend.runFlow(CRM_FLOW)).rejects.toMatchObject({ code: 'flow_running' });
  });
});

describe('autoResolveMatchingTraceKeys', () => {
  it('a newer record with the same traceKey getting through resolves the older open errors as auto', async () => {
    // The first run's rate-limited orders fail with 429; run the flow again with the limit lifted
    // and those same orders (same traceKey) now succeed.
    const limited = await backend.listErrors(ERP_FLOW, ERP_STEP, { query: 'class:rate_limit', limit: 1000 });
    expect(limited.errors.length).toBeGreaterThan(0);
    // (The flaky CRM lookup in front of the ERP would stop some records before they get through.)
    backend.runtime.mockSystems!.crm.setFailureRate(0);
    await runFlowToEnd(backend, ERP_FLOW);
    let resolved = 0;
    for (const e of limited.errors) {
      const row = await rowOf(e.errorId);
      // Rate-limited orders that are also invalid now fail with 422: no success, nothing resolved.
      const newer = await backend.listErrors(ERP_FLOW, ERP_STEP, { query: `trace:${e.traceKey} code:422` });
      if (newer.errors.length > 0) {
        expect(row.resolved).toBe(false);
        continue;
      }
      expect(row.resolved).toBe(true);
      expect(row.resolvedBy).toBe('auto');
      resolved++;
    }
    expect(resolved).toBeGreaterThan(0);
    // Records that still fail (invalid data) keep their errors open: only successes resolve.
    const invalid = await backend.listErrors(ERP_FLOW, ERP_STEP, { query: 'class:value', limit: 1000 });
    expect(invalid.errors.length).toBeGreaterThan(0);
    const flowWithout = await backend.listErrors(CRM_FLOW, CRM_STEP, { limit: 1000 });
    for (const e of flowWithout.errors) expect((await rowOf(e.errorId)).resolved).toBe(false);
  });
});

describe('workspace reopen', () => {
  it('keeps retry jobs and their outcomes across processes', async () => {
    const job = await retryToEnd(backend, CRM_FLOW, CRM_STEP, { query: 'class:intermittent' }, { backoff: fastBackoff });
    await backend.close();
    backend = new Local(await Workspace.open(tmp.home, { ...process.env, FLOWDECK_USER: OPERATOR }));
    const again = await backend.getJob(job!._id);
    expect(again.status).toBe('completed');
    expect(again.numResolved).toBeGreaterThan(0);
  });
});

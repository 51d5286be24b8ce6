import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { followJob } from '../../src/backend/follow-job.js';
import { LocalBackend } from '../../src/backend/local-backend.js';
import type { Job } from '../../src/domain/api.js';
import { encodeId } from '../../src/domain/ids.js';
import { queueDueRetries } from '../../src/runtime/worker.js';
import type { StepRow } from '../../src/store/contract/rows.js';
import { autoRetryNote } from '../../src/tui/components/frame.js';
import { seedDemoWorkspace } from '../../src/workspace/demo.js';
import { tempHome, type TempHome } from '../helpers/workspace.js';

// Automatic retries an operator can predict: one sweep queues one job per step with every due
// error of it, a step still being retried automatically is not swept again until its job ends,
// and only retryable steps are swept (a page generator's errors and errors without retry data have
// nothing to re-feed: their retryAt is cleared instead of reading "due" forever). And a retry job's
// progress shows from the start: its total when queued, outcomes committed while a slow job runs.

const OPERATOR = 'ops.lead@acme.example';
const FLOW = 'Shop orders to ERP';

let tmp: TempHome;
let backend: LocalBackend;

const store = () => backend.ws.store;
const stepNamed = async (name: string): Promise<StepRow> => {
  const flow = (await store().catalog.listFlows()).find((f) => f.name === FLOW)!;
  return (await store().catalog.steps(flow.id)).find((s) => s.name === name)!;
};

/** Inserts `n` open errors on a step, due for an automatic retry a minute ago; newest first. */
async function addDue(step: StepRow, n: number, { withRetryData = true, dueAt = Date.now() - 60_000 } = {}): Promise<string[]> {
  const ids: Array<{ id: number; at: number }> = [];
  // In chunks of a transaction each, a few at once: on PostgreSQL each is a connection of its own
  // (one transaction of 12,000 errors would wait on 36,000 round trips in a row); SQLite takes them in turn.
  const chunks = Array.from({ length: Math.ceil(n / 500) }, (_, c) => Array.from({ length: Math.min(500, n - c * 500) }, (_, j) => c * 500 + j));
  const addChunk = (chunk: number[]) =>
    store().withTransaction(async (tx) => {
      for (const i of chunk) {
        const at = Date.now();
        const trace = await tx.records.insertTrace({ step: step.key, time: at, stage: 'import', method: 'POST', statusCode: 503, request: { method: 'POST', url: 'http://127.0.0.1/x', headers: {} }, response: { statusCode: 503, body: '' } });
        const retryData = withRetryData ? await tx.records.insertRetryData({ step: step.key, createdAt: at, stage: 'import', data: { id: `SO-${i}`, customer: { email: `c${i}@example.com` } } }) : undefined;
        const id = await tx.errors.insertError({
          step: step.key,
          occurredAt: at,
          source: 'application',
          code: '503',
          message: 'temporarily unavailable',
          classification: 'intermittent',
          classifiedBy: 'rule',
          trace,
          ...(retryData !== undefined ? { retryData } : {}),
          retryAt: dueAt,
        });
        ids.push({ id, at });
      }
    });
  for (let c = 0; c < chunks.length; c += 4) await Promise.all(chunks.slice(c, c + 4).map(addChunk));
  return ids.sort((a, b) => b.id - a.id).map(({ id, at }) => encodeId('error', id, at));
}

const autoJobs = async () => (await store().jobs.listJobs({ type: 'retry', limit: 1000 })).filter((j) => j.triggeredBy === 'auto');

beforeEach(async () => {
  tmp = tempHome();
  backend = new LocalBackend(await seedDemoWorkspace(tmp.home, { ...process.env, FLOWDECK_USER: OPERATOR, FLOWDECK_WORKER: 'off' }));
});

afterEach(async () => {
  await backend.close();
  tmp.cleanup();
});

describe('the automatic-retry sweep', () => {
  it('queues one job per step with every due error of it, however many are due', async () => {
    const erp = await stepNamed('ERP sales orders');
    const lookup = await stepNamed('CRM customer lookup');
    await addDue(erp, 12_000);
    await addDue(lookup, 30);
    expect(await queueDueRetries(backend.ws, backend.runtime, Date.now())).toBe(2);
    const jobs = await autoJobs();
    expect(jobs.map((j) => j.step).sort()).toEqual([erp.key, lookup.key].sort());
    const counts = await Promise.all(jobs.map((j) => backend.retries.recordCounts(encodeId('job', j.id, j.createdAt))));
    expect(counts.map((c) => c!.total).sort((a, b) => a - b)).toEqual([30, 12_000]);
    // Nothing is due any more: the next sweeps queue nothing.
    expect(await queueDueRetries(backend.ws, backend.runtime, Date.now())).toBe(0);
  });

  it('leaves a step alone while its automatic job is unfinished, and sweeps it after', async () => {
    const erp = await stepNamed('ERP sales orders');
    await addDue(erp, 3);
    expect(await queueDueRetries(backend.ws, backend.runtime, Date.now())).toBe(1);
    const [first] = await autoJobs();
    // More errors of the step fall due while the job is still queued.
    await addDue(erp, 4);
    for (let i = 0; i < 3; i++) expect(await queueDueRetries(backend.ws, backend.runtime, Date.now())).toBe(0);
    expect(await autoJobs()).toHaveLength(1);
    await backend.retries.cancelJob(encodeId('job', first!.id, first!.createdAt));
    expect(await queueDueRetries(backend.ws, backend.runtime, Date.now())).toBe(1);
    const second = (await autoJobs()).find((j) => j.id !== first!.id)!;
    expect((await backend.retries.recordCounts(encodeId('job', second.id, second.createdAt)))!.total).toBe(4);
  });

  it('sweeps only retryable steps: a page generator\'s errors and errors without retry data get no job and stop reading due', async () => {
    const generator = await stepNamed('Shop orders');
    expect(generator.kind).toBe('export');
    const pageFailures = await addDue(generator, 5, { withRetryData: false });
    const noData = await addDue(await stepNamed('ERP sales orders'), 2, { withRetryData: false });
    expect(await queueDueRetries(backend.ws, backend.runtime, Date.now())).toBe(0);
    expect(await autoJobs()).toEqual([]);
    for (const id of [...pageFailures, ...noData]) {
      const row = (await store().errors.getError(Number.parseInt(id.slice(10), 16)))!;
      expect(row.resolved).toBe(false);
      expect(row.retryAt).toBeNull();
    }
  });
});

describe('automatic retries while the TUI has the workspace open', () => {
  it('counts the due ones; with FLOWDECK_WORKER=off the header says they wait for a worker', async () => {
    expect(await backend.keepAutomaticRetries()).toEqual({ due: 0, worker: 'off' });
    await addDue(await stepNamed('ERP sales orders'), 3);
    await addDue(await stepNamed('ERP sales orders'), 2, { dueAt: Date.now() + 3_600_000 });
    const state = await backend.keepAutomaticRetries();
    expect(state).toEqual({ due: 3, worker: 'off' });
    expect(autoRetryNote(state)).toBe('3 retries due: no worker (flowdeck worker)');
    expect(autoRetryNote({ due: 3, worker: 'running' })).toBe('');
    expect(autoRetryNote({ due: 0, worker: 'off' })).toBe('');
  });
});

describe('retry progress', () => {
  it('says the total when queued and shows outcomes of a slow job while it runs', async () => {
    const erp = await stepNamed('ERP sales orders');
    const ids = await addDue(erp, 3, { dueAt: Date.now() + 3_600_000 });
    const seen: Array<{ done: number; status: string }> = [];
    const queued = await backend.retries.retry(FLOW, erp.stepId, { errorIds: ids }, { ratePerSecond: 1 });
    expect(queued!.status).toBe('queued');
    // The total is there as soon as the job is queued, before anything ran.
    expect((await backend.retries.recordCounts(queued!._id))!.total).toBe(3);
    const job = await followJob(backend, queued!._id, {
      onProgress: (j: Job) => seen.push({ done: (j.numSuccess ?? 0) + (j.numError ?? 0) + (j.numIgnore ?? 0), status: j.status }),
    });
    expect(job!.status).toBe('completed');
    // At one record a second, the first outcomes are committed (and reported) before the last is sent.
    expect(seen.some((s) => s.done > 0 && s.done < 3 && s.status === 'running')).toBe(true);
  });
});

import { sqliteCoreOf } from '../helpers/sqlite.js';
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

const store = () => sqliteCoreOf(backend.ws);
const stepNamed = (name: string): StepRow => store().steps(store().listFlows().find((f) => f.name === FLOW)!.id).find((s) => s.name === name)!;

/** Inserts `n` open errors on a step, due for an automatic retry a minute ago; newest first. */
function addDue(step: StepRow, n: number, { withRetryData = true, dueAt = Date.now() - 60_000 } = {}): string[] {
  const ids: string[] = [];
  store().transaction(() => {
    for (let i = 0; i < n; i++) {
      const at = Date.now();
      const trace = store().insertTrace({ step: step.key, time: at, stage: 'import', method: 'POST', statusCode: 503, request: { method: 'POST', url: 'http://127.0.0.1/x', headers: {} }, response: { statusCode: 503, body: '' } });
      const retryData = withRetryData ? store().insertRetryData({ step: step.key, createdAt: at, stage: 'import', data: { id: `SO-${i}`, customer: { email: `c${i}@example.com` } } }) : undefined;
      const id = store().insertError({
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
      ids.push(encodeId('error', id, at));
    }
  });
  return ids.reverse();
}

const autoJobs = () => store().listJobs({ type: 'retry', limit: 1000 }).filter((j) => j.triggeredBy === 'auto');

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
    const erp = stepNamed('ERP sales orders');
    const lookup = stepNamed('CRM customer lookup');
    addDue(erp, 12_000);
    addDue(lookup, 30);
    expect(await queueDueRetries(backend.ws, backend.runtime, Date.now())).toBe(2);
    const jobs = autoJobs();
    expect(jobs.map((j) => j.step).sort()).toEqual([erp.key, lookup.key].sort());
    const counts = await Promise.all(jobs.map((j) => backend.retries.recordCounts(encodeId('job', j.id, j.createdAt))));
    expect(counts.map((c) => c!.total).sort((a, b) => a - b)).toEqual([30, 12_000]);
    // Nothing is due any more: the next sweeps queue nothing.
    expect(await queueDueRetries(backend.ws, backend.runtime, Date.now())).toBe(0);
  });

  it('leaves a step alone while its automatic job is unfinished, and sweeps it after', async () => {
    const erp = stepNamed('ERP sales orders');
    addDue(erp, 3);
    expect(await queueDueRetries(backend.ws, backend.runtime, Date.now())).toBe(1);
    const [first] = autoJobs();
    // More errors of the step fall due while the job is still queued.
    addDue(erp, 4);
    for (let i = 0; i < 3; i++) expect(await queueDueRetries(backend.ws, backend.runtime, Date.now())).toBe(0);
    expect(autoJobs()).toHaveLength(1);
    await backend.retries.cancelJob(encodeId('job', first!.id, first!.createdAt));
    expect(await queueDueRetries(backend.ws, backend.runtime, Date.now())).toBe(1);
    const second = autoJobs().find((j) => j.id !== first!.id)!;
    expect((await backend.retries.recordCounts(encodeId('job', second.id, second.createdAt)))!.total).toBe(4);
  });

  it('sweeps only retryable steps: a page generator\'s errors and errors without retry data get no job and stop reading due', async () => {
    const generator = stepNamed('Shop orders');
    expect(generator.kind).toBe('export');
    const pageFailures = addDue(generator, 5, { withRetryData: false });
    const noData = addDue(stepNamed('ERP sales orders'), 2, { withRetryData: false });
    expect(await queueDueRetries(backend.ws, backend.runtime, Date.now())).toBe(0);
    expect(autoJobs()).toEqual([]);
    for (const id of [...pageFailures, ...noData]) {
      const row = store().getError(Number.parseInt(id.slice(10), 16))!;
      expect(row.resolved).toBe(false);
      expect(row.retryAt).toBeNull();
    }
  });
});

describe('automatic retries while the TUI has the workspace open', () => {
  it('counts the due ones; with FLOWDECK_WORKER=off the header says they wait for a worker', async () => {
    expect(await backend.keepAutomaticRetries()).toEqual({ due: 0, worker: 'off' });
    addDue(stepNamed('ERP sales orders'), 3);
    addDue(stepNamed('ERP sales orders'), 2, { dueAt: Date.now() + 3_600_000 });
    const state = await backend.keepAutomaticRetries();
    expect(state).toEqual({ due: 3, worker: 'off' });
    expect(autoRetryNote(state)).toBe('3 retries due: no worker (flowdeck worker)');
    expect(autoRetryNote({ due: 3, worker: 'running' })).toBe('');
    expect(autoRetryNote({ due: 0, worker: 'off' })).toBe('');
  });
});

describe('retry progress', () => {
  it('says the total when queued and shows outcomes of a slow job while it runs', async () => {
    const erp = stepNamed('ERP sales orders');
    const ids = addDue(erp, 3, { dueAt: Date.now() + 3_600_000 });
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

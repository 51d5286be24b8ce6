import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { GetJobOptions } from '../../src/backend/contract/index.js';
import { followJob } from '../../src/backend/follow-job.js';
import { LocalBackend } from '../../src/backend/local-backend.js';
import type { Job } from '../../src/domain/api.js';
import { ConflictError } from '../../src/domain/errors.js';
import { Workspace } from '../../src/workspace/workspace.js';
import { GATED_FLOW, GATED_FLOWS_YAML, GATED_STEP, gatedTarget, type GatedTarget } from '../helpers/gated-target.js';
import { runFlowToEnd } from '../helpers/jobs.js';
import { tempHome, writeFlowFile, type TempHome } from '../helpers/workspace.js';

// Following a job is the client's: followJob asks getJob until the job ends. getJob with waitMs
// long-polls (answers when the job's status or counters change, or when waitMs passed); with
// FLOWDECK_WORKER=off the process that waits on a queued retry job runs it itself (what the old
// `retry(..., { wait: true })` did). The target holds the run's one record, so a job is surely
// running, and unchanged, for as long as the test needs.

const OPERATOR = 'ops.lead@acme.example';

let tmp: TempHome;
let target: GatedTarget;
let backend: LocalBackend;

beforeEach(async () => {
  tmp = tempHome();
  target = await gatedTarget();
  writeFlowFile(tmp.home, 'gated.yaml', GATED_FLOWS_YAML);
  backend = new LocalBackend(await Workspace.open(tmp.home, { ...process.env, TARGET: target.url, FLOWDECK_USER: OPERATOR, FLOWDECK_WORKER: 'off' }));
});

afterEach(async () => {
  target.release(200);
  await backend.close();
  await target.close();
  tmp.cleanup();
});

/** A flow run held at the target: running, its counters still, until target.release(). */
async function heldRun(): Promise<string> {
  target.hold();
  const { _id } = await backend.runFlow(GATED_FLOW);
  await target.held();
  return _id;
}

/** The backend's getJob, each call recorded with its options. */
function recorded() {
  const calls: Array<{ options: GetJobOptions | undefined }> = [];
  return {
    calls,
    getJob: (id: string, options?: GetJobOptions) => {
      calls.push({ options });
      return backend.getJob(id, options);
    },
  };
}

describe('getJob with waitMs (long-poll)', () => {
  it('answers as soon as the job moves, long before waitMs', async () => {
    const jobId = await heldRun();
    const asked = Date.now();
    const answer = backend.getJob(jobId, { waitMs: 20_000 });
    target.release(200);
    const job = await answer;
    expect(Date.now() - asked).toBeLessThan(10_000);
    // Moved: a counter or the status changed from the running job with nothing done.
    expect((job.numSuccess ?? 0) + (job.numError ?? 0) > 0 || job.status !== 'running').toBe(true);
  });

  it('answers the job unchanged once waitMs passed when nothing moved', async () => {
    const jobId = await heldRun();
    const asked = Date.now();
    const job = await backend.getJob(jobId, { waitMs: 300 });
    expect(Date.now() - asked).toBeGreaterThanOrEqual(290);
    expect(job).toMatchObject({ _id: jobId, status: 'running' });
    expect(job.numSuccess ?? 0).toBe(0);
  });

  it('answers an ended job at once, whatever waitMs says', async () => {
    const done = await runFlowToEnd(backend, GATED_FLOW);
    const asked = Date.now();
    expect(await backend.getJob(done._id, { waitMs: 20_000 })).toMatchObject({ _id: done._id, status: 'completed' });
    expect(Date.now() - asked).toBeLessThan(5_000);
  });
});

describe('followJob', () => {
  it('a job that already ended is answered at once: one ask, one progress report', async () => {
    const done = await runFlowToEnd(backend, GATED_FLOW);
    const asks = recorded();
    const seen: Job[] = [];
    const job = await followJob(asks, done._id, { onProgress: (j) => seen.push(j) });
    expect(job).toMatchObject({ _id: done._id, status: 'completed' });
    expect(asks.calls).toHaveLength(1);
    expect(seen.map((j) => j.status)).toEqual(['completed']);
  });

  it('reports the job at once, then after every answer, until it ends', async () => {
    const jobId = await heldRun();
    const seen: string[] = [];
    const asks = recorded();
    const following = followJob(asks, jobId, {
      onProgress: (j) => {
        seen.push(j.status);
        // Released once the job was reported running (from the first ask, made without waiting).
        if (seen.length === 1) target.release(200);
      },
    });
    const job = await following;
    expect(job).toMatchObject({ status: 'completed', numSuccess: 1 });
    expect(seen[0]).toBe('running');
    expect(seen[seen.length - 1]).toBe('completed');
    expect(asks.calls[0]!.options).toBeUndefined();
    // Every later ask long-polls.
    expect(asks.calls.slice(1).every((c) => (c.options?.waitMs ?? 0) > 0)).toBe(true);
  });

  it('gives up after timeoutMs with a ConflictError "timeout" naming the job and its status', async () => {
    const jobId = await heldRun();
    const asked = Date.now();
    const failure = await followJob(backend, jobId, { timeoutMs: 400 }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(failure).toBeInstanceOf(ConflictError);
    expect(failure).toMatchObject({ code: 'timeout' });
    expect((failure as Error).message).toContain(`job ${jobId} is still running after`);
    expect(Date.now() - asked).toBeGreaterThanOrEqual(390);
    // The job itself goes on: giving up following it is not canceling it.
    expect((await backend.getJob(jobId)).status).toBe('running');
  });

  it('pauses between asks, longer each time, when the backend answers at once (no long-poll)', async () => {
    const jobId = await heldRun();
    // A backend that ignores waitMs; the record is let through at the fifth ask.
    const asked: number[] = [];
    const job = await followJob(
      {
        getJob: (id) => {
          asked.push(Date.now());
          if (asked.length === 5) target.release(200);
          return backend.getJob(id);
        },
      },
      jobId,
    );
    expect(job.status).toBe('completed');
    const gaps = asked.slice(1).map((at, i) => at - asked[i]!);
    // 100 ms, then 200, then 400 … between asks that came back at once (timers never fire early).
    expect(gaps[1]).toBeGreaterThanOrEqual(95);
    expect(gaps[2]).toBeGreaterThanOrEqual(195);
    expect(gaps[3]).toBeGreaterThanOrEqual(395);
  });
});

describe('a retry followed with FLOWDECK_WORKER=off', () => {
  it('retry answers the queued job and runs nothing; the process that follows it runs it to the end', async () => {
    // The run's one record fails (503): one error with a snapshot to retry.
    await runFlowToEnd(backend, GATED_FLOW);
    const [error] = (await backend.listErrors(GATED_FLOW, GATED_STEP)).errors;
    expect(error?.retryDataKey).toBeDefined();

    const sent = target.posts.length;
    const queued = await backend.retries.retry(GATED_FLOW, GATED_STEP, { errorIds: [error!.errorId] });
    expect(queued).toMatchObject({ type: 'retry', status: 'queued', triggeredBy: OPERATOR });
    expect(await backend.retries.recordCounts(queued!._id)).toMatchObject({ total: 1, pending: 1 });
    // Nobody runs it yet: no worker (off), and a read without waitMs runs nothing.
    expect((await backend.getJob(queued!._id)).status).toBe('queued');
    expect(target.posts.length).toBe(sent);

    const seen: string[] = [];
    const job = await followJob(backend, queued!._id, { onProgress: (j) => seen.push(j.status) });
    expect(job).toMatchObject({ _id: queued!._id, status: 'completed' });
    expect(seen[0]).toBe('queued');
    expect(seen[seen.length - 1]).toBe('completed');
    expect(target.posts.length).toBe(sent + 1);
    expect((await backend.retries.retryReport(job._id)).summary).toMatchObject({ failed: 1, pending: 0 });
  });
});

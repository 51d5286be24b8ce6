import { storeRows } from '../helpers/store-sql.js';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { followJob } from '../../src/backend/follow-job.js';
import { LocalBackend } from '../../src/backend/local-backend.js';
import { TERMINAL_JOB_STATUSES } from '../../src/domain/api.js';
import { Workspace } from '../../src/workspace/workspace.js';
import { GATED_FLOW, GATED_FLOWS_YAML, GATED_STEP, gatedTarget, type GatedTarget } from '../helpers/gated-target.js';
import { tempHome, writeFlowFile, type TempHome } from '../helpers/workspace.js';

// runFlow answers the started job at once; the run goes on in this process, and close() lets it
// finish (a flow run cannot resume elsewhere). The target holds the run's one record, so the run is
// surely still going when the job is answered and when close() is called.

const OPERATOR = 'ops.lead@acme.example';

let tmp: TempHome;
let target: GatedTarget;
let backend: LocalBackend | undefined;

const open = async () => new LocalBackend(await Workspace.open(tmp.home, { ...process.env, TARGET: target.url, FLOWDECK_USER: OPERATOR, FLOWDECK_WORKER: 'off' }));

beforeEach(async () => {
  tmp = tempHome();
  target = await gatedTarget();
  writeFlowFile(tmp.home, 'gated.yaml', GATED_FLOWS_YAML);
});

afterEach(async () => {
  target.release(200);
  await backend?.close();
  backend = undefined;
  await target.close();
  tmp.cleanup();
});

it('answers the job while the run goes on; followJob reports it moving and answers it ended', async () => {
  backend = await open();
  target.hold();
  const started = await backend.runFlow(GATED_FLOW);
  expect(started).toMatchObject({ type: 'flow', triggeredBy: OPERATOR });
  expect(TERMINAL_JOB_STATUSES).not.toContain(started.status);
  await target.held();
  expect((await backend.getJob(started._id)).status).toBe('running');

  const seen: string[] = [];
  const following = followJob(backend, started._id, { onProgress: (j) => seen.push(j.status) });
  target.release(200);
  const done = await following;
  expect(done).toMatchObject({ _id: started._id, status: 'completed', numSuccess: 1, numError: 0 });
  expect(seen[0]).toBe('running');
  expect(seen[seen.length - 1]).toBe('completed');
});

it('a run that fails on its target ends with its errors recorded, followed like any job', async () => {
  backend = await open();
  // Not held: the target answers 503.
  const done = await followJob(backend, (await backend.runFlow(GATED_FLOW))._id);
  expect(done).toMatchObject({ status: 'completed', numError: 1 });
  expect((await backend.listErrors(GATED_FLOW, GATED_STEP)).errors).toHaveLength(1);
});

it('close() waits for a run still going to finish before it closes the workspace', async () => {
  const b = await open();
  target.hold();
  const started = await b.runFlow(GATED_FLOW);
  await target.held();
  let closed = false;
  const closing = b.close().then(() => (closed = true));
  // The run is held at the target: close() must not have finished (it would end the run mid-record).
  await new Promise((resolve) => setImmediate(resolve));
  expect(closed).toBe(false);
  target.release(200);
  await closing;
  // Another process reads the run as it ended: completed, not left running or failed by the close.
  backend = await open();
  expect(await backend.getJob(started._id)).toMatchObject({ status: 'completed', numSuccess: 1 });
});

it('a view acting as someone else closes nothing: the run it started goes on and the workspace stays open', async () => {
  backend = await open();
  const ana = backend.actingAs('ana.lima@acme.example');
  target.hold();
  const started = await ana.runFlow(GATED_FLOW);
  expect(started.triggeredBy).toBe('ana.lima@acme.example');
  await target.held();
  await ana.close();
  expect((await backend.getJob(started._id)).status).toBe('running');
  target.release(200);
  // The owner's close() is what waits for it.
  await backend.close();
  backend = await open();
  expect((await backend.getJob(started._id)).status).toBe('completed');
});

it('a run is audited as the operator\'s, naming its job', async () => {
  backend = await open();
  const started = await backend.runFlow(GATED_FLOW);
  const audit = await storeRows(backend.ws, `SELECT actor, action, flow_id, count, detail FROM audit WHERE action = 'run_flow'`);
  expect(audit).toEqual([{ actor: OPERATOR, action: 'run_flow', flow_id: (await backend.resolveFlow(GATED_FLOW)).id, count: 1, detail: JSON.stringify({ job: started._id }) }]);
  await followJob(backend, started._id);
});

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LocalBackend } from '../../src/backend/local-backend.js';
import { decodeId } from '../../src/domain/ids.js';
import { seedDemoWorkspace } from '../../src/workspace/demo.js';
import { retryToEnd } from '../helpers/jobs.js';
import { runDemoFlows, tempHome, type TempHome } from '../helpers/workspace.js';
import { storeRows } from '../helpers/store-sql.js';

// Who acts belongs to the backend. A LocalBackend acts as the workspace's operator; actingAs(email)
// gives a backend over the same workspace acting as someone else (a server's per-request user):
// what it does is recorded as theirs (assignedBy, resolvedBy, triggeredBy, the audit), and `me`
// (assign to me, assignee:me, triggeredBy me) is them.

const OPERATOR = 'ops.lead@acme.example';
const ANA = 'ana.lima@acme.example';
const RAJ = 'raj.patel@acme.example';
const FLOW = 'Shop orders to ERP';
const STEP = 'ERP sales orders';

let tmp: TempHome;
let backend: LocalBackend;

const row = async (errorId: string) => (await backend.ws.store.errors.getError(decodeId('error', errorId)!.rowId))!;
const auditOf = async (action: string) =>
  (await storeRows<{ actor: string; count: unknown }>(backend.ws, 'SELECT actor, count FROM audit WHERE action = ? ORDER BY id', [action])).map((r) => ({ actor: r.actor, count: Number(r.count) }));

async function openErrors(n: number): Promise<string[]> {
  const { errors } = await backend.listErrors(FLOW, STEP, { limit: n });
  expect(errors).toHaveLength(n);
  return errors.map((e) => e.errorId);
}

beforeEach(async () => {
  tmp = tempHome();
  backend = new LocalBackend(await seedDemoWorkspace(tmp.home, { ...process.env, FLOWDECK_USER: OPERATOR, FLOWDECK_WORKER: 'off' }));
  await runDemoFlows(backend);
});

afterEach(async () => {
  await backend.close();
  tmp.cleanup();
});

describe('actingAs', () => {
  it('whoami answers who each backend acts as, both local', async () => {
    expect(await backend.whoami()).toEqual({ email: OPERATOR, location: 'local' });
    expect(await backend.actingAs(ANA).whoami()).toEqual({ email: ANA, location: 'local' });
  });

  it('an assignment made as A is A\'s: assignedBy and the audit\'s actor', async () => {
    const [id] = await openErrors(1);
    await backend.actingAs(ANA).triage.assign(FLOW, STEP, { errorIds: [id!] }, RAJ);
    expect(await row(id!)).toMatchObject({ assignee: RAJ, assignedBy: ANA });
    expect(await auditOf('assign')).toEqual([{ actor: ANA, count: 1 }]);
    // The operator's own backend still acts as the operator.
    await backend.triage.unassign(FLOW, STEP, { errorIds: [id!] });
    await backend.triage.assign(FLOW, STEP, { errorIds: [id!] }, RAJ);
    expect((await row(id!)).assignedBy).toBe(OPERATOR);
    expect((await auditOf('assign')).map((a) => a.actor)).toEqual([ANA, OPERATOR]);
  });

  it('assign to "me" and assignee:me follow the acting user', async () => {
    const [a, b] = await openErrors(2);
    const ana = backend.actingAs(ANA);
    await ana.triage.assign(FLOW, STEP, { errorIds: [a!] }, 'me');
    await backend.triage.assign(FLOW, STEP, { errorIds: [b!] }, 'ME');
    expect(await row(a!)).toMatchObject({ assignee: ANA, assignedBy: ANA });
    expect(await row(b!)).toMatchObject({ assignee: OPERATOR, assignedBy: OPERATOR });
    const mine = async (on: LocalBackend) => (await on.listErrors(FLOW, STEP, { query: 'assignee:me' })).errors.map((e) => e.errorId);
    expect(await mine(ana)).toEqual([a]);
    expect(await mine(backend)).toEqual([b]);
    expect(await ana.countErrors(FLOW, STEP, { query: 'assignee:me' })).toBe(1);
  });

  it('resolving and retrying as A are A\'s; jobs triggeredBy me are the acting user\'s', async () => {
    const [a, b] = await openErrors(2);
    const ana = backend.actingAs(ANA);
    await ana.triage.resolve(FLOW, STEP, { errorIds: [a!] });
    expect(await row(a!)).toMatchObject({ resolved: true, resolvedBy: ANA });
    expect(await auditOf('resolve')).toEqual([{ actor: ANA, count: 1 }]);

    const job = await retryToEnd(ana, FLOW, STEP, { errorIds: [b!] });
    expect(job).toMatchObject({ type: 'retry', triggeredBy: ANA });
    expect((await ana.listJobs({ triggeredBy: 'me' })).map((j) => j._id)).toEqual([job!._id]);
    // The operator's runs (runDemoFlows) are the operator's, not Ana's.
    const operators = await backend.listJobs({ triggeredBy: 'me' });
    expect(operators.length).toBeGreaterThan(0);
    expect(operators.every((j) => j.triggeredBy === OPERATOR)).toBe(true);
    expect(operators.map((j) => j._id)).not.toContain(job!._id);
  });

  it('shares the workspace: each sees what the other did; closing the view closes nothing', async () => {
    const [id] = await openErrors(1);
    const ana = backend.actingAs(ANA);
    await ana.triage.setTags(FLOW, STEP, { errorIds: [id!] }, { add: ['Investigating'] });
    expect((await backend.triage.getError(id!)).error.tags).toEqual(['Investigating']);
    await ana.close();
    // The workspace is still open, for the owner and for the view.
    expect((await backend.listErrors(FLOW, STEP, { limit: 1 })).errors).toHaveLength(1);
    await ana.triage.resolve(FLOW, STEP, { errorIds: [id!] });
    expect((await row(id!)).resolvedBy).toBe(ANA);
  });
});

import { describe, expect, it } from 'vitest';
import type { Route } from '../../src/tui/state/nav.js';
import { retryToEnd } from '../helpers/jobs.js';
import { CRM_FLOW, CRM_STEP, cursorLine, ERP_FLOW, ERP_STEP, errorRow, jobRowId, KEYS, OPERATOR, seededTuiPerTest, type TuiHarness } from '../helpers/render.js';

// The error detail, the jobs view with live progress, and the logs drill-down
// (job → entries → trace across steps → stage data).

const seeded = seededTuiPerTest();
let tui: TuiHarness | undefined;

async function detailRoute(errorId: string): Promise<Route[]> {
  const d = await seeded.backend.triage.getError(errorId);
  return [
    { view: 'flows' },
    { view: 'error', errorId, flowId: d.flowId, flowName: d.flowName, stepId: d.stepId, stepName: d.stepName },
  ];
}

describe('error detail', () => {
  it('shows the message pretty-printed, the snapshot, the masked request and response, and the log trace', async () => {
    const [e] = (await seeded.backend.listErrors(ERP_FLOW, ERP_STEP, { query: 'code:429', limit: 1 })).errors;
    tui = seeded.render({ routes: await detailRoute(e!.errorId), rows: 200 });
    const frame = await tui.waitFor(`trace ${e!.traceKey} across`);
    expect(frame).toContain(`Error ${e!.errorId} · open · ${ERP_FLOW} › ${ERP_STEP}`);
    expect(frame).toContain('── Message ──');
    expect(frame).toMatch(/"message": "Too many requests/);
    expect(frame).toContain('── Retry data (snapshot) ──');
    expect(frame).toContain(`"retryDataKey": "${e!.retryDataKey}"`);
    expect(frame).toContain('── Request and response (secrets masked) ──');
    expect(frame).toMatch(/POST http:\/\/127\.0\.0\.1:\d+\//);
    // The ERP's bearer token never reaches the screen.
    expect(frame).toMatch(/authorization: \*+/i);
    expect(frame).toContain('→ 429');
    expect(frame).toContain('── Execution log ──');
    expect(frame).toMatch(/ERP sales orders\s+error/);
  });

  it('history lists the earlier errors of the same retry data after a retry fails again', async () => {
    const [e] = (await seeded.backend.listErrors(ERP_FLOW, ERP_STEP, { query: 'code:422 class:value', limit: 1 })).errors;
    await retryToEnd(seeded.backend, ERP_FLOW, ERP_STEP, { errorIds: [e!.errorId] });
    const [again] = (await seeded.backend.listErrors(ERP_FLOW, ERP_STEP, { query: `rdk:${e!.retryDataKey}` })).errors;
    expect(again!.errorId).not.toBe(e!.errorId);
    tui = seeded.render({ routes: await detailRoute(again!.errorId), rows: 200 });
    const frame = await tui.waitFor('── History');
    expect(frame).toContain(e!.errorId);
    expect(frame).toMatch(new RegExp(`${e!.errorId}\\s+422\\s+resolved`));
  });

  it('scrolls, and the triage keys act on this error: x resolves it, a assigns it', async () => {
    const [e] = (await seeded.backend.listErrors(CRM_FLOW, CRM_STEP, { limit: 1 })).errors;
    tui = seeded.render({ routes: await detailRoute(e!.errorId), rows: 20 });
    await tui.waitFor(/lines 1-\d+ of \d+/);
    await tui.pressAndWait('j', /lines 2-\d+ of/);
    await tui.pressAndWait('G', (f) => /lines (\d+)-(\d+) of \2/.test(f));
    await tui.pressAndWait('g', /lines 1-/);
    await tui.pressAndWait('a', 'Assign to');
    tui.type('chen');
    await tui.pressAndWait(KEYS.enter, 'Assigned 1 error to chen.wei@acme.example.');
    expect((await errorRow(seeded.backend, e!.errorId)).assignee).toBe('chen.wei@acme.example');
    await tui.waitFor('Assignee:   chen.wei@acme.example');
    await tui.pressAndWait('x', 'Resolved 1 error.');
    await tui.waitFor(`Error ${e!.errorId} · resolved`);
    expect((await errorRow(seeded.backend, e!.errorId)).resolved).toBe(true);
    expect((await errorRow(seeded.backend, e!.errorId)).resolvedBy).toBe(OPERATOR);
    // Resolved: x is gone from the footer, o reopens.
    expect(tui.frame()).toContain('o reopen');
    await tui.pressAndWait('o', 'Reopened 1 error.');
    expect((await errorRow(seeded.backend, e!.errorId)).resolved).toBe(false);
  });
});

describe('jobs', () => {
  it('lists recent jobs and follows a running retry job live until it completes', async () => {
    const job = await seeded.backend.retries.retry(CRM_FLOW, CRM_STEP, { query: 'class:intermittent' });
    tui = seeded.render({ routes: [{ view: 'flows' }, { view: 'jobs' }] });
    const frame = await tui.waitFor(job!._id);
    expect(frame).toMatch(new RegExp(`${job!._id}\\s+retry\\s+${CRM_FLOW}\\s+${CRM_STEP}\\s+${OPERATOR.slice(0, 10)}\\S*\\s+queued\\s+\\d+ records, waiting`));
    expect(frame).toMatch(/flow\s+Shop orders to ERP\s+-\s+\S+\s+completed\s+done/);
    await seeded.backend.runtime.start();
    seeded.backend.runtime.mockSystems!.crm.setFailureRate(0);
    await seeded.backend.runtime.runRetryJob(jobRowId(job!._id));
    const done = await tui.waitFor(new RegExp(`${job!._id}\\s+retry\\s+${CRM_FLOW}\\s+${CRM_STEP}\\s+\\S+\\s+completed\\s+done\\s+(\\d+)`));
    const resolved = Number(new RegExp(`${job!._id}.*done\\s+(\\d+)`).exec(done)![1]);
    expect(resolved).toBeGreaterThan(0);
  });

  it('c cancels the job under the cursor after a confirmation', async () => {
    const job = await seeded.backend.retries.retry(CRM_FLOW, CRM_STEP, { query: 'class:intermittent' });
    tui = seeded.render({ routes: [{ view: 'flows' }, { view: 'jobs' }] });
    await tui.waitFor((f) => (cursorLine(f) ?? '').includes(job!._id));
    expect(tui.frame()).toContain('c cancel job');
    await tui.pressAndWait('c', `Cancel retry job ${job!._id} (${CRM_FLOW})? y/N`);
    await tui.pressAndWait('y', `Job ${job!._id} is canceled.`);
    expect((await seeded.backend.getJob(job!._id)).status).toBe('canceled');
  });

  it('drills down: job → log entries → trace across steps → stage data', async () => {
    const flow = await seeded.backend.getFlow(ERP_FLOW);
    const jobId = flow.lastJob!._id;
    tui = seeded.render({ routes: [{ view: 'flows' }, { view: 'jobs' }] });
    await tui.waitFor(jobId);
    // Move the cursor to the ERP flow's run.
    for (let i = 0; i < 10 && !(cursorLine(tui.frame()) ?? '').includes(jobId); i++) await tui.pressAndWait('j', () => true);
    expect(cursorLine(tui.frame())).toContain(jobId);
    const entries = await tui.pressAndWait(KEYS.enter, `flow job ${jobId}`);
    expect(entries).toContain('STARTED (UTC)');
    await tui.waitFor(/\d+\+? entries/);
    // Only the failures.
    await tui.pressAndWait('s', 'Showing error entries.');
    await tui.waitFor((f) => f.includes('error only') && f.split('\n').filter((l) => /^[› ] \d\d-\d\d/.test(l)).every((l) => /\serror\s/.test(l)));
    const trace = await tui.pressAndWait(KEYS.enter, /Trace \S+ across the steps/);
    expect(trace).toMatch(/Shop orders\s+success/);
    await tui.pressAndWait('G', (f) => (cursorLine(f) ?? '').includes('ERP sales orders'));
    const data = await tui.pressAndWait(KEYS.enter, '── ');
    expect(data).toMatch(/ERP sales orders · record \S+ · error/);
    expect(data).toMatch(/── (apiCall|mapping) ──/);
    await tui.pressAndWait(KEYS.escape, /Trace \S+ across/);
    await tui.pressAndWait(KEYS.escape, 'error only');
  });
});

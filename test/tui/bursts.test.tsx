import { describe, expect, it } from 'vitest';
import type { Route } from '../../src/tui/state/nav.js';
import { tagCode } from '../../src/workspace/demo.js';
import { cursorLine, ERP_FLOW, ERP_STEP, errorRow, KEYS, seededTuiPerTest, type TuiHarness } from '../helpers/render.js';

// Keys that arrive together — a paste, tmux send-keys, a fast typist between two frames — come in
// one stdin chunk. Each must be handled in the mode the key before it opened: a prompt opened by
// `/` gets the rest of the burst, a picker every arrow, and a y/N question no key typed before it
// was on screen. Every burst here is one write.

const seeded = seededTuiPerTest();
let tui: TuiHarness | undefined;

async function erpRoutes(): Promise<Route[]> {
  const flow = await seeded.backend.getFlow(ERP_FLOW);
  const step = flow.steps.find((s) => s.name === ERP_STEP)!;
  return [
    { view: 'flows' },
    { view: 'steps', flowId: flow._id, flowName: flow.name },
    { view: 'errors', flowId: flow._id, flowName: flow.name, stepId: step._id, stepName: step.name },
  ];
}

async function openErrors(): Promise<TuiHarness> {
  tui = seeded.render({ routes: await erpRoutes() });
  await tui.waitFor(/row 1 of \d+/);
  return tui;
}

async function openCount(): Promise<number> {
  return (await seeded.backend.listErrors(ERP_FLOW, ERP_STEP, { limit: 1000 })).errors.length;
}

describe('a burst of keys does what typing slowly does', () => {
  it('/ then a query and enter in one write filters; no letter of it runs as a command', async () => {
    const errors = (await seeded.backend.listErrors(ERP_FLOW, ERP_STEP, { limit: 1000 })).errors;
    const trace = errors.find((e) => e.traceKey)!.traceKey!;
    const before = errors.length;
    const t = await openErrors();
    // "trace:" holds r (retry), e (edit), a (assign), t (tags), c; the prompt must get them all.
    t.type(`/trace:${trace}\r`);
    const frame = await t.waitFor(`filter trace:${trace}`);
    expect(frame).toMatch(/row 1 of 1\b/);
    expect(t.edits).toEqual([]);
    expect((await seeded.backend.listJobs()).filter((j) => j.type === 'retry')).toEqual([]);
    expect(await openCount()).toBe(before);
    expect(frame).not.toMatch(/Assign to|Tags \(|y\/N/);
    // The same with the / and the text in two writes (20 ms apart in a terminal): the prompt is
    // still loading its suggestions when the text comes, and gets it all the same.
    t.press('/', KEYS.ctrlU + 'code:422\r');
    await t.waitFor('filter code:422');
    expect(t.edits).toEqual([]);
    expect((await seeded.backend.listJobs()).filter((j) => j.type === 'retry')).toEqual([]);
  });

  it(': then jobs and enter in one write opens the jobs view; j o b s never reach the errors view', async () => {
    const t = await openErrors();
    t.type(':jobs\r');
    const jobs = await t.waitFor('PROGRESS');
    expect(jobs).toContain('› Jobs');
    expect(jobs).not.toContain('back-off');
    expect((await seeded.backend.listJobs()).filter((j) => j.type === 'retry')).toEqual([]);
  });

  it('the tag picker takes every key of a burst: Down Down Down moves three rows, Down Space marks the next', async () => {
    const errors = (await seeded.backend.listErrors(ERP_FLOW, ERP_STEP, { limit: 2 })).errors;
    const t = await openErrors();
    t.type(`${KEYS.space}${KEYS.space}`);
    await t.waitFor('2 marked');
    // The picker is opened by the burst itself: its keys wait for the catalog to load.
    t.type(`t${KEYS.down}${KEYS.down}${KEYS.down}`);
    // The catalog is listed by name: Investigating, Known issue, Needs data fix, Noise, Waiting on target.
    await t.waitFor((f) => (cursorLine(f) ?? '').includes('Noise'));
    t.type(`${KEYS.down}${KEYS.space}`);
    await t.waitFor('[+] Waiting on target');
    await t.pressAndWait(KEYS.enter, 'Add Waiting on target on 2 errors? y/N');
    await t.pressAndWait('y', 'Tags: add Waiting on target — 2 errors changed.');
    expect((await errorRow(seeded.backend, errors[0]!.errorId)).tags).toEqual([tagCode('Waiting on target')]);
  });

  it('the assign picker takes every key of a burst: a Down Down picks the third user', async () => {
    const first = (await seeded.backend.listErrors(ERP_FLOW, ERP_STEP, { limit: 1 })).errors[0]!;
    const t = await openErrors();
    t.type(`a${KEYS.down}${KEYS.down}`);
    await t.waitFor((f) => (cursorLine(f) ?? '').includes('chen.wei@acme.example'));
    await t.pressAndWait(KEYS.enter, 'Assigned 1 error to chen.wei@acme.example.');
    expect((await errorRow(seeded.backend, first.errorId)).assignee).toBe('chen.wei@acme.example');
  });

  it('a y typed with the key that asks never answers the question: xy leaves the prompt open and nothing resolved', async () => {
    const before = await openCount();
    const t = await openErrors();
    t.type(`${KEYS.space}${KEYS.space}xy`);
    await t.waitFor('Resolve 2 errors? y/N');
    // Still asking: an n now cancels (had the y answered, the n would find no question).
    await t.pressAndWait('n', 'Canceled: nothing changed.');
    expect(await openCount()).toBe(before);
    // Asked and then answered, it does what it says.
    await t.pressAndWait('x', 'Resolve 2 errors? y/N');
    await t.pressAndWait('y', 'Resolved 2 errors.');
    expect(await openCount()).toBe(before - 2);
  });

  it('keys after a drill-down go to the view it opened, and the help overlay takes its own', async () => {
    const t = await openErrors();
    const errors = (await seeded.backend.listErrors(ERP_FLOW, ERP_STEP, { limit: 3 })).errors;
    // enter opens the error under the cursor; esc comes back; j moves; all in one write.
    t.type(`jj\r`);
    await t.waitFor(`Error ${errors[2]!.errorId}`);
    t.type(`${KEYS.escape}k`);
    await t.waitFor(/row 2 of \d+/);
    // The j after ? scrolls the help (its title goes up by one line); it does not move the cursor.
    t.type('?j');
    await t.waitFor((f) => f.includes('esc close help') && !f.includes('Keys — Errors') && f.includes('Filter (/)'));
    await t.pressAndWait(KEYS.escape, /row 2 of \d+/);
  });
});

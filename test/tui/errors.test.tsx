import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Route } from '../../src/tui/state/nav.js';
import { tagCode } from '../../src/workspace/demo.js';
import { CRM_FLOW, CRM_STEP, cursorLine, ERP_FLOW, ERP_STEP, errorRow, jobRowId, KEYS, lineWith, OPERATOR, type RenderOptions, seededTuiPerTest, type TuiHarness } from '../helpers/render.js';

// The errors table and every key on it, against a real workspace: each test drives the screen
// and then checks the store.

const seeded = seededTuiPerTest();
let tui: TuiHarness | undefined;

async function routesTo(flowName: string, stepName: string): Promise<Route[]> {
  const flow = await seeded.backend.getFlow(flowName);
  const step = flow.steps.find((s) => s.name === stepName)!;
  return [
    { view: 'flows' },
    { view: 'steps', flowId: flow._id, flowName: flow.name },
    { view: 'errors', flowId: flow._id, flowName: flow.name, stepId: step._id, stepName: step.name },
  ];
}

async function openErrors(flowName = ERP_FLOW, stepName = ERP_STEP, options: RenderOptions = {}): Promise<TuiHarness> {
  tui = seeded.render({ ...options, routes: await routesTo(flowName, stepName) });
  await tui.waitFor(/row 1 of \d+/);
  return tui;
}

async function open(flowName: string, stepName: string, query?: string) {
  return (await seeded.backend.listErrors(flowName, stepName, { limit: 1000, ...(query ? { query } : {}) })).errors;
}

/** Applies a filter through the / prompt and waits for the table to show it. */
async function filter(t: TuiHarness, query: string) {
  await t.pressAndWait('/', 'enter apply');
  t.press(KEYS.ctrlU);
  t.type(query);
  await t.pressAndWait(KEYS.enter, `filter ${query}`);
  await t.waitFor((f) => /row 1\b/.test(f) || f.includes('No open errors match'));
}

describe('the table', () => {
  it('shows time, code, source, class, message, tags, assignee and retry time, newest first', async () => {
    const errors = await open(ERP_FLOW, ERP_STEP);
    const t = await openErrors();
    const frame = t.frame();
    for (const h of ['TIME (UTC)', 'CODE', 'SOURCE', 'CLASS', 'MESSAGE', 'TAGS', 'ASSIGNEE', 'RETRY AT']) expect(frame).toContain(h);
    expect(frame).toContain(`[Open ${errors.length}]`);
    expect(frame).toContain(`row 1 of ${errors.length}`);
    expect(cursorLine(frame)).toContain(errors[0]!.occurredAt.slice(11, 19));
    expect(cursorLine(frame)).toContain(errors[0]!.code);
    // The message is one line: a JSON error body shows its first message.
    expect(frame).not.toContain('{"errors"');
  });

  it('moves with j, k, PgDn, PgUp, G and g, showing the position', async () => {
    const errors = await open(ERP_FLOW, ERP_STEP);
    const t = await openErrors();
    await t.pressAndWait('j', `row 2 of ${errors.length}`);
    await t.pressAndWait(KEYS.down, `row 3 of ${errors.length}`);
    await t.pressAndWait('k', `row 2 of ${errors.length}`);
    const page = await t.pressAndWait(KEYS.pageDown, (f) => /row (\d+) of/.exec(f)?.[1] !== '2');
    const at = Number(/row (\d+) of/.exec(page)![1]);
    expect(at).toBeGreaterThan(10);
    await t.pressAndWait(KEYS.pageUp, `row 2 of ${errors.length}`);
    await t.pressAndWait('G', `row ${errors.length} of ${errors.length}`);
    await t.pressAndWait('g', `row 1 of ${errors.length}`);
  });

  it('enter opens the error, esc comes back to the same row', async () => {
    const errors = await open(ERP_FLOW, ERP_STEP);
    const t = await openErrors();
    await t.pressAndWait(['j', 'j'], 'row 3 of');
    const detail = await t.pressAndWait(KEYS.enter, `Error ${errors[2]!.errorId}`);
    expect(detail).toContain('── Message ──');
    await t.pressAndWait(KEYS.escape, 'row 3 of');
  });

  it('tab shows the resolved errors of the step', async () => {
    const [first] = await open(ERP_FLOW, ERP_STEP);
    await seeded.backend.triage.resolve(ERP_FLOW, ERP_STEP, { errorIds: [first!.errorId] });
    const t = await openErrors();
    const resolved = await t.pressAndWait(KEYS.tab, '[Resolved]');
    expect(resolved).toContain('RESOLVED');
    expect(resolved).toContain('BY');
    await t.waitFor(OPERATOR.slice(0, 12));
    expect(resolved).not.toContain('RETRY AT');
    await t.pressAndWait(KEYS.tab, '[Open');
  });
});

describe('filter', () => {
  it('/ filters with the query language; esc clears it', async () => {
    const all = await open(ERP_FLOW, ERP_STEP);
    const value = await open(ERP_FLOW, ERP_STEP, 'class:value !code:429');
    expect(value.length).toBeGreaterThan(0);
    const t = await openErrors();
    await filter(t, 'class:value !code:429');
    const frame = t.frame();
    const rows = frame.split('\n').filter((l) => /^[› ] {3}\d\d-\d\d/.test(l));
    expect(rows).toHaveLength(value.length);
    for (const r of rows) expect(r).toContain('value');
    await t.pressAndWait(KEYS.escape, 'no filter');
    await t.waitFor(`[Open ${all.length}]`);
  });

  it('a new filter replaces the rows in one frame: never a loading frame, never the filter over old rows', async () => {
    const all = await open(ERP_FLOW, ERP_STEP);
    const value = await open(ERP_FLOW, ERP_STEP, 'class:value');
    expect(value.length).toBeLessThan(all.length);
    const t = await openErrors();
    await t.pressAndWait('/', 'enter apply');
    t.type('class:value');
    await t.waitFor('/ class:value');
    const before = t.frames().length;
    await t.pressAndWait(KEYS.enter, (f) => f.includes('filter class:value') && !f.includes('enter apply'));
    const after = t.frames().slice(before);
    expect(after.some((f) => /loading/i.test(f))).toBe(false);
    const filtered = after.filter((f) => f.includes('filter class:value'));
    expect(filtered.length).toBeGreaterThan(0);
    // The first frame showing the new filter already shows its rows, and only its rows.
    expect(filtered[0]).toContain(`row 1 of ${value.length}`);
    const rows = filtered[0]!.split('\n').filter((l) => /^[› ] {3}\d\d-\d\d/.test(l));
    expect(rows).toHaveLength(value.length);
    for (const r of rows) expect(r).toContain('value');
  });

  it('a filter the backend refuses (an unknown tag) keeps the prompt open with why; the rows stay', async () => {
    const all = await open(ERP_FLOW, ERP_STEP);
    const t = await openErrors();
    await t.pressAndWait('/', 'enter apply');
    t.type('tag:NoSuchTag');
    const refused = await t.pressAndWait(KEYS.enter, 'unknown tag "NoSuchTag"');
    expect(refused).toContain('/ tag:NoSuchTag');
    expect(refused).toContain(`row 1 of ${all.length}`);
    await t.pressAndWait(KEYS.escape, 'no filter (/ to filter)');
  });

  it('an invalid query shows why in the footer and leaves the filter unchanged', async () => {
    const t = await openErrors();
    await t.pressAndWait('/', 'enter apply');
    t.type('code: class:bogus');
    await t.pressAndWait(KEYS.enter, 'empty value for "code"');
    await t.pressAndWait(KEYS.escape, 'no filter (/ to filter)');
    await t.pressAndWait('/', 'enter apply');
    t.type('class:bogus');
    await t.pressAndWait(KEYS.enter, 'unknown classification "bogus"');
    await t.pressAndWait(KEYS.escape, 'no filter (/ to filter)');
    expect(t.frame()).toMatch(/row 1 of \d+/);
  });

  it('tab completes field names and values', async () => {
    const t = await openErrors();
    await t.pressAndWait('/', 'enter apply');
    t.type('class:rate');
    await t.pressAndWait(KEYS.tab, '/ class:rate_limit');
    await t.pressAndWait(KEYS.enter, 'filter class:rate_limit');
  });
});

describe('marks and bulk actions', () => {
  it('space marks rows, x resolves them after a confirmation with the count', async () => {
    const errors = await open(ERP_FLOW, ERP_STEP);
    const t = await openErrors();
    await t.pressAndWait(KEYS.space, '1 marked');
    await t.pressAndWait(KEYS.space, '2 marked');
    await t.pressAndWait('x', 'Resolve 2 errors? y/N');
    await t.pressAndWait('y', 'Resolved 2 errors.');
    await t.waitFor(`row 1 of ${errors.length - 2}`);
    expect((await errorRow(seeded.backend, errors[0]!.errorId)).resolved).toBe(true);
    expect((await errorRow(seeded.backend, errors[1]!.errorId)).resolved).toBe(true);
    expect((await errorRow(seeded.backend, errors[1]!.errorId)).resolvedBy).toBe(OPERATOR);
    expect((await errorRow(seeded.backend, errors[2]!.errorId)).resolved).toBe(false);
    expect(t.frame()).not.toContain('marked');
  });

  it('anything but y cancels: nothing changes', async () => {
    const errors = await open(ERP_FLOW, ERP_STEP);
    const t = await openErrors();
    t.press(KEYS.space);
    await t.pressAndWait(KEYS.space, '2 marked');
    await t.pressAndWait('x', 'Resolve 2 errors? y/N');
    await t.pressAndWait('n', 'Canceled: nothing changed.');
    expect((await errorRow(seeded.backend, errors[0]!.errorId)).resolved).toBe(false);
  });

  it('x on the row under the cursor resolves it at once', async () => {
    const errors = await open(ERP_FLOW, ERP_STEP);
    const t = await openErrors();
    await t.pressAndWait('x', 'Resolved 1 error.');
    expect((await errorRow(seeded.backend, errors[0]!.errorId)).resolved).toBe(true);
    await t.waitFor((f) => cursorLine(f)?.includes(errors[1]!.occurredAt.slice(11, 19)) === true && f.includes(`row 1 of ${errors.length - 1}`));
  });

  it('v marks a range as the cursor moves; shift-↓ and J mark while moving; u clears', async () => {
    const t = await openErrors();
    await t.pressAndWait('v', 'Range mark');
    await t.pressAndWait('j', '2 marked');
    await t.pressAndWait('j', '3 marked');
    await t.pressAndWait('v', 'Range ended: 3 marked.');
    await t.pressAndWait('j', 'row 4 of');
    await t.pressAndWait(KEYS.shiftDown, '4 marked');
    await t.pressAndWait('J', '5 marked');
    const frame = t.frame();
    expect(frame.split('\n').filter((l) => l.startsWith('  ●') || l.startsWith('› ●'))).toHaveLength(5);
    await t.pressAndWait('u', 'Marks cleared.');
    expect(t.frame()).not.toContain('●');
  });

  it('A marks every error matching the filter — not only the visible rows — and the bulk action selects by the query', async () => {
    const rateLimited = await open(ERP_FLOW, ERP_STEP, 'class:rate_limit');
    expect(rateLimited.length).toBeGreaterThan(5);
    const t = await openErrors(ERP_FLOW, ERP_STEP, { rows: 14 });
    await filter(t, 'class:rate_limit');
    // Far fewer rows fit on screen than match.
    expect(t.frame().split('\n').filter((l) => /^[› ] {3}\d\d-\d\d/.test(l)).length).toBeLessThan(rateLimited.length);
    await t.pressAndWait('A', 'all matching class:rate_limit');
    await t.pressAndWait('x', `Resolve ${rateLimited.length} errors? y/N`);
    await t.pressAndWait('y', `Resolved ${rateLimited.length} errors.`);
    await t.waitFor('No open errors match class:rate_limit');
    for (const e of rateLimited) expect((await errorRow(seeded.backend, e.errorId)).resolved).toBe(true);
    expect(await open(ERP_FLOW, ERP_STEP, 'class:value')).not.toHaveLength(0);
  });

  it('o reopens resolved errors from the Resolved tab', async () => {
    const errors = await open(ERP_FLOW, ERP_STEP);
    await seeded.backend.triage.resolve(ERP_FLOW, ERP_STEP, { errorIds: [errors[0]!.errorId, errors[1]!.errorId] });
    const t = await openErrors();
    await t.pressAndWait(KEYS.tab, '[Resolved]');
    await t.waitFor('row 1 of 2');
    expect(t.frame()).toContain('o reopen');
    await t.pressAndWait('A', 'Marked every resolved error');
    await t.pressAndWait('o', 'Reopen 2 errors? y/N');
    await t.pressAndWait('y', 'Reopened 2 errors.');
    expect((await errorRow(seeded.backend, errors[0]!.errorId)).resolved).toBe(false);
    expect((await errorRow(seeded.backend, errors[1]!.errorId)).resolved).toBe(false);
  });
});

describe('assign and tags', () => {
  it('a picks a user from the list', async () => {
    const [first] = await open(ERP_FLOW, ERP_STEP);
    const t = await openErrors();
    await t.pressAndWait('a', 'ben.okafor@acme.example');
    t.type('ben');
    await t.waitFor((f) => cursorLine(f)?.includes('ben.okafor@acme.example') === true);
    await t.pressAndWait(KEYS.enter, 'Assigned 1 error to ben.okafor@acme.example.');
    expect((await errorRow(seeded.backend, first!.errorId)).assignee).toBe('ben.okafor@acme.example');
    await t.waitFor((f) => cursorLine(f)?.includes('ben.okafor') === true);
  });

  it('a takes a typed email that is no known user, and checks it is an email', async () => {
    const [first] = await open(ERP_FLOW, ERP_STEP);
    const t = await openErrors();
    await t.pressAndWait('a', 'Assign to');
    t.type('not-an-email');
    await t.pressAndWait(KEYS.enter, (f) => f.includes('is not an email address'));
    t.press(KEYS.ctrlU);
    t.type('night.shift@partner.example');
    await t.pressAndWait(KEYS.enter, 'Assigned 1 error to night.shift@partner.example.');
    expect((await errorRow(seeded.backend, first!.errorId)).assignee).toBe('night.shift@partner.example');
  });

  it('a on marked errors asks with the count; "unassign" clears the assignee', async () => {
    const errors = await open(ERP_FLOW, ERP_STEP);
    await seeded.backend.triage.assign(ERP_FLOW, ERP_STEP, { errorIds: [errors[0]!.errorId, errors[1]!.errorId] }, 'chen.wei@acme.example');
    const t = await openErrors();
    t.press(KEYS.space);
    await t.pressAndWait(KEYS.space, '2 marked');
    await t.pressAndWait('a', 'unassign');
    t.type('unassign');
    await t.pressAndWait(KEYS.enter, 'Unassign 2 errors? y/N');
    await t.pressAndWait('y', 'Unassigned 2 errors.');
    expect((await errorRow(seeded.backend, errors[0]!.errorId)).assignee).toBeNull();
    expect((await errorRow(seeded.backend, errors[1]!.errorId)).assignee).toBeNull();
  });

  it('t adds and removes catalog tags', async () => {
    const errors = await open(ERP_FLOW, ERP_STEP);
    const t = await openErrors();
    t.press(KEYS.space);
    await t.pressAndWait(KEYS.space, '2 marked');
    const picker = await t.pressAndWait('t', 'Tags (2 errors)');
    expect(picker).toContain('Needs data fix');
    // Investigating is first in the catalog: space cycles keep → add.
    await t.pressAndWait(KEYS.space, '[+] Investigating');
    await t.pressAndWait(KEYS.enter, 'Add Investigating on 2 errors? y/N');
    await t.pressAndWait('y', 'Tags: add Investigating — 2 errors changed.');
    const code = tagCode('Investigating');
    expect((await errorRow(seeded.backend, errors[0]!.errorId)).tags).toEqual([code]);
    expect((await errorRow(seeded.backend, errors[1]!.errorId)).tags).toEqual([code]);
    await t.waitFor((f) => (lineWith(f, /^[› ] ●/) ?? '').includes('Investigating'));

    await t.pressAndWait('t', '2 of 2 have it');
    await t.pressAndWait('-', '[-] Investigating');
    await t.pressAndWait(KEYS.enter, 'Remove Investigating on 2 errors? y/N');
    await t.pressAndWait('y', 'Tags: remove Investigating');
    expect((await errorRow(seeded.backend, errors[0]!.errorId)).tags).toEqual([]);
  });
});

describe('snapshots', () => {
  it('e edits the snapshot in the editor: validated, a diff to review, saved', async () => {
    const [first] = await open(ERP_FLOW, ERP_STEP, 'code:422 class:value');
    const t = await openErrors(ERP_FLOW, ERP_STEP, {
      edit: (file) => {
        const doc = JSON.parse(readFileSync(file, 'utf8')) as { data: { customer: { email?: string } } };
        doc.data.customer.email = 'fixed@example.com';
        writeFileSync(file, JSON.stringify(doc, null, 2));
      },
    });
    await filter(t, 'code:422 class:value');
    const review = await t.pressAndWait('e', 'Save this snapshot? y/N');
    expect(review).toContain(`Retry data ${first!.retryDataKey}`);
    expect(review).toMatch(/\+\s+"email": "fixed@example.com"/);
    await t.pressAndWait('y', `Saved retry data ${first!.retryDataKey}`);
    const saved = await seeded.backend.records.getRetryData(ERP_FLOW, ERP_STEP, first!.retryDataKey!);
    expect((saved.data as { customer: { email: string } }).customer.email).toBe('fixed@example.com');
    // Editing does not resolve.
    expect((await errorRow(seeded.backend, first!.errorId)).resolved).toBe(false);
  });

  it('e refuses an edit that is not valid JSON or breaks the envelope, and saves nothing', async () => {
    const [first] = await open(ERP_FLOW, ERP_STEP, 'code:422');
    const before = await seeded.backend.records.getRetryData(ERP_FLOW, ERP_STEP, first!.retryDataKey!);
    let edit = (file: string) => writeFileSync(file, '{ not json');
    const t = await openErrors(ERP_FLOW, ERP_STEP, { edit: (file) => edit(file) });
    await filter(t, 'code:422');
    await t.pressAndWait('e', 'is not valid JSON');
    edit = (file) => {
      const doc = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
      doc.stage = 'somewhere-else';
      writeFileSync(file, JSON.stringify(doc));
    };
    await t.pressAndWait('e', 'does not match the stored snapshot');
    edit = () => undefined;
    await t.pressAndWait('e', 'No changes: nothing saved.');
    expect(await seeded.backend.records.getRetryData(ERP_FLOW, ERP_STEP, first!.retryDataKey!)).toEqual(before);
    // Never a stack trace on screen.
    expect(t.frame()).not.toMatch(/\bat .*\.(ts|js):\d+/);
  });

  it('p patches the snapshots of the marked errors after a diff preview', async () => {
    const value = await open(ERP_FLOW, ERP_STEP, 'code:422 class:value');
    const t = await openErrors();
    await filter(t, 'code:422 class:value');
    t.press(KEYS.space);
    await t.pressAndWait(KEYS.space, '2 marked');
    await t.pressAndWait('p', 'patch:');
    t.type('set data.customer.email=ops@example.com');
    const review = await t.pressAndWait(KEYS.enter, 'Save 2 snapshots? y/N');
    expect(review).toContain('Patch 2 snapshots of 2 errors');
    expect(review).toMatch(/\+\s+"email": "ops@example.com"/);
    await t.pressAndWait('y', 'Patched 2 snapshots.');
    for (const e of value.slice(0, 2)) {
      const rd = await seeded.backend.records.getRetryData(ERP_FLOW, ERP_STEP, e.retryDataKey!);
      expect((rd.data as { customer: { email: string } }).customer.email).toBe('ops@example.com');
    }
    const third = await seeded.backend.records.getRetryData(ERP_FLOW, ERP_STEP, value[2]!.retryDataKey!);
    expect((third.data as { customer: { email?: string } }).customer.email).not.toBe('ops@example.com');
  });

  it('p without marks says to mark first; a bad patch is refused in the prompt', async () => {
    const t = await openErrors();
    await t.pressAndWait('p', 'Mark the errors whose snapshots to patch first');
    await t.pressAndWait(KEYS.space, '1 marked');
    await t.pressAndWait('p', 'patch:');
    t.type('change data.x');
    await t.pressAndWait(KEYS.enter, 'write set data.path=value or unset data.path');
    await t.pressAndWait(KEYS.escape, '1 marked');
  });
});

describe('retry', () => {
  it('r queues a retry job and moves on; rows show as retrying; the list updates as the job resolves them', async () => {
    const rateLimited = await open(ERP_FLOW, ERP_STEP, 'class:rate_limit');
    const t = await openErrors();
    await filter(t, 'class:rate_limit');
    await t.pressAndWait('A', 'all matching');
    await t.pressAndWait('r', `Retry ${rateLimited.length} records? y/N`);
    const queued = await t.pressAndWait('y', /Retry job [0-9a-f]{24} queued/);
    const jobId = /Retry job ([0-9a-f]{24}) queued/.exec(queued)![1]!;
    // Queued, not yet running: no worker runs in tests until the test plays it.
    await t.waitFor((f) => (cursorLine(f) ?? '').includes('retrying') && f.includes('1 retry job queued'));
    expect(queued).toContain('↻');
    expect((await seeded.backend.getJob(jobId)).status).toBe('queued');

    // The operator moves on while the job waits for a worker.
    await t.pressAndWait('j', 'row 2 of');
    // Play the background worker: run the queued job in this process against a target that no
    // longer rate-limits.
    await seeded.backend.runtime.start();
    seeded.backend.runtime.mockSystems!.erp.setRateLimit(100_000);
    await seeded.backend.runtime.runRetryJob(jobRowId(jobId));
    const done = await t.waitFor(`Retry job ${jobId} completed`);
    expect(done).toMatch(/\d+ errors? resolved/);
    await t.waitFor((f) => !f.includes('retrying') && !/retry jobs? (running|queued)/.test(f));
    for (const e of rateLimited) expect((await errorRow(seeded.backend, e.errorId)).resolved).toBe(true);
    // Never a stale row: what is left on screen is what is open now.
    const stillOpen = await open(ERP_FLOW, ERP_STEP, 'class:rate_limit');
    if (stillOpen.length === 0) await t.waitFor('No open errors match class:rate_limit');
    else await t.waitFor(`row 1`);
  });

  it('b asks before retrying with back-off; n queues nothing', async () => {
    const t = await openErrors(CRM_FLOW, CRM_STEP);
    await t.pressAndWait('b', /Retry 1 record with exponential back-off \(5 attempts, 1s ×2/);
    await t.pressAndWait('n', 'Canceled: nothing retried.');
    expect(await seeded.backend.listJobs({ type: 'retry' })).toHaveLength(0);
    await t.pressAndWait('b', 'with exponential back-off');
    await t.pressAndWait('y', /Retry job [0-9a-f]{24} queued for 1 record/);
    const [job] = await seeded.backend.listJobs({ type: 'retry' });
    expect(job!.status).toBe('queued');
  });

  it('a disabled flow refuses a retry: the reason shows in the footer', async () => {
    await seeded.backend.records.setFlowDisabled(ERP_FLOW, true);
    const t = await openErrors();
    await t.pressAndWait('r', `flow "${ERP_FLOW}" is disabled`);
    expect(await seeded.backend.listJobs({ type: 'retry' })).toHaveLength(0);
  });

  it('connection failures have nothing to retry record by record: the footer says so', async () => {
    const t = await openErrors('Shop orders to ERP', 'CRM customer lookup');
    await filter(t, 'class:connection');
    if (t.frame().includes('No open errors match')) return;
    await t.pressAndWait('r', /Nothing to retry|is an export/);
  });
});

describe('export and logs', () => {
  it('E exports the errors matching the filter to the CSV file named in the prompt', async () => {
    const value = await open(ERP_FLOW, ERP_STEP, 'class:value');
    const t = await openErrors();
    await filter(t, 'class:value');
    await t.pressAndWait('E', 'Export to:');
    expect(t.frame()).toMatch(/flowdeck-erp-sales-orders-open-\d{4}-\d\d-\d\d\.csv/);
    const file = join(seeded.home, 'value-errors.csv');
    t.press(KEYS.ctrlU);
    t.type(file);
    await t.pressAndWait(KEYS.enter, `Exported ${value.length} rows to ${file}`);
    const lines = readFileSync(file, 'utf8').trim().split('\n');
    expect(lines[0]).toMatch(/^occurredAt,source,code,message/);
    expect(lines).toHaveLength(value.length + 1);
    // The same name again asks before overwriting: n keeps the file as it was, y replaces it.
    writeFileSync(file, 'kept\n');
    await t.pressAndWait('E', 'Export to:');
    t.press(KEYS.ctrlU);
    t.type(file);
    await t.pressAndWait(KEYS.enter, `${file} exists. Overwrite it? y/N`);
    await t.pressAndWait('n', `Not exported: ${file} is kept as it was.`);
    expect(readFileSync(file, 'utf8')).toBe('kept\n');
    await t.pressAndWait('E', 'Export to:');
    t.press(KEYS.ctrlU);
    t.type(file);
    await t.pressAndWait(KEYS.enter, 'Overwrite it? y/N');
    await t.pressAndWait('y', `Exported ${value.length} rows to ${file}`);
    expect(readFileSync(file, 'utf8').trim().split('\n')).toHaveLength(value.length + 1);
  });

  it("l opens the execution logs of the error's run, at its record", async () => {
    const [first] = await open(ERP_FLOW, ERP_STEP);
    const t = await openErrors();
    await t.pressAndWait('l', `job ${first!._flowJobId}`);
    await t.waitFor(`trace ${first!.traceKey}`);
    await t.waitFor((f) => (cursorLine(f) ?? '').includes(first!.traceKey!));
  });
});

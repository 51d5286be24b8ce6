import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { LocalBackend } from '../../src/backend/local-backend.js';
import { liveRoutes, readSession, SESSION_FILE, writeSession, type Session } from '../../src/tui/session.js';
import type { Route } from '../../src/tui/state/nav.js';
import { seedDemoWorkspace } from '../../src/workspace/demo.js';
import { generateStepErrors } from '../../src/workspace/generate.js';
import { Workspace } from '../../src/workspace/workspace.js';
import { cursorLine, ERP_FLOW, ERP_STEP, KEYS, lineWith, OPERATOR, renderTui, type RenderOptions, type TuiHarness } from '../helpers/render.js';

// The smaller things an operator hit: whole-name completion in `:`, prompt errors that go when
// retyping, totals on filtered and Resolved lists, the cursor after a bulk action, a detail view
// that wraps, views that refresh on their own, and a TUI that comes back where it was left. One
// generated step of 1,000 errors (more than a page) for the file: a test that changes errors undoes
// what it did.

const N = 1000;
let dir: string;
let backend: LocalBackend;
let tui: TuiHarness | undefined;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'flowdeck-tui-session-'));
  const ws = await seedDemoWorkspace(dir, { ...process.env, FLOWDECK_USER: OPERATOR, FLOWDECK_WORKER: 'off' });
  await generateStepErrors(ws, ERP_FLOW, ERP_STEP, N, { worker: false });
  backend = new LocalBackend(ws);
}, 120_000);

afterAll(async () => {
  await backend.close();
  rmSync(dir, { recursive: true, force: true });
});

afterEach(() => {
  tui?.unmount();
  tui = undefined;
});

async function erpRoutes(query?: string): Promise<Route[]> {
  const flow = await backend.getFlow(ERP_FLOW);
  const step = flow.steps.find((s) => s.name === ERP_STEP)!;
  return [
    { view: 'flows' },
    { view: 'steps', flowId: flow._id, flowName: flow.name },
    { view: 'errors', flowId: flow._id, flowName: flow.name, stepId: step._id, stepName: step.name, ...(query ? { query } : {}) },
  ];
}

async function openErrors(options: RenderOptions = {}, query?: string): Promise<TuiHarness> {
  tui = renderTui(backend, { ...options, routes: await erpRoutes(query) });
  await tui.waitFor(/row 1 of [\d,]+/);
  return tui;
}

/** The biggest class of the step, with more matches than one page (200) holds. */
async function bigClass(): Promise<{ value: string; count: number }> {
  const facets = await backend.errorFacets(ERP_FLOW, ERP_STEP, 'classification');
  const top = facets[0]!;
  expect(top.count).toBeGreaterThan(200);
  return top;
}

describe('prompts', () => {
  it(': completes the whole flow name, matches anywhere in it, and cycles the matches with tab', async () => {
    tui = renderTui(backend);
    await tui.waitFor(ERP_FLOW);
    await tui.pressAndWait(':', 'flows · jobs');
    tui.type('Shop or');
    await tui.pressAndWait(KEYS.tab, `: ${ERP_FLOW}`);
    tui.press(KEYS.ctrlU);
    tui.type('shop');
    await tui.pressAndWait(KEYS.tab, ': Shop orders to ERP');
    await tui.pressAndWait(KEYS.tab, ': Shop customers to CRM');
    tui.press(KEYS.ctrlU);
    tui.type('warehouse');
    await tui.pressAndWait(KEYS.tab, ': Orders to warehouse');
    await tui.pressAndWait(KEYS.enter, 'Flows › Orders to warehouse');
  });

  it('a prompt error goes as soon as the text is edited', async () => {
    const t = await openErrors();
    await t.pressAndWait('/', 'enter apply');
    t.type('code:');
    await t.pressAndWait(KEYS.enter, 'empty value for "code"');
    await t.pressAndWait('4', (f) => !f.includes('empty value') && f.includes('enter apply'));
    await t.pressAndWait(KEYS.escape, 'no filter');
  });
});

describe('the errors table', () => {
  it('a filtered list and the Resolved tab show the row with the total', async () => {
    const big = await bigClass();
    const t = await openErrors({}, `class:${big.value}`);
    await t.waitFor(`row 1 of ${big.count}`);
    await t.pressAndWait('j', `row 2 of ${big.count}`);
    const resolved = (await backend.listErrors(ERP_FLOW, ERP_STEP, { limit: 3 })).errors.map((e) => e.errorId);
    await backend.triage.resolve(ERP_FLOW, ERP_STEP, { errorIds: resolved });
    try {
      await t.pressAndWait(KEYS.tab, '[Resolved]');
      // The Resolved tab of the filter holds the resolved errors of that class only.
      const inClass = (await backend.triage.listResolved(ERP_FLOW, ERP_STEP, { query: `class:${big.value}`, limit: 10 })).resolved.length;
      if (inClass > 0) await t.waitFor(`row 1 of ${inClass}`);
      await t.pressAndWait(KEYS.escape, (f) => f.includes('no filter') && f.includes('[Resolved]'));
      await t.waitFor('row 1 of 3');
    } finally {
      await backend.triage.reopen(ERP_FLOW, ERP_STEP, { errorIds: resolved });
    }
  });

  it('after a bulk action on every match the cursor is back at the top, not left far down a list that shrank; the mark-all hint reads plainly', async () => {
    const big = await bigClass();
    const ids = (await backend.listErrors(ERP_FLOW, ERP_STEP, { query: `class:${big.value}`, limit: 1000 })).errors.map((e) => e.errorId);
    await backend.triage.resolve(ERP_FLOW, ERP_STEP, { errorIds: ids });
    try {
      const t = await openErrors();
      await t.pressAndWait(KEYS.tab, `row 1 of ${ids.length}`);
      // Far down the list, then everything reopened: the list is empty, the cursor is not left at row 250.
      for (let i = 0; i < 250; i += 1) t.press('j');
      await t.waitFor(`row 251 of ${ids.length}`);
      await t.pressAndWait('A', 'Marked every resolved error');
      await t.pressAndWait(KEYS.space, 'Every matching error is marked; u clears the marks.');
      await t.pressAndWait('o', `Reopen ${ids.length} errors? y/N`);
      await t.pressAndWait('y', `Reopened ${ids.length} errors.`);
      await t.waitFor('No resolved errors on this step.');
      expect(t.frame()).not.toMatch(/row \d+/);
    } finally {
      // Whatever the test left resolved goes back to open.
      await backend.triage.reopen(ERP_FLOW, ERP_STEP, { all: true }).catch(() => undefined);
    }
  });

  it('refreshes the rows on screen on its own: an assignment made elsewhere shows without a key', async () => {
    const t = await openErrors({ refreshMs: 50 });
    const first = (await backend.listErrors(ERP_FLOW, ERP_STEP, { limit: 1 })).errors[0]!;
    expect(cursorLine(t.frame())).not.toContain('night.owl@partner');
    await backend.triage.assign(ERP_FLOW, ERP_STEP, { errorIds: [first.errorId] }, 'night.owl@partner.example');
    try {
      await t.waitFor((f) => (cursorLine(f) ?? '').includes('night.owl@partner'));
    } finally {
      await backend.triage.unassign(ERP_FLOW, ERP_STEP, { errorIds: [first.errorId] });
    }
  });

  it('the detail view wraps a long message to the terminal width', async () => {
    const first = (await backend.listErrors(ERP_FLOW, ERP_STEP, { limit: 1000 })).errors.find((e) => e.message.length > 120)!;
    const routes = await erpRoutes();
    const last = routes[2] as Extract<Route, { view: 'errors' }>;
    tui = renderTui(backend, { columns: 90, routes: [...routes, { view: 'error', errorId: first.errorId, flowId: last.flowId, flowName: last.flowName, stepId: last.stepId, stepName: last.stepName }] });
    const frame = await tui.waitFor('── Message ──');
    const message = first.message.replace(/\s+/g, ' ').trim();
    expect(message.length).toBeGreaterThan(90);
    const lines = frame.split('\n');
    const start = lines.findIndex((l) => l.includes('── Message ──'));
    const body = lines.slice(start + 1, lines.findIndex((l, i) => i > start && l.includes('── Retry data')));
    expect(body.every((l) => l.length <= 90)).toBe(true);
    // All of the message is on screen, its end included (spacing aside: JSON is pretty-printed).
    expect(body.join('').replace(/\s+/g, '')).toContain(message.replace(/\s+/g, '').slice(-40));
  });
});

describe('the flows view', () => {
  it('refreshes on its own: errors resolved by another process show in the counts', async () => {
    tui = renderTui(backend, { refreshMs: 50 });
    const before = (await backend.getFlow(ERP_FLOW)).numOpenError;
    await tui.waitFor((f) => (lineWith(f, ERP_FLOW) ?? '').includes(before.toLocaleString('en-US')));
    // Another process: its own backend on the same workspace.
    const other = new LocalBackend(await Workspace.open(dir, { ...process.env, FLOWDECK_USER: OPERATOR, FLOWDECK_WORKER: 'off' }));
    const ids = (await other.listErrors(ERP_FLOW, ERP_STEP, { limit: 2 })).errors.map((e) => e.errorId);
    await other.triage.resolve(ERP_FLOW, ERP_STEP, { errorIds: ids });
    try {
      await tui.waitFor((f) => (lineWith(f, ERP_FLOW) ?? '').includes((before - 2).toLocaleString('en-US')));
    } finally {
      await other.triage.reopen(ERP_FLOW, ERP_STEP, { errorIds: ids });
      await other.close();
    }
  });
});

describe('the session', () => {
  it('remembers the view, the step and its filter, and the / history, and opens there next time', async () => {
    let saved: Session | undefined;
    const save = (s: Session) => (saved = s);
    const big = await bigClass();
    const t = await openErrors({ session: { history: ['code:500'], save } });
    await t.pressAndWait('/', 'enter apply');
    t.type(`class:${big.value}`);
    await t.pressAndWait(KEYS.enter, `filter class:${big.value}`);
    await t.waitFor(() => saved?.history.at(-1) === `class:${big.value}`);
    expect(saved!.history).toEqual(['code:500', `class:${big.value}`]);
    expect(saved!.routes.at(-1)).toMatchObject({ view: 'errors', stepName: ERP_STEP, query: `class:${big.value}` });
    t.unmount();

    // The next TUI of the workspace: the file, read back and checked against the workspace.
    writeSession(dir, saved!);
    const session = readSession(dir);
    const routes = await liveRoutes(backend, session.routes);
    tui = renderTui(backend, { routes, session: { history: session.history, save } });
    await tui.waitFor(`filter class:${big.value}`);
    await tui.waitFor(`row 1 of ${big.count}`);
    // ↑ walks the history, newest first; ↓ comes back to what was typed.
    await tui.pressAndWait('/', 'enter apply');
    tui.press(KEYS.ctrlU);
    tui.type('draft');
    await tui.pressAndWait(KEYS.up, `/ class:${big.value}`);
    await tui.pressAndWait(KEYS.up, '/ code:500');
    await tui.pressAndWait(KEYS.down, `/ class:${big.value}`);
    await tui.pressAndWait(KEYS.down, '/ draft');
    await tui.pressAndWait(KEYS.escape, `filter class:${big.value}`);
  });

  it('a missing, broken or stale session file opens on the flows', async () => {
    const home = mkdtempSync(join(tmpdir(), 'flowdeck-tui-session-file-'));
    try {
      expect(readSession(home).routes).toEqual([{ view: 'flows' }]);
      writeFileSync(join(home, SESSION_FILE), '{ not json');
      expect(readSession(home)).toEqual({ routes: [{ view: 'flows' }], history: [] });
      writeFileSync(join(home, SESSION_FILE), JSON.stringify({ routes: [{ view: 'flows' }, { view: 'steps', flowId: 'f0000000000000000000dead', flowName: 'Gone' }], history: ['a', 7] }));
      const read = readSession(home);
      expect(read.history).toEqual(['a']);
      expect(await liveRoutes(backend, read.routes)).toEqual([{ view: 'flows' }]);
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });
});

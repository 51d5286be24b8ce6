import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { LocalBackend } from '../../src/backend/local-backend.js';
import { encodeId } from '../../src/domain/ids.js';
import { parseJobFilter } from '../../src/tui/state/job-filter.js';
import { retryJobsNote } from '../../src/tui/components/frame.js';
import { describeJobs } from '../../src/tui/views/jobs.js';
import { cursorLine, ERP_FLOW, ERP_STEP, KEYS, openBackend, OPERATOR, removeTemplate, renderTui, seededHome, type TuiHarness } from '../helpers/render.js';
import { sqliteCoreOf } from '../helpers/sqlite.js';

// The jobs view on a busy workspace (150 automatic retry jobs, most done, some queued, some failed,
// and the operator's own job under them): queued jobs read queued, the operator's job is one filter
// away, moving past the first 100 loads more, and a failed job says why.

let home: { home: string; cleanup: () => void };
let backend: LocalBackend;
let tui: TuiHarness | undefined;
let mine: string;

beforeEach(async () => {
  home = await seededHome();
  backend = await openBackend(home.home);
  const store = sqliteCoreOf(backend.ws);
  const flow = await backend.resolveFlow(ERP_FLOW);
  const step = await backend.resolveStep(flow, ERP_STEP);
  const t0 = Date.now() - 3_600_000;
  store.transaction(() => {
    const own = store.insertJob({ type: 'retry', status: 'completed', flowId: flow.id, step: step.key, createdAt: t0, triggeredBy: OPERATOR });
    mine = encodeId('job', own, t0);
    for (let i = 1; i <= 150; i++) {
      const id = store.insertJob({ type: 'retry', status: i > 146 ? 'queued' : i % 50 === 0 ? 'failed' : 'completed', flowId: flow.id, step: step.key, createdAt: t0 + i * 1000, triggeredBy: 'auto' });
      if (i % 50 === 0 && i <= 146) store.updateJob(id, { note: 'the step is no longer a page processor of the flow', endedAt: t0 + i * 1000 }, t0 + i * 1000);
    }
  });
});

afterAll(removeTemplate);

afterEach(async () => {
  tui?.unmount();
  tui = undefined;
  await backend.close();
  home.cleanup();
});

describe('the jobs filter and the footer', () => {
  it('parses type, status, by:me, mine and flow; refuses anything else in words', () => {
    expect(parseJobFilter('type:retry status:failed by:me flow:"Shop orders to ERP"', OPERATOR)).toEqual({
      params: { type: 'retry', status: 'failed', triggeredBy: OPERATOR, flowRef: 'Shop orders to ERP' },
    });
    expect(parseJobFilter('mine', OPERATOR)).toEqual({ params: { triggeredBy: OPERATOR } });
    expect(parseJobFilter('status:done', OPERATOR)).toEqual({ error: expect.stringMatching(/^no job status "done" \(statuses: /) });
    expect(parseJobFilter('who:me', OPERATOR)).toEqual({ error: expect.stringMatching(/^"who:me": write type:retry/) });
  });

  it('counts queued jobs as queued, not running', () => {
    expect(describeJobs([{ status: 'queued' }, { status: 'queued' }, { status: 'running' }, { status: 'completed' }], true, '')).toBe('4+ jobs · 1 running · 2 queued');
    // the header, for the jobs queued from the TUI
    expect(retryJobsNote(0, 1)).toBe('1 retry job queued');
    expect(retryJobsNote(2, 1)).toBe('2 retry jobs running · 1 queued');
    expect(retryJobsNote(0, 0)).toBe('');
  });
});

describe('the jobs view', () => {
  it('reaches the operator\'s own job under 150 automatic ones: by filter, or by moving past the first page', async () => {
    tui = renderTui(backend, { routes: [{ view: 'flows' }, { view: 'jobs' }] });
    const first = await tui.waitFor(/100\+ jobs/);
    expect(first).toMatch(/100\+ jobs · 4 queued/);
    expect(first).not.toMatch(/\d+ running/);
    expect(first).not.toContain(mine);
    await tui.pressAndWait('/', 'jobs:');
    tui.type('type:retry by:me');
    const filtered = await tui.pressAndWait(KEYS.enter, /1 job matching type:retry by:me/);
    expect(cursorLine(filtered)).toContain(mine);
    await tui.pressAndWait(KEYS.escape, 'Filter cleared.');
    await tui.waitFor(/100\+ jobs/);
    // G past the first page loads the next, until every job is there; the operator's is among the oldest.
    const total = (await backend.listJobs({ limit: 1000 })).length;
    expect(total).toBeGreaterThan(150);
    for (let i = 0; i < 5 && !tui.frame().includes(`${total} jobs`); i++) await tui.pressAndWait('G', () => true);
    await tui.waitFor(`${total} jobs ·`);
    // Every job is loaded now: G goes to the true bottom, the oldest jobs, the operator's among them.
    await tui.pressAndWait('G', (f) => f.includes(mine));
  });

  it('a failed job says why, under the cursor', async () => {
    tui = renderTui(backend, { routes: [{ view: 'flows' }, { view: 'jobs' }] });
    await tui.waitFor(/100\+ jobs/);
    await tui.pressAndWait('/', 'jobs:');
    tui.type('status:failed');
    const frame = await tui.pressAndWait(KEYS.enter, /2 jobs matching status:failed/);
    expect(frame).toContain('failed: the step is no longer a page processor');
    expect(cursorLine(frame)).toMatch(/ERP sales orders\s+auto\s+failed/);
  });
});

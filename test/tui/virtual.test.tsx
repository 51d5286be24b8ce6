import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { ErrorListParams } from '../../src/backend/contract/index.js';
import { LocalBackend } from '../../src/backend/local-backend.js';
import type { TuiBackend } from '../../src/tui/backend.js';
import { seedDemoWorkspace } from '../../src/workspace/demo.js';
import { generateStepErrors } from '../../src/workspace/generate.js';
import { cursorLine, ERP_FLOW, ERP_STEP, KEYS, OPERATOR, renderTui } from '../helpers/render.js';

// The errors table is virtualised: it asks the backend for the rows it shows (and a page around
// them), never for the whole list, and still reaches every row. A generated step of 3,000 errors;
// the backend is the real one, with its listErrors calls recorded on the way through.

const N = 3000;
let dir: string;
let backend: LocalBackend;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'flowdeck-tui-virtual-'));
  // No background worker: automatic retries would add errors while the test counts rows.
  const ws = await seedDemoWorkspace(dir, { ...process.env, FLOWDECK_USER: OPERATOR, FLOWDECK_WORKER: 'off' });
  await generateStepErrors(ws, ERP_FLOW, ERP_STEP, N, { worker: false });
  backend = new LocalBackend(ws);
}, 120_000);

afterAll(async () => {
  await backend.close();
  rmSync(dir, { recursive: true, force: true });
});

it('reads only the window it shows, reaches the last row, and comes back to the first', async () => {
  const calls: ErrorListParams[] = [];
  const recording = new Proxy(backend, {
    get(target, prop, receiver) {
      if (prop === 'listErrors') {
        return (flow: string, step: string, params: ErrorListParams = {}) => {
          calls.push(params);
          return target.listErrors(flow, step, params);
        };
      }
      const value = Reflect.get(target, prop, receiver) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  }) as unknown as TuiBackend;
  const flow = await backend.getFlow(ERP_FLOW);
  const step = flow.steps.find((s) => s.name === ERP_STEP)!;
  const all = await backend.listErrors(ERP_FLOW, ERP_STEP, { limit: 1 });
  const newest = all.errors[0]!;

  const tui = renderTui(recording, {
    routes: [{ view: 'flows' }, { view: 'errors', flowId: flow._id, flowName: flow.name, stepId: step._id, stepName: step.name }],
  });
  try {
    await tui.waitFor(`row 1 of ${N.toLocaleString('en-US')}`);
    // The first frame cost one page.
    expect(calls).toHaveLength(1);
    expect(calls[0]!.limit).toBeLessThanOrEqual(200);

    // Page down through a third of the list: pages are fetched as the cursor nears them.
    const rowOf = (f: string) => Number((/row ([\d,]+)/.exec(f)?.[1] ?? '0').replace(/,/g, ''));
    let row = 1;
    for (let i = 0; i < 30; i++) {
      const before = row;
      row = rowOf(await tui.pressAndWait(KEYS.pageDown, (f) => rowOf(f) > before));
    }
    expect(row).toBeGreaterThan(900);
    const fetched = calls.reduce((n, c) => n + (c.limit ?? 0), 0);
    expect(fetched).toBeLessThan(1600);
    for (const c of calls) expect(c.limit).toBeLessThanOrEqual(1000);

    // The end: one oldest-first page (the backend pages both ways); pages are never larger than 1000.
    calls.length = 0;
    await tui.pressAndWait('G', `row ${N.toLocaleString('en-US')} of ${N.toLocaleString('en-US')}`, 30_000);
    for (const c of calls) expect(c.limit).toBeLessThanOrEqual(1000);

    // Back up past rows that were dropped on the way down: re-read from their cursors.
    row = N;
    for (let i = 0; i < 40; i++) {
      const before = row;
      row = rowOf(await tui.pressAndWait(KEYS.pageUp, (f) => rowOf(f) < before));
    }
    expect(row).toBeLessThan(N - 1200);
    await tui.pressAndWait('g', `row 1 of ${N.toLocaleString('en-US')}`);
    expect(cursorLine(tui.frame())).toContain(newest.occurredAt.slice(11, 19));
  } finally {
    tui.unmount();
  }
}, 120_000);

import { afterAll, afterEach, expect, it } from 'vitest';
import { LocalBackend } from '../../src/backend/local-backend.js';
import { Workspace } from '../../src/workspace/workspace.js';
import { ERP_FLOW, ERP_STEP, OPERATOR, removeTemplate, renderTui, seededHome, type TuiHarness } from '../helpers/render.js';

// A read-only workspace in the TUI: reading works, and a change is refused in the words the CLI
// uses, not as "unexpected error: attempt to write a readonly database".

let home: { home: string; cleanup: () => void } | undefined;
let backend: LocalBackend | undefined;
let tui: TuiHarness | undefined;

afterAll(removeTemplate);

afterEach(async () => {
  tui?.unmount();
  await backend?.close();
  home?.cleanup();
});

it('x on a read-only workspace says the workspace is read-only and changes nothing', async () => {
  home = await seededHome();
  backend = new LocalBackend(await Workspace.open(home.home, { ...process.env, FLOWDECK_USER: OPERATOR, FLOWDECK_WORKER: 'off', FLOWDECK_READONLY: '1' }));
  const flow = await backend.getFlow(ERP_FLOW);
  const step = flow.steps.find((s) => s.name === ERP_STEP)!;
  const before = step.numOpenError;
  tui = renderTui(backend, {
    routes: [
      { view: 'flows' },
      { view: 'steps', flowId: flow._id, flowName: flow.name },
      { view: 'errors', flowId: flow._id, flowName: flow.name, stepId: step._id, stepName: step.name },
    ],
  });
  await tui.waitFor(/row 1 of \d+/);
  const frame = await tui.pressAndWait('x', (f) => /read-only|unexpected error/.test(f));
  expect(frame).not.toContain('unexpected error');
  expect(frame).toContain('read-only');
  expect((await backend.getFlow(ERP_FLOW)).steps.find((s) => s.name === ERP_STEP)!.numOpenError).toBe(before);
});

import { expect, it } from 'vitest';
import { cursorLine, ERP_FLOW, ERP_STEP, seededTuiPerTest, type TuiHarness } from '../helpers/render.js';
import { sqliteCoreOf } from '../helpers/sqlite.js';

// Rows that r cannot retry are shown so: a connection failure without retry data reads ∅ in the
// marker column and "no data" under RETRY AT, and r on it says why instead of asking.

const seeded = seededTuiPerTest();
let tui: TuiHarness | undefined;

it('a row without retry data shows ∅ and "no data"; r on it says there is nothing to retry', async () => {
  const store = sqliteCoreOf(seeded.backend.ws);
  const flow = await seeded.backend.getFlow(ERP_FLOW);
  const step = await seeded.backend.resolveStep(await seeded.backend.resolveFlow(ERP_FLOW), ERP_STEP);
  const at = Date.now() + 60_000; // the newest error of the step: the first row
  const trace = store.insertTrace({ step: step.key, time: at, stage: 'import', method: 'POST', statusCode: 0, request: { method: 'POST', url: 'http://127.0.0.1/salesOrders', headers: {} }, response: { statusCode: 0, body: '' } });
  store.insertError({ step: step.key, occurredAt: at, source: 'connection', code: 'ECONNREFUSED', message: 'connect ECONNREFUSED 127.0.0.1:9', classification: 'connection', classifiedBy: 'rule', trace });
  tui = seeded.render({
    routes: [
      { view: 'flows' },
      { view: 'steps', flowId: flow._id, flowName: flow.name },
      { view: 'errors', flowId: flow._id, flowName: flow.name, stepId: flow.steps.find((s) => s.name === ERP_STEP)!._id, stepName: ERP_STEP },
    ],
  });
  const frame = await tui.waitFor((f) => (cursorLine(f) ?? '').includes('ECONNREFUSED'));
  expect(cursorLine(frame)).toMatch(/∅.*ECONNREFUSED.*no data\s*$/);
  // rows with retry data carry no marker
  expect(frame.split('\n').filter((l) => /\b422\b/.test(l)).every((l) => !l.includes('∅'))).toBe(true);
  await tui.pressAndWait('r', 'Nothing to retry: this error has no retry data');
  expect(await seeded.backend.listJobs({ type: 'retry' })).toHaveLength(0);
});

it('A then r on a filtered list with no rows says there are no errors to retry, not that they lack retry data', async () => {
  const flow = await seeded.backend.getFlow(ERP_FLOW);
  const stepId = flow.steps.find((s) => s.name === ERP_STEP)!._id;
  tui = seeded.render({
    routes: [
      { view: 'flows' },
      { view: 'steps', flowId: flow._id, flowName: flow.name },
      { view: 'errors', flowId: flow._id, flowName: flow.name, stepId, stepName: ERP_STEP, query: 'code:nosuchcode' },
    ],
  });
  await tui.waitFor((f) => f.includes('No open errors match'));
  await tui.pressAndWait('A', 'Marked every open error matching code:nosuchcode');
  const frame = await tui.pressAndWait('r', 'Nothing to retry: there are no errors to retry (none matches code:nosuchcode).');
  expect(frame).not.toContain('no selected error has retry data');
  expect(await seeded.backend.listJobs({ type: 'retry' })).toHaveLength(0);
});

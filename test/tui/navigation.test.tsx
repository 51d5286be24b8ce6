import { describe, expect, it } from 'vitest';
import { cursorLine, ERP_FLOW, KEYS, lineWith, seededTuiPerTest, type TuiHarness } from '../helpers/render.js';

// Flows, steps, the jump prompt, help, quitting, resizing: render, press keys, read the screen.

const seeded = seededTuiPerTest();
let tui: TuiHarness | undefined;

describe('flows view', () => {
  it('lists every flow with its open errors, last run and state', async () => {
    await seeded.backend.records.setFlowDisabled('Orders to warehouse', true);
    const flows = await seeded.backend.listFlows();
    tui = seeded.render();
    const frame = await tui.waitFor('Shop orders to ERP');
    expect(frame).toContain('FLOW');
    expect(frame).toContain('OPEN ERRORS');
    for (const f of flows) {
      const line = lineWith(frame, f.name)!;
      expect(line).toContain(String(f.numOpenError));
      expect(line).toContain(f.disabled ? 'disabled' : 'enabled');
      expect(line).toContain(f.lastJob ? f.lastJob.status : 'never');
    }
    await tui.waitFor(`${flows.length} flows`);
    expect(lineWith(frame, 'Flows')).toBeDefined();
  });

  it('moves with j/k/arrows/g/G and drills into the steps of a flow; esc comes back to the same row', async () => {
    tui = seeded.render();
    await tui.waitFor('Shop orders to ERP');
    expect(cursorLine(tui.frame())).toContain('Orders to warehouse');
    await tui.pressAndWait('j', (f) => cursorLine(f)?.includes('Shop customers to CRM') === true);
    await tui.pressAndWait('G', (f) => cursorLine(f)?.includes(ERP_FLOW) === true);
    await tui.pressAndWait('k', (f) => cursorLine(f)?.includes('Shop customers to CRM') === true);
    await tui.pressAndWait('g', (f) => cursorLine(f)?.includes('Orders to warehouse') === true);
    await tui.pressAndWait(KEYS.down, (f) => cursorLine(f)?.includes('Shop customers to CRM') === true);
    await tui.pressAndWait(KEYS.end, (f) => cursorLine(f)?.includes(ERP_FLOW) === true);

    const flow = await seeded.backend.getFlow(ERP_FLOW);
    const steps = await tui.pressAndWait(KEYS.enter, 'ERP sales orders');
    expect(steps).toContain(`Flows › ${ERP_FLOW}`);
    for (const s of flow.steps) expect(lineWith(steps, new RegExp(`^[› ] ${s.name}\\s`))).toMatch(new RegExp(`\\s${s.numOpenError}\\s`));
    expect(lineWith(steps, 'ERP sales orders')).toMatch(/import\s+\d+\s+\d\d-\d\d \d\d:\d\d:\d\d/);

    const back = await tui.pressAndWait(KEYS.escape, 'OPEN ERRORS LAST RUN');
    expect(cursorLine(back)).toContain(ERP_FLOW);
  });

  it('l opens the execution logs of the flow\'s last run', async () => {
    const flow = await seeded.backend.getFlow(ERP_FLOW);
    tui = seeded.render();
    await tui.waitFor(ERP_FLOW);
    tui.press('G');
    const frame = await tui.pressAndWait('l', `job ${flow.lastJob!._id}`);
    expect(frame).toContain('STARTED (UTC)');
    await tui.waitFor(/error|success/);
  });
});

describe('jump, help and quit', () => {
  it(': jumps to jobs (esc returns) and to a flow by name; an unknown name is refused in place', async () => {
    tui = seeded.render();
    await tui.waitFor(ERP_FLOW);
    await tui.pressAndWait(':', 'flows · jobs');
    tui.type('jobs');
    const jobs = await tui.pressAndWait(KEYS.enter, 'PROGRESS');
    expect(jobs).toContain('Flows › Jobs');
    await tui.pressAndWait(KEYS.escape, 'OPEN ERRORS');

    await tui.pressAndWait(':', 'flows · jobs');
    tui.type('nowhere');
    await tui.pressAndWait(KEYS.enter, 'no view or flow "nowhere"');
    tui.press(KEYS.ctrlU);
    tui.type('shop ord');
    const steps = await tui.pressAndWait(KEYS.enter, 'ERP sales orders');
    expect(steps).toContain(`Flows › ${ERP_FLOW}`);

    // tab completes
    await tui.pressAndWait(':', 'flows · jobs');
    tui.type('fl');
    await tui.pressAndWait(KEYS.tab, ': flows');
    await tui.pressAndWait(KEYS.enter, (f) => !f.includes(`Flows › ${ERP_FLOW}`) && f.includes('OPEN ERRORS'));
  });

  it('? lists every key of the current view, esc closes it', async () => {
    tui = seeded.render();
    await tui.waitFor(ERP_FLOW);
    const help = await tui.pressAndWait('?', 'Keys — Flows');
    expect(help).toContain('enter');
    expect(help).toContain('quit flowdeck');
    expect(help).toContain('jump to a view');
    expect(help).not.toContain('resolve the marked');
    await tui.pressAndWait(KEYS.escape, 'OPEN ERRORS');
    // Keys reach the view again.
    await tui.pressAndWait('j', (f) => cursorLine(f)?.includes('Shop customers to CRM') === true);
  });

  it('q quits, and so does ctrl-c', async () => {
    tui = seeded.render();
    await tui.waitFor(ERP_FLOW);
    tui.press('q');
    await tui.waitFor(() => tui!.quitCount() === 1);
    tui.unmount();
    tui = seeded.render();
    await tui.waitFor(ERP_FLOW);
    tui.press(KEYS.ctrlC);
    await tui.waitFor(() => tui!.quitCount() === 1);
  });
});

describe('terminal size', () => {
  it('fits the terminal and redraws on resize', async () => {
    tui = seeded.render({ columns: 160, rows: 40 });
    await tui.waitFor(ERP_FLOW);
    const wide = tui.frame().split('\n');
    expect(wide.length).toBeLessThanOrEqual(39);
    expect(Math.max(...wide.map((l) => l.length))).toBeLessThanOrEqual(160);
    tui.resize(70, 16);
    const narrow = await tui.waitFor((f) => f.split('\n').length <= 15 && Math.max(...f.split('\n').map((l) => l.length)) <= 70);
    expect(narrow).toContain('? help');
    expect(narrow).toContain('Shop orders');
  });
});

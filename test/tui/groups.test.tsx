import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bindingsFor, footerItems } from '../../src/tui/keys.js';
import type { Route } from '../../src/tui/state/nav.js';
import { groupQuery, shareBar } from '../../src/tui/views/groups.js';
import { cursorLine, ERP_FLOW, ERP_STEP, KEYS, lineWith, seededTuiPerTest, type TuiHarness } from '../helpers/render.js';

// The Groups view over a demo workspace whose flows ran: reached from the errors table and from
// the steps view, enter opens the group's errors, and the action keys act on the whole group.

const seeded = seededTuiPerTest();
let tui: TuiHarness | undefined;

async function routes(view: 'errors' | 'steps'): Promise<Route[]> {
  const flow = await seeded.backend.getFlow(ERP_FLOW);
  const step = flow.steps.find((s) => s.name === ERP_STEP)!;
  const base: Route[] = [{ view: 'flows' }, { view: 'steps', flowId: flow._id, flowName: flow.name }];
  return view === 'steps' ? base : [...base, { view: 'errors', flowId: flow._id, flowName: flow.name, stepId: step._id, stepName: step.name }];
}

const GROUP_ROW = /^[› ] (new)?\s+\d+ [█░]+ /;

describe('Groups view', () => {
  it('is one key away in the errors table and the steps view, and the footer and help say so', () => {
    for (const view of ['errors', 'steps'] as const) {
      expect(bindingsFor(view, {}).some((b) => b.command === 'groups' && b.display === 's')).toBe(true);
      expect(footerItems(view, {}, 400).some((i) => i.key === 's' && i.label === 'groups')).toBe(true);
    }
    expect(bindingsFor('errors', { tab: 'resolved' }).some((b) => b.command === 'groups')).toBe(false);
    const keys = bindingsFor('groups', {}).map((b) => b.display);
    for (const k of ['r', 'b', 'x', 'a', 't', 'E', 'enter']) expect(keys).toContain(k);
    expect(keys).not.toContain('e'); // one snapshot's editor means nothing for a group
  });

  it("lists the step's groups largest first with bars of share; enter opens the errors table filtered to the group", async () => {
    const expected = await seeded.backend.errorGroups(ERP_FLOW, ERP_STEP);
    expect(expected.groups.length).toBeGreaterThan(1);
    tui = seeded.render({ routes: await routes('errors') });
    await tui.waitFor(/row 1 of \d+/);
    const frame = await tui.pressAndWait('s', expected.groups[0]!.sig);
    const rows = frame.split('\n').filter((l) => GROUP_ROW.test(l));
    expect(rows.length).toBe(expected.groups.length);
    expected.groups.forEach((g, i) => {
      expect(rows[i]).toContain(g.sig);
      expect(rows[i]).toContain(shareBar(g.share));
    });
    await tui.waitFor(`${expected.total} open errors in ${expected.numGroups} groups`);
    expect(frame).not.toMatch(/@example|SO-\d/);

    const second = expected.groups[1]!;
    await tui.pressAndWait(KEYS.down, (f) => cursorLine(f)?.includes(second.sig) === true);
    await tui.pressAndWait(KEYS.enter, new RegExp(`filter sig:${second.sig}.*row 1 of ${second.count}`));
    const listed = await seeded.backend.listErrors(ERP_FLOW, ERP_STEP, { query: `sig:${second.sig}`, limit: 1000 });
    expect(listed.errors.length).toBe(second.count);
    // esc clears the filter (as anywhere), the next goes back to the groups, the cursor where it was
    await tui.pressAndWait(KEYS.escape, 'no filter');
    await tui.pressAndWait(KEYS.escape, (f) => cursorLine(f)?.includes(second.sig) === true);
  });

  it('the steps view opens every step’s groups, with the step named on each row', async () => {
    const expected = await seeded.backend.errorGroups(ERP_FLOW, undefined);
    tui = seeded.render({ routes: await routes('steps') });
    await tui.waitFor(ERP_STEP);
    const frame = await tui.pressAndWait('s', expected.groups[0]!.sig);
    expect(frame).toContain('(every step)');
    for (const g of expected.groups) expect(lineWith(frame, g.sig)).toContain(g.stepName);
  });

  it('x resolves the whole group after confirming its count; the group leaves the list', async () => {
    const groups = (await seeded.backend.errorGroups(ERP_FLOW, ERP_STEP)).groups;
    const g = groups[groups.length - 1]!;
    tui = seeded.render({ routes: await routes('errors') });
    await tui.waitFor(/row 1 of \d+/);
    await tui.pressAndWait('s', g.sig);
    await tui.pressAndWait(KEYS.end, (f) => cursorLine(f)?.includes(g.sig) === true);
    await tui.pressAndWait('x', `Resolve ${g.count} error${g.count === 1 ? '' : 's'}?`);
    await tui.pressAndWait('y', `Resolved ${g.count} error`);
    await tui.waitFor((f) => !f.includes(g.sig));
    expect((await seeded.backend.errorGroups(ERP_FLOW, ERP_STEP)).groups.find((x) => x.sig === g.sig)).toBeUndefined();
    expect((await seeded.backend.errorGroups(ERP_FLOW, ERP_STEP, { resolved: true })).groups.find((x) => x.sig === g.sig)?.count).toBe(g.count);
  });

  it('r queues a retry of exactly the group, E exports it', async () => {
    const g = (await seeded.backend.errorGroups(ERP_FLOW, ERP_STEP)).groups[0]!;
    tui = seeded.render({ routes: await routes('errors') });
    await tui.waitFor(/row 1 of \d+/);
    await tui.pressAndWait('s', g.sig);
    // r counts records (here one per error of the group)
    await tui.pressAndWait('r', `Retry ${g.count} records?`);
    await tui.pressAndWait('y', /Retry job [0-9a-f]{24} queued for/);
    const jobs = await seeded.backend.listJobs({ type: 'retry' });
    expect(jobs.length).toBe(1);
    const preview = await seeded.backend.retries.preview(ERP_FLOW, ERP_STEP, { query: `sig:${g.sig}` });
    // every record of the group is queued by that job (so none is left to queue)
    expect(preview.count).toBe(0);
    expect(preview.alreadyQueued).toBe(g.count);

    await tui.pressAndWait('E', 'Export to:');
    const file = join(seeded.home, 'group.csv');
    tui.press(KEYS.ctrlU);
    tui.type(file);
    await tui.pressAndWait(KEYS.enter, `Exported ${g.count} rows`);
    expect(readFileSync(file, 'utf8').trim().split('\n').length).toBe(g.count + 1);
  });

  it('groups a filtered set when opened from a filtered errors table, and acts within the filter', async () => {
    expect(groupQuery({ sig: 'abcdef012345' }, 'code:422')).toBe('code:422 sig:abcdef012345');
    expect(groupQuery({ sig: 'abcdef012345' }, '')).toBe('sig:abcdef012345');
    const flow = await seeded.backend.getFlow(ERP_FLOW);
    const step = flow.steps.find((s) => s.name === ERP_STEP)!;
    const expected = await seeded.backend.errorGroups(ERP_FLOW, ERP_STEP, { query: 'class:value' });
    tui = seeded.render({ routes: [{ view: 'groups', flowId: flow._id, flowName: flow.name, stepId: step._id, stepName: step.name, query: 'class:value' }] });
    const frame = await tui.waitFor(expected.groups[0]!.sig);
    expect(frame).toContain('filter class:value');
    expect(frame.split('\n').filter((l) => GROUP_ROW.test(l)).length).toBe(expected.groups.length);
  });
});

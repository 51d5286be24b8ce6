import { afterEach, describe, expect, it } from 'vitest';
import { followJob } from '../../src/backend/follow-job.js';
import { RemoteBackend } from '../../src/backend/remote/remote-backend.js';
import { ConflictError } from '../../src/domain/errors.js';
import * as helper from '../helpers/serve.js';

// The RemoteBackend against a real `flowdeck serve` (the Fastify app over a seeded workspace,
// test/helpers/serve.ts), every operation on its flowdeck route: listing by name with the query
// language, counts, facets, groups, triage as the token's user ("me"), tags, resolve and reopen,
// retry data, a retry queued, followed and canceled, the CSV download.

let close: (() => Promise<void>) | undefined;
const backends: RemoteBackend[] = [];

afterEach(async () => {
  for (const b of backends.splice(0)) await b.close();
  await close?.();
  close = undefined;
});

describe('RemoteBackend against flowdeck serve', () => {
  it('does the triage loop on the flowdeck routes, acting as the token user', async () => {
    const server = await helper.startServer();
    close = () => server.close();
    const ids = await helper.insertErrors(server.local, await helper.demoStep(server.local), 8);
    const { FLOW, STEP } = helper;
    const ana = new RemoteBackend({ url: server.url, token: server.tokens.ana });
    const ben = new RemoteBackend({ url: server.url, token: server.tokens.ben });
    backends.push(ana, ben);

    expect(await ana.whoami()).toEqual({ email: helper.ANA, location: ana.url });
    expect(await ben.whoami()).toEqual({ email: helper.BEN, location: ben.url });
    const flow = (await ana.listFlows()).find((f) => f.name === FLOW)!;
    expect(flow.steps.find((s) => s.name === STEP)?.numOpenError).toBe(8);

    const page = await ana.listErrors(FLOW, STEP, { limit: 3 });
    expect(page.errors.map((e) => e.errorId)).toEqual(ids.slice(0, 3));
    const next = await ana.listErrors(FLOW, STEP, { limit: 3, before: ids[2] });
    expect(next.errors.map((e) => e.errorId)).toEqual(ids.slice(3, 6));
    expect(await ana.countErrors(FLOW, STEP, { query: 'classification:value' })).toBe(8);
    expect(await ana.errorFacets(FLOW, STEP, 'code')).toEqual([{ value: '422', count: 8 }]);
    expect((await ana.errorGroups(FLOW, STEP)).numGroups).toBe(1);

    expect(await ana.triage.assign(FLOW, STEP, { errorIds: ids.slice(0, 2) }, 'me')).toEqual({ errorsToReturn: ids.slice(0, 2) });
    const assigned = (await ben.listErrors(FLOW, STEP, { query: `assignee:${helper.ANA}` })).errors;
    expect(assigned.map((e) => [e.assignedTo, e.assignedBy])).toEqual([
      [helper.ANA, helper.ANA],
      [helper.ANA, helper.ANA],
    ]);

    await ana.triage.createTag('Remote check');
    expect(await ben.triage.setTags(FLOW, STEP, { errorIds: [ids[0]!] }, { add: ['Remote check'] })).toEqual({ errorsToReturn: { errors: [ids[0]], resolved: [] } });
    expect((await ana.listErrors(FLOW, STEP, { query: 'tag:"Remote check"' })).errors.map((e) => e.errorId)).toEqual([ids[0]]);

    // A dry run counts, then the confirmed set is acted on: recorded as the token's user.
    const would = await ben.triage.resolve(FLOW, STEP, { all: true, upToErrorId: ids[6] }, { dryRun: true });
    expect(would.errorsToReturn).toEqual(ids.slice(6));
    await ben.triage.resolve(FLOW, STEP, { errorIds: would.errorsToReturn, confirmed: true });
    expect((await ana.triage.listResolved(FLOW, STEP)).resolved.map((e) => e.resolvedBy)).toEqual([helper.BEN, helper.BEN]);
    expect(await ana.triage.reopen(FLOW, STEP, { errorIds: [ids[7]!] })).toEqual({ errorsToReturn: [ids[7]] });

    const first = page.errors[0]!;
    const data = await ana.records.getRetryData(FLOW, STEP, first.retryDataKey!);
    const fixed = { ...data, data: { ...(data.data as object), email: 'fixed@acme.example' } };
    expect((await ana.records.putRetryData(FLOW, STEP, first.retryDataKey!, fixed)).data).toMatchObject({ email: 'fixed@acme.example' });

    const preview = await ana.retries.preview(FLOW, STEP, { errorIds: ids.slice(0, 2) });
    expect(preview.count).toBe(2);
    const job = await ana.retries.retry(FLOW, STEP, { errorIds: ids.slice(0, 2) });
    expect(job).toMatchObject({ type: 'retry', status: 'queued', triggeredBy: helper.ANA });
    expect(await ana.retries.recordCounts(job!._id)).toMatchObject({ pending: 2, total: 2 });
    // Nobody follows it and the test server runs no worker: it stays queued until Ben cancels it,
    // and Ana's follow ends with the cancel, recorded as Ben's.
    expect((await ben.retries.cancelJob(job!._id)).status).toBe('canceled');
    const followed = await followJob(ana, job!._id);
    expect(followed).toMatchObject({ status: 'canceled', canceledBy: helper.BEN });
    expect(await ben.retries.cancelJob(job!._id).catch((e: unknown) => e)).toBeInstanceOf(ConflictError);

    let csv = '';
    for await (const chunk of await ana.records.exportErrors(FLOW, STEP, {})) csv += chunk;
    expect(csv.split('\n')[0]).toMatch(/^occurredAt,source,code,message,/);
    // The header and the seven errors still open (two resolved, one of them reopened).
    expect(csv.trim().split('\n')).toHaveLength(1 + 7);
  });
});


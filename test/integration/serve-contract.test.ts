import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FlowInfo, JobDetail, JobListEntry } from '../../src/backend/contract/index.js';
import { pathOf, ROUTES, type Route } from '../../src/backend/wire/routes.js';
import type { FlowErrorsResponse, FlowStepError, FlowStepErrorsResponse, FlowStepRequestsListResponse, ExecutionLogsResponse } from '../../src/domain/api.js';
import { ANA, BEN, startServer, type TestServer } from '../helpers/serve.js';
import { expectSpecShape } from '../helpers/spec-routes.js';
import { runDemoFlows } from '../helpers/workspace.js';

// The whole surface of `flowdeck serve` over a workspace whose demo flows have run (real errors,
// traces, snapshots, execution logs): every route answers, and every answer (checked inside the
// helper's call) validates against the vendored spec schema of its path, method and status.

let server: TestServer;
let flow: FlowInfo;
let stepId: string;
let errors: FlowStepError[];
const P = () => ({ _id: flow._id, _stepId: stepId });

beforeAll(async () => {
  server = await startServer();
  await runDemoFlows(server.local);
  const flows = (await server.call('GET', ROUTES.listFlows.path)).body as FlowInfo[];
  // The flow and step with the most open errors carry everything the routes need.
  flow = flows.reduce((a, b) => (b.numOpenError > a.numOpenError ? b : a));
  const counts = (await server.call('GET', pathOf(ROUTES.flowErrors, { _id: flow._id }))).body as FlowErrorsResponse;
  stepId = counts.flowErrors.reduce((a, b) => (b.numError > a.numError ? b : a))._expOrImpId;
  errors = ((await server.call('GET', `${pathOf(ROUTES.listErrors, P())}?pageSize=1000`)).body as FlowStepErrorsResponse).errors;
  expect(errors.length).toBeGreaterThan(4);
});

afterAll(async () => {
  await server?.close();
});

describe('flows and error listings', () => {
  it('lists and reads flows, their error counts and the filter metadata', async () => {
    expect((await server.call('GET', pathOf(ROUTES.getFlow, { _id: flow.name }))).body).toMatchObject({ _id: flow._id, name: flow.name });
    expect((await server.call('GET', ROUTES.filterMetadata.path)).status).toBe(200);
    const groups = await server.call('GET', `${pathOf(ROUTES.errorGroups, { _id: flow._id })}?stepId=${stepId}&sort=count&limit=5`);
    expect(groups.status).toBe(200);
    expect((groups.body as { total: number }).total).toBe(errors.length);
    expect((await server.call('GET', `${pathOf(ROUTES.errorFacets, P())}?field=code`)).status).toBe(200);
    expect((await server.call('GET', pathOf(ROUTES.countErrors, P()))).body).toEqual({ count: errors.length });
    const one = await server.call('GET', pathOf(ROUTES.getError, { errorId: errors[0]!.errorId }));
    expect(one.body).toMatchObject({ flowId: flow._id, stepId, resolved: false, error: { errorId: errors[0]!.errorId } });
  });

  it('pages through nextPageURL, newest first and oldest first, and each page is the spec shape', async () => {
    for (const [first, expected] of [
      [`${pathOf(ROUTES.listErrors, P())}?pageSize=2`, errors.map((e) => e.errorId)],
      [`${pathOf(ROUTES.listErrors, P())}?pageSize=3&order=asc`, errors.map((e) => e.errorId).reverse()],
    ] as const) {
      const seen: string[] = [];
      let next: string | undefined = first;
      while (next) {
        const page = (await server.call('GET', next)).body as FlowStepErrorsResponse;
        seen.push(...page.errors.map((e) => e.errorId));
        next = page.nextPageURL;
      }
      expect(seen).toEqual(expected);
    }
  });
});

describe('triage through the spec routes and the extensions', () => {
  it('assigns, unassigns, tags, resolves, reopens and deletes as the token user', async () => {
    const [a, b, c] = errors.map((e) => e.errorId);
    expect((await server.call('PUT', pathOf(ROUTES.assign, P()), { body: { errorIds: [a, b], email: BEN } })).body).toEqual({ errorsToReturn: [a, b] });
    expect((await server.call('PUT', pathOf(ROUTES.unassign, P()), { body: { errorIds: [b] } })).body).toEqual({ errorsToReturn: [b] });
    expect((await server.call('POST', pathOf(ROUTES.unassignSelection, P()), { body: { selection: { errorIds: [a] }, dryRun: true } })).body).toEqual({ errorsToReturn: [a] });
    const tags = (await server.call('GET', ROUTES.listTags.path)).body as Array<{ tagId: string; tag: string }>;
    const tagged = await server.call('PUT', pathOf(ROUTES.setTags, P()), { body: { errors: [{ id: a }], tagIds: [tags[0]!.tagId] } });
    expect(tagged.body).toEqual({ errorsToReturn: { errors: [a], resolved: [] } });
    const dry = await server.call('POST', pathOf(ROUTES.setTagsSelection, P()), { body: { selection: { errorIds: [b] }, update: { add: [tags[1]!.tagId] }, dryRun: true } });
    expect(dry.body).toEqual({ errorsToReturn: { errors: [b], resolved: [] } });

    expect((await server.call('PUT', pathOf(ROUTES.resolve, P()), { body: { errors: [c] } })).status).toBe(204);
    const resolved = (await server.call('GET', pathOf(ROUTES.listResolved, P()))).body as { resolved: Array<{ errorId: string; resolvedBy: string }> };
    expect(resolved.resolved).toEqual([expect.objectContaining({ errorId: c, resolvedBy: ANA })]);
    expect((await server.call('POST', pathOf(ROUTES.reopenSelection, P()), { body: { selection: { errorIds: [c] } } })).body).toEqual({ errorsToReturn: [c] });
    expect((await server.call('POST', pathOf(ROUTES.resolveSelection, P()), { body: { selection: { errorIds: [c] } } })).body).toEqual({ errorsToReturn: [c] });
    expect((await server.call('POST', pathOf(ROUTES.deleteResolvedSelection, P()), { body: { selection: { all: true }, dryRun: true } })).body).toEqual({ errorsToReturn: [c] });
    expect((await server.call('DELETE', pathOf(ROUTES.deleteResolved, P()), { body: { errors: [c] } })).status).toBe(204);
    expect(((await server.call('GET', pathOf(ROUTES.listResolved, P()))).body as { resolved: unknown[] }).resolved).toEqual([]);
    errors = errors.filter((e) => e.errorId !== c);
  });

  it('keeps the tag catalog, the users and the config', async () => {
    const created = await server.call('POST', ROUTES.createTag.path, { body: { name: 'Served tag' } });
    expect(created).toMatchObject({ status: 200, body: { tag: 'Served tag' } });
    const code = (created.body as { tagId: string }).tagId;
    expect((await server.call('DELETE', `${pathOf(ROUTES.deleteTag, { tagId: code })}?dryRun=true`)).body).toMatchObject({ tagId: code, numErrorsUntagged: 0 });
    expect((await server.call('DELETE', pathOf(ROUTES.deleteTag, { tagId: code }))).status).toBe(200);
    const users = (await server.call('GET', ROUTES.listUsers.path)).body as Array<{ email: string }>;
    expect(users.map((u) => u.email)).toContain(BEN);
    expect((await server.call('PUT', pathOf(ROUTES.setConfig, { key: 'secrets.served' }), { body: { value: 'hunter2-served' } })).status).toBe(204);
    const read = await server.call('GET', `${ROUTES.getConfig.path}?key=secrets.served`);
    expect(read.status).toBe(200);
    expect(read.text).not.toContain('hunter2-served');
  });
});

describe('retry data, request traces, retries and jobs', () => {
  it('reads, replaces and checks a snapshot', async () => {
    const withKey = errors.find((e) => e.retryDataKey)!;
    const path = pathOf(ROUTES.getRetryData, { ...P(), retryDataKey: withKey.retryDataKey! });
    const envelope = (await server.call('GET', path)).body as Record<string, unknown>;
    expect(envelope).toMatchObject({ retryDataKey: withKey.retryDataKey });
    expect((await server.call('PUT', path, { body: envelope })).status).toBe(204);
    expect((await server.call('POST', pathOf(ROUTES.checkRetryData, { ...P(), retryDataKey: withKey.retryDataKey! }), { body: envelope })).status).toBe(200);
    const patch = await server.call('POST', pathOf(ROUTES.patchRetryData, P()), { body: { selection: { errorIds: [withKey.errorId] }, ops: [{ op: 'add', path: '/data/served', value: true }], dryRun: true } });
    expect(patch).toMatchObject({ status: 200, body: { dryRun: true } });
  });

  it('lists, reads and (dry-run) deletes request traces', async () => {
    const list = (await server.call('GET', `${pathOf(ROUTES.listRequests, P())}?pageSize=1`)).body as FlowStepRequestsListResponse;
    expect(list.requests).toHaveLength(1);
    if (list.nextPageURL) expect((await server.call('GET', list.nextPageURL)).status).toBe(200);
    const key = list.requests[0]!.key;
    expect((await server.call('GET', pathOf(ROUTES.getRequest, { ...P(), reqAndResKey: key }))).body).toMatchObject({ key });
    const dry = await server.call('DELETE', `${pathOf(ROUTES.deleteRequests, P())}?dryRun=true`, { body: { keys: [key] } });
    expect(dry.body).toEqual({ deleted: [key], errors: [] });
  });

  it('previews and queues a retry (200 job; the same records again: 422), long-polls, reports and cancels it', async () => {
    const keys = [...new Set(errors.filter((e) => e.retryDataKey).map((e) => e.retryDataKey!))].slice(0, 2);
    const preview = await server.call('POST', pathOf(ROUTES.retryPreview, P()), { body: { selection: { retryDataKeys: keys } } });
    expect(preview.body).toMatchObject({ count: keys.length });
    const queued = await server.call('POST', pathOf(ROUTES.retry, P()), { body: { retryDataKeys: keys } });
    expect(queued.status).toBe(200);
    const job = queued.body as JobDetail;
    expect(job).toMatchObject({ type: 'retry', status: 'queued', triggeredBy: ANA });
    // The same records are held by the queued job: refused as unprocessable (the spec has no 409).
    const again = await server.call('POST', pathOf(ROUTES.retrySelection, P()), { body: { selection: { retryDataKeys: keys } } });
    expect(again.status).toBe(422);
    expect((await server.call('GET', pathOf(ROUTES.recordCounts, { jobId: job._id }))).body).toMatchObject({ total: keys.length });
    expect((await server.call('GET', pathOf(ROUTES.retryReport, { jobId: job._id }))).body).toMatchObject({ job: { _id: job._id } });
    expect((await server.call('POST', pathOf(ROUTES.cancelJob, { jobId: job._id }))).body).toMatchObject({ _id: job._id, status: 'canceled' });
    // A long-poll of a job that has ended answers at once.
    const asked = Date.now();
    expect((await server.call('GET', `${pathOf(ROUTES.getJob, { jobId: job._id })}?waitMs=20000`)).body).toMatchObject({ _id: job._id, status: 'canceled' });
    expect(Date.now() - asked).toBeLessThan(15_000);
    // With the records free again: the spec's back-off route queues its own job, and a long-poll
    // answers when it changes (this test server has no worker: the waiting backend runs it).
    const backoff = await server.call('POST', pathOf(ROUTES.retryWithBackoff, P()), { body: { retryDataKeys: keys } });
    expect(backoff).toMatchObject({ status: 200, body: { type: 'retry', status: 'queued' } });
    const backoffId = (backoff.body as JobDetail)._id;
    const changed = (await server.call('GET', `${pathOf(ROUTES.getJob, { jobId: backoffId })}?waitMs=20000`)).body as JobDetail;
    expect(changed._id).toBe(backoffId);
    expect(changed.status).not.toBe('queued');
    await server.call('POST', pathOf(ROUTES.cancelJob, { jobId: backoffId }));
    const jobs = (await server.call('GET', `${ROUTES.listJobs.path}?type=retry&limit=5`)).body as JobListEntry[];
    expect(jobs.map((j) => j._id)).toContain(job._id);
    expect((await server.call('POST', ROUTES.keepAutomaticRetries.path)).body).toMatchObject({ worker: 'off' });
  });

  it('lists a flow run’s execution logs and reads an entry, its trace and its data', async () => {
    const runs = (await server.call('GET', `${ROUTES.listJobs.path}?flowId=${flow._id}&type=flow`)).body as JobListEntry[];
    const run = runs[0]!;
    const logs = (await server.call('GET', `${pathOf(ROUTES.listLogs, { _id: flow._id, _jobId: run._id })}?pageSize=2`)).body as ExecutionLogsResponse;
    expect(logs.logs.length).toBeGreaterThan(0);
    if (logs.nextPageUrl) expect((await server.call('GET', logs.nextPageUrl)).status).toBe(200);
    const entry = logs.logs[0]!;
    const found = await server.call('GET', `${pathOf(ROUTES.findLogEntry, { _id: flow._id, _jobId: run._id, recordId: entry.recordId })}?stepId=${entry._expOrImpId}`);
    expect(found.body).toMatchObject({ recordId: entry.recordId });
    const meta = await server.call('POST', pathOf(ROUTES.logMetadata, { _id: flow._id, _jobId: run._id }), { body: { _expOrImpId: entry._expOrImpId, groupId: entry.groupId, recordId: entry.recordId } });
    expect(meta.status).toBe(200);
    const data = await server.call('POST', pathOf(ROUTES.logData, { _id: flow._id, _jobId: run._id }), { body: { _expOrImpId: entry._expOrImpId, groupId: entry.groupId, recordId: entry.recordId, stage: 'apiCall' } });
    expect([200, 404]).toContain(data.status);
    if (entry.traceKey) {
      const search = await server.call('GET', `${pathOf(ROUTES.searchJobs, { _id: flow._id })}?traceKeyPrefix=${encodeURIComponent(entry.traceKey.slice(0, 3))}`);
      expect(search.status).toBe(200);
    }
  });
});

describe('CSV downloads', () => {
  it('signs a URL that downloads the CSV without a token, and refuses a tampered one', async () => {
    const signed = await server.call('GET', pathOf(ROUTES.errorsSignedURL, P()));
    const url = (signed.body as { signedURL: string }).signedURL;
    expect(url.startsWith(`${server.url}/v1/flowdeck/downloads/`)).toBe(true);
    const csv = await request(url);
    expect(csv.statusCode).toBe(200);
    expect(csv.headers['content-type']).toMatch(/^text\/csv/);
    const lines = (await csv.body.text()).trim().split('\n');
    expect(lines[0]).toMatch(/errorId/);
    expect(lines.length).toBeGreaterThanOrEqual(errors.length + 1);

    const tampered = await request(`${url.slice(0, -2)}xx`);
    expect(tampered.statusCode).toBe(404);
    expect(((await tampered.body.json()) as { errors: Array<{ code: string }> }).errors[0]!.code).toBe('invalid_ref');
    // The log names the route, never the signature.
    expect(server.logs.some((l) => l.includes('/v1/flowdeck/downloads/:signature 200'))).toBe(true);
    expect(server.logs.some((l) => l.includes(url.split('/').pop()!))).toBe(false);

    const from = errors[2]!.errorId;
    const rest = await server.call('GET', `${pathOf(ROUTES.resolvedSignedURL, P())}?startAtErrorId=${from}`);
    expect(rest.status).toBe(200);
    expect((await server.call('GET', `${pathOf(ROUTES.errorsSignedURL, P())}?startAtErrorId=nope`)).status).toBe(400);
    const whole = await server.call('GET', pathOf(ROUTES.flowErrorsSignedURL, { _id: flow._id }));
    const all = await request((whole.body as { signedURL: string }).signedURL);
    expect(all.statusCode).toBe(200);
    expect((await all.body.text()).split('\n')[0]).toMatch(/^_expOrImpId,/);
  });
});

describe('the route table', () => {
  it('serves every route of the wire table (none falls through to "no route")', async () => {
    for (const [name, route] of Object.entries(ROUTES) as Array<[string, Route]>) {
      const path = route.path.replace(/\{(\w+)\}/g, (_, param: string) => (param === '_id' ? flow._id : param === '_stepId' ? stepId : 'x'));
      const answer = await server.call(route.method, path, route.method === 'GET' || route.method === 'DELETE' ? {} : { body: {} });
      const code = (answer.body as { errors?: Array<{ code?: string }> } | undefined)?.errors?.[0]?.code;
      expect(code, `${name}: ${route.method} ${path}`).not.toBe('not_found');
    }
  });
});

describe('the contract check itself', () => {
  it('refuses an answer of the wrong shape, a status the spec does not list, and an error outside the spec body', () => {
    expect(() => expectSpecShape('GET', `/v1/flows/${flow._id}/${stepId}/errors`, 200, { errors: 'none' })).toThrow();
    expect(() => expectSpecShape('PUT', `/v1/flows/${flow._id}/${stepId}/resolved`, 200, { errorsToReturn: [] })).toThrow();
    expect(() => expectSpecShape('GET', '/v1/flows', 404, { message: 'no' })).toThrow();
    expect(() => expectSpecShape('GET', '/v1/flows', 401, { errors: [{ message: 'no' }] })).toThrow();
    expect(() => expectSpecShape('GET', `/v1/flows/${flow._id}/${stepId}/errors?pageSize=1`, 200, { errors: [] })).not.toThrow();
  });
});

describe('flows', () => {
  it('disables and enables a flow by JSON patch (204)', async () => {
    for (const value of [true, false]) {
      expect((await server.call('PATCH', pathOf(ROUTES.patchFlow, { _id: flow._id }), { body: [{ op: 'replace', path: '/disabled', value }] })).status).toBe(204);
      expect(((await server.call('GET', pathOf(ROUTES.getFlow, { _id: flow._id }))).body as FlowInfo).disabled).toBe(value);
    }
  });
});

import { afterEach, describe, expect, it } from 'vitest';
import { pathOf, ROUTES } from '../../src/backend/wire/routes.js';
import { BEN, demoStep, FLOW, insertErrors, startServer, STEP, type TestServer } from '../helpers/serve.js';
import { storeValue } from '../helpers/store-sql.js';

// Bad requests on the wire: each answers a 4xx in the spec's error body (checked by the helper's
// spec-shape check on every answer) — malformed JSON, a bad query string, an unknown field, an
// unknown flow, an unknown route, an oversized body — and changes nothing.

let server: TestServer;

afterEach(async () => {
  await server?.close();
});

const codeOf = (body: unknown) => (body as { errors: Array<{ code: string; message: string; field?: string }> }).errors[0]!;

describe('bad requests', () => {
  it('answers 400 for malformed JSON, a body of the wrong shape, an unknown field and a bad query string', async () => {
    server = await startServer();
    const [id] = await insertErrors(server.local, await demoStep(server.local), 2);
    const assign = pathOf(ROUTES.assign, { _id: FLOW, _stepId: STEP });

    const malformed = await server.call('PUT', assign, { raw: { text: '{"errorIds": [', type: 'application/json' } });
    expect(malformed.status).toBe(400);
    expect(codeOf(malformed.body).code).toBe('invalid_request');

    const missing = await server.call('PUT', assign, { body: { errorIds: [id] } });
    expect(missing.status).toBe(400);
    expect(codeOf(missing.body)).toEqual({ code: 'invalid_input', message: "body must have required property 'email'", field: 'email' });

    const unknownField = await server.call('POST', pathOf(ROUTES.assignSelection, { _id: FLOW, _stepId: STEP }), { body: { selection: { errorsIds: [id] }, email: BEN } });
    expect(unknownField.status).toBe(400);
    expect(codeOf(unknownField.body)).toMatchObject({ code: 'invalid_input', field: 'errorsIds', message: expect.stringContaining('"errorsIds"') });

    const list = pathOf(ROUTES.listErrors, { _id: FLOW, _stepId: STEP });
    for (const query of ['pageSize=abc', 'pageSize=0', 'pageSize=5000', 'order=sideways', 'colour=red', 'before=not-an-id']) {
      const answer = await server.call('GET', `${list}?${query}`);
      expect(answer.status, query).toBe(400);
      expect(codeOf(answer.body).code, query).toBe('invalid_input');
    }
    expect((await server.call('GET', `${ROUTES.listJobs.path}?type=retyr`)).status).toBe(400);
    const notEmail = await server.call('PUT', assign, { body: { errorIds: [id], email: 'not an email' } });
    expect(notEmail.status).toBe(400);
    expect(codeOf(notEmail.body).field).toBe('email');
    // Nothing was assigned by any of them.
    expect(Number(await storeValue(server.local.ws, `SELECT count(*) AS n FROM audit WHERE action = 'assign'`))).toBe(0);
  });

  it('takes an empty body declared as JSON as no body', async () => {
    server = await startServer();
    const empty = await server.call('POST', ROUTES.keepAutomaticRetries.path, { raw: { text: '', type: 'application/json' } });
    expect(empty.status).toBe(200);
    // A route that needs a body says so.
    const none = await server.call('PUT', pathOf(ROUTES.resolve, { _id: FLOW, _stepId: STEP }), { raw: { text: '', type: 'application/json' } });
    expect(none.status).toBe(400);
    const poisoned = await server.call('PUT', pathOf(ROUTES.resolve, { _id: FLOW, _stepId: STEP }), { raw: { text: '{"errors":["x"],"__proto__":{"admin":true}}', type: 'application/json' } });
    expect(poisoned.status).toBe(400);
  });

  it('answers 404 in the spec body for an unknown flow, step, job or route', async () => {
    server = await startServer();
    const flow = await server.call('GET', pathOf(ROUTES.listErrors, { _id: 'No such flow', _stepId: STEP }));
    expect(flow.status).toBe(404);
    expect(codeOf(flow.body)).toEqual({ code: 'invalid_ref', message: expect.stringContaining('flow not found: No such flow') });
    const step = await server.call('GET', pathOf(ROUTES.listErrors, { _id: FLOW, _stepId: 'No such step' }));
    expect(step.status).toBe(404);
    const job = await server.call('GET', pathOf(ROUTES.getJob, { jobId: '0123456789abcdef01234567' }));
    expect(job.status).toBe(404);
    const route = await server.call('GET', '/v1/flows/x/y/z/w/nothing');
    expect(route.status).toBe(404);
    expect(codeOf(route.body).code).toBe('not_found');
  });

  it('answers 413 for a body over the limit', async () => {
    server = await startServer({ bodyLimit: 1024 });
    const ids = Array.from({ length: 100 }, (_, i) => `0123456789abcdef0123${String(i).padStart(4, '0')}`);
    const answer = await server.call('PUT', pathOf(ROUTES.resolve, { _id: FLOW, _stepId: STEP }), { body: { errors: ids } });
    expect(answer.status).toBe(413);
    expect(codeOf(answer.body)).toEqual({ code: 'payload_too_large', message: 'request body is too large' });
  });

  it('answers 422 for a patch of anything but /disabled, and 204 for one of it', async () => {
    server = await startServer();
    const flow = pathOf(ROUTES.patchFlow, { _id: FLOW });
    const other = await server.call('PATCH', flow, { body: [{ op: 'replace', path: '/name', value: 'x' }] });
    expect(other.status).toBe(422);
    expect((await server.call('PATCH', flow, { body: [{ op: 'replace', path: '/disabled', value: true }] })).status).toBe(204);
    expect(((await server.call('GET', pathOf(ROUTES.getFlow, { _id: FLOW }))).body as { disabled: boolean }).disabled).toBe(true);
    // A disabled flow's retry is unprocessable: 422 with its code.
    const [id] = await insertErrors(server.local, await demoStep(server.local), 1);
    const retried = await server.call('POST', pathOf(ROUTES.retrySelection, { _id: FLOW, _stepId: STEP }), { body: { selection: { errorIds: [id] } } });
    expect(retried.status).toBe(422);
    expect(codeOf(retried.body).code).toBe('inactive_flow');
  });
});

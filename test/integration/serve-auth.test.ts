import { request } from 'undici';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { pathOf, ROUTES } from '../../src/backend/wire/routes.js';
import { ANA, BEN, demoStep, FLOW, insertErrors, startServer, STEP, type TestServer } from '../helpers/serve.js';
import { storeRows } from '../helpers/store-sql.js';

// Who a request is: no token, a wrong one and a revoked one get the same 401 (with nothing of why);
// a change made with a user's token is recorded as that user; a token's burst past its bucket gets
// 429 with Retry-After. Real server on 127.0.0.1, real HTTP, real SQLite workspace.

const UNAUTHORIZED = { message: 'invalid token', errors: [{ code: 'unauthorized', message: 'invalid token' }] };

let server: TestServer;

afterEach(async () => {
  await server?.close();
});

describe('authentication', () => {
  beforeEach(async () => {
    server = await startServer();
  });

  it('answers 401 with the same body for no token, a malformed header, a wrong token and a revoked token', async () => {
    const path = ROUTES.listFlows.path;
    const none = await server.call('GET', path, { token: null });
    const basic = await server.call('GET', path, { token: null, headers: { authorization: 'Basic YW5hOnNlY3JldA==' } });
    const wrong = await server.call('GET', path, { token: `fdk_${'A'.repeat(43)}` });
    await server.tokenService.revoke(server.tokens.ben);
    const revoked = await server.call('GET', path, { token: server.tokens.ben });
    for (const answer of [none, basic, wrong, revoked]) {
      expect(answer.status).toBe(401);
      expect(answer.body).toEqual(UNAUTHORIZED);
      expect(answer.headers['www-authenticate']).toBe('Bearer');
    }
    // An unknown route is not told apart from a known one without a token either.
    expect((await server.call('GET', '/v1/nothing/here', { token: null })).status).toBe(401);
    const ok = await server.call('GET', path);
    expect(ok.status).toBe(200);
  });

  it('says who the token is (whoami), and never logs a token or a query string', async () => {
    const who = await server.call('GET', ROUTES.whoami.path, { token: server.tokens.ben });
    expect(who).toMatchObject({ status: 200, body: { email: BEN, server: 'flowdeck' } });
    await server.call('GET', `${pathOf(ROUTES.listErrors, { _id: FLOW, _stepId: STEP })}?q=${encodeURIComponent('message:secret-ish')}`);
    await server.call('GET', ROUTES.listFlows.path, { token: 'fdk_not-a-real-one' });
    const lines = server.logs;
    expect(lines.length).toBeGreaterThanOrEqual(3);
    for (const line of lines) {
      expect(line).toMatch(/^\d{4}-\d\d-\d\dT\S+Z (GET|POST|PUT|PATCH|DELETE) \/\S* \d{3} \d+\.\dms \S+$/);
      expect(line).not.toContain(server.tokens.ana);
      expect(line).not.toContain(server.tokens.ben);
      expect(line).not.toContain('fdk_');
      expect(line).not.toContain('?');
      expect(line).not.toContain('secret-ish');
    }
    expect(lines.some((l) => l.includes(`GET /v1/flowdeck/whoami 200`) && l.endsWith(` ${BEN}`))).toBe(true);
    expect(lines.some((l) => / GET \/v1\/flows 401 \S+ -$/.test(l))).toBe(true);
  });
});

describe('acting as the token user', () => {
  beforeEach(async () => {
    server = await startServer();
  });

  it("records an assignment and a resolve made with a user's token as that user", async () => {
    const step = await demoStep(server.local);
    const [first, second] = await insertErrors(server.local, step, 3);
    const flow = await server.local.resolveFlow(FLOW);
    const params = { _id: flow.id, _stepId: step.stepId };

    const assigned = await server.call('PUT', pathOf(ROUTES.assign, params), { token: server.tokens.ana, body: { errorIds: [first], email: BEN } });
    expect(assigned).toMatchObject({ status: 200, body: { errorsToReturn: [first] } });
    const resolved = await server.call('PUT', pathOf(ROUTES.resolve, params), { token: server.tokens.ben, body: { errors: [second] } });
    expect(resolved.status).toBe(204);

    const open = await server.call('GET', pathOf(ROUTES.listErrors, params), { token: server.tokens.ben });
    const error = (open.body as { errors: Array<{ errorId: string; assignedTo?: string; assignedBy?: string }> }).errors.find((e) => e.errorId === first);
    expect(error).toMatchObject({ assignedTo: BEN, assignedBy: ANA });
    const done = await server.call('GET', pathOf(ROUTES.listResolved, params));
    expect((done.body as { resolved: Array<{ errorId: string; resolvedBy?: string }> }).resolved).toEqual([expect.objectContaining({ errorId: second, resolvedBy: BEN })]);

    const audit = await storeRows(server.local.ws, `SELECT actor, action FROM audit WHERE action IN ('assign', 'resolve') ORDER BY id`);
    expect(audit).toEqual([
      { actor: ANA, action: 'assign' },
      { actor: BEN, action: 'resolve' },
    ]);
  });

  it('resolves assignee:me to the token user', async () => {
    const step = await demoStep(server.local);
    const ids = await insertErrors(server.local, step, 4);
    const params = { _id: FLOW, _stepId: STEP };
    await server.call('POST', pathOf(ROUTES.assignSelection, params), { token: server.tokens.ana, body: { selection: { errorIds: ids.slice(0, 2) }, email: ANA } });
    await server.call('POST', pathOf(ROUTES.assignSelection, params), { token: server.tokens.ben, body: { selection: { errorIds: ids.slice(2) }, email: BEN } });
    const mine = await server.call('GET', `${pathOf(ROUTES.countErrors, params)}?q=${encodeURIComponent('assignee:me')}`, { token: server.tokens.ben });
    expect(mine).toMatchObject({ status: 200, body: { count: 2 } });
    const page = await server.call('GET', `${pathOf(ROUTES.listErrors, params)}?q=${encodeURIComponent('assignee:me')}`, { token: server.tokens.ana });
    expect((page.body as { errors: Array<{ errorId: string }> }).errors.map((e) => e.errorId)).toEqual(ids.slice(0, 2));
  });
});

describe('rate limit', () => {
  it('answers 429 with Retry-After past the bucket, per token', async () => {
    server = await startServer({ rateLimit: { capacity: 3, refillPerSecond: 0.001 } });
    for (let i = 0; i < 3; i++) expect((await server.call('GET', ROUTES.filterMetadata.path)).status).toBe(200);
    const limited = await server.call('GET', ROUTES.filterMetadata.path);
    expect(limited.status).toBe(429);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(limited.body).toEqual({ errors: [{ code: 'rate_limited', message: expect.stringMatching(/too many requests/) }] });
    // Another token has its own bucket.
    expect((await server.call('GET', ROUTES.filterMetadata.path, { token: server.tokens.ben })).status).toBe(200);
  });
});

describe('signed downloads', () => {
  it('are their token’s: each download is taken from its bucket, and a revoked token’s links stop working', async () => {
    server = await startServer({ rateLimit: { capacity: 3, refillPerSecond: 0.001 } });
    const signed = await server.call('GET', pathOf(ROUTES.errorsSignedURL, { _id: FLOW, _stepId: STEP }));
    expect(signed.status).toBe(200);
    const url = (signed.body as { signedURL: string }).signedURL;
    const download = async () => {
      const res = await request(url);
      await res.body.text();
      return res.statusCode;
    };
    // The signing request took one; two downloads take the rest; the next is over the bucket.
    expect(await download()).toBe(200);
    expect(await download()).toBe(200);
    expect(await download()).toBe(429);

    const again = await server.call('GET', pathOf(ROUTES.errorsSignedURL, { _id: FLOW, _stepId: STEP }), { token: server.tokens.ben });
    const bens = (again.body as { signedURL: string }).signedURL;
    await server.tokenService.revoke(server.tokens.ben);
    const refused = await request(bens);
    expect(refused.statusCode).toBe(404);
    expect(await refused.body.json()).toEqual({ errors: [{ code: 'invalid_ref', message: expect.stringMatching(/not valid or has expired/) }] });
  });
});

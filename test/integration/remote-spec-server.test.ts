import { createServer, type AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { RemoteBackend } from '../../src/backend/remote/remote-backend.js';
import { DEFAULT_BACKOFF } from '../../src/domain/backoff.js';
import { NotFoundError } from '../../src/domain/errors.js';
import { ROUTES } from '../../src/backend/wire/routes.js';
import { errorIdOf, EXPORT_ID, FLOW_ID, IMPORT_ID, LOOKUP_ID, retryDataKeyOf, startSpecServer, TOKEN, type SeenRequest, type SpecServer } from '../helpers/spec-server.js';

// The RemoteBackend pointed at a plain server of the spec (no flowdeck extensions, as the
// platform's own API): flows mapped from the spec's flow objects, listings paged by the server's
// own nextPageURLs, selections made exact on the client and sent as explicit ids in batches on
// the spec's routes, the CSV download streamed, and flowdeck-only operations refused by name.

let server: SpecServer | undefined;
const backends: RemoteBackend[] = [];

afterEach(async () => {
  for (const b of backends.splice(0)) await b.close();
  // Every request the client sent is one of the wire table's routes (a spec path or a listed extension).
  expect(server?.requests.filter((r) => r.route === undefined).map((r) => `${r.method} ${r.url}`) ?? []).toEqual([]);
  await server?.close();
  server = undefined;
});

async function plain(options: Parameters<typeof startSpecServer>[0] = {}): Promise<{ server: SpecServer; backend: RemoteBackend }> {
  server = await startSpecServer(options);
  const backend = new RemoteBackend({ url: server.url, token: TOKEN });
  backends.push(backend);
  return { server, backend };
}

async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a rejection');
}

/** Whether a request went to a spec route (or is the signed download, or the whoami probe that tells servers apart). */
function isSpecRequest(request: SeenRequest): boolean {
  if (request.route === 'download' || request.route === 'whoami') return true;
  const route = request.route === undefined ? undefined : ROUTES[request.route as keyof typeof ROUTES];
  return route !== undefined && !('extension' in route);
}

describe('RemoteBackend on a plain spec server', () => {
  it('lists flows across Link-header pages with step counts from …/errors', async () => {
    const { backend } = await plain({ errors: 7 });
    const flows = await backend.listFlows();
    expect(flows.map((f) => f.name)).toEqual(['Orders to ERP', 'Refunds']);
    const orders = flows[0]!;
    expect(orders).toMatchObject({ _id: FLOW_ID, disabled: false, numOpenError: 7, lastExecutedAt: '2026-01-01T00:00:00.000Z' });
    expect(orders.steps.map((s) => [s._id, s.type, s.numOpenError])).toEqual([
      [EXPORT_ID, 'export', 0],
      [LOOKUP_ID, 'lookup', 0],
      [IMPORT_ID, 'import', 7],
    ]);
    expect(flows[1]).toMatchObject({ name: 'Refunds', disabled: true, steps: [] });
  });

  it('resolves flow names and id prefixes as the local backend does, and names the flows on a miss', async () => {
    const { backend } = await plain({ errors: 4 });
    expect((await backend.listErrors('orders to erp', IMPORT_ID)).errors).toHaveLength(3);
    expect((await backend.listErrors('ORDERS TO ERP', IMPORT_ID.slice(0, 8))).errors).toHaveLength(3);
    expect((await backend.listErrors(FLOW_ID, IMPORT_ID)).errors).toHaveLength(3);
    // A prefix both flows' ids share names neither.
    expect((await rejection(backend.listErrors(FLOW_ID.slice(0, 20), IMPORT_ID))).message).toMatch(/^flow not found: /);
    const error = await rejection(backend.listErrors('Shipments', IMPORT_ID));
    expect(error).toBeInstanceOf(NotFoundError);
    expect(error.message).toBe('flow not found: Shipments (flows: "Orders to ERP", "Refunds")');
    const step = await rejection(backend.listErrors('Orders to ERP', 'nope'));
    expect(step.message).toMatch(/^step of flow "Orders to ERP" not found: nope \(steps: /);
  });

  it('reads the flow list and asks whoami once for calls that arrive together', async () => {
    const { server, backend } = await plain({ errors: 4 });
    await Promise.all([1, 2, 3, 4].map(() => backend.listErrors('Orders to ERP', IMPORT_ID)));
    expect(server.requests.filter((r) => r.route === 'listFlows' && !r.url.includes('page=2'))).toHaveLength(1);
    expect(server.requests.filter((r) => r.route === 'whoami')).toHaveLength(1);
  });

  it("pages a listing by the server's own nextPageURL (not a cursor of flowdeck's)", async () => {
    const { server, backend } = await plain({ errors: 5 });
    const first = await backend.listErrors('Orders to ERP', IMPORT_ID, { limit: 2 });
    expect(first.errors.map((e) => e.errorId)).toEqual([errorIdOf(5), errorIdOf(4)]);
    expect(first.nextPageURL).toBe(`/v1/flows/${FLOW_ID}/${IMPORT_ID}/errors?cursor=2&pageSize=2`);
    const second = await backend.listErrors('Orders to ERP', IMPORT_ID, { limit: 2, before: errorIdOf(4) });
    expect(second.errors.map((e) => e.errorId)).toEqual([errorIdOf(3), errorIdOf(2)]);
    expect(server.requests.at(-1)?.url).toBe(first.nextPageURL);
    const last = await backend.listErrors('Orders to ERP', IMPORT_ID, { before: errorIdOf(2) });
    expect(last.errors.map((e) => e.errorId)).toEqual([errorIdOf(1)]);
    expect(last.nextPageURL).toBeUndefined();
  });

  it('counts by paging the whole listing', async () => {
    const { backend } = await plain({ errors: 950, maxPageSize: 400 });
    expect(await backend.countErrors('Orders to ERP', IMPORT_ID)).toBe(950);
    expect(await backend.countErrors('Orders to ERP', IMPORT_ID, { resolved: true })).toBe(0);
  });

  it('resolves a bounded --all selection client-side: explicit ids on PUT …/resolved, in batches', async () => {
    const { server, backend } = await plain({ errors: 2500, maxPageSize: 400 });
    const bound = errorIdOf(2200);
    const result = await backend.triage.resolve('Orders to ERP', IMPORT_ID, { all: true, upToErrorId: bound });
    expect(result.errorsToReturn).toHaveLength(2200);
    expect(result.errorsToReturn.every((id) => id <= bound)).toBe(true);
    const puts = server.requests.filter((r) => r.method === 'PUT' && r.url === `/v1/flows/${FLOW_ID}/${IMPORT_ID}/resolved`);
    expect(puts.map((p) => (p.body as { errors: string[] }).errors.length)).toEqual([1000, 1000, 200]);
    // Errors newer than the bound (recorded after the set was counted) were not reached.
    expect([...server.open.keys()].sort()).toEqual([...Array(300)].map((_, i) => errorIdOf(2201 + i)).sort());
    expect(server.resolved.size).toBe(2200);
    // Every request went to a spec route (or the one whoami probe that told the server apart).
    expect(server.requests.filter((r) => !isSpecRequest(r))).toEqual([]);
  });

  it('a dry run of a client-side selection answers the ids and changes nothing', async () => {
    const { server, backend } = await plain({ errors: 6 });
    const would = await backend.triage.assign('Orders to ERP', IMPORT_ID, { all: true }, 'ana@acme.example', { dryRun: true });
    expect(would.errorsToReturn).toHaveLength(6);
    expect(server.requests.some((r) => r.method === 'PUT')).toBe(false);
    const done = await backend.triage.assign('Orders to ERP', IMPORT_ID, { errorIds: would.errorsToReturn, confirmed: true }, 'ana@acme.example');
    expect(done.errorsToReturn).toEqual(would.errorsToReturn);
    expect([...server.open.values()].every((e) => e.assignedTo === 'ana@acme.example')).toBe(true);
    const unassigned = await backend.triage.unassign('Orders to ERP', IMPORT_ID, { all: true });
    expect(unassigned.errorsToReturn).toHaveLength(6);
  });

  it('refuses an explicit error id that is not an open error of the step, before changing anything', async () => {
    const { server, backend } = await plain({ errors: 3 });
    const error = await rejection(backend.triage.setTags('Orders to ERP', IMPORT_ID, { errorIds: [errorIdOf(1), errorIdOf(99)] }, { set: ['F3ZBQ'] }));
    expect(error).toBeInstanceOf(NotFoundError);
    expect(error.message).toBe(`error on step "${IMPORT_ID}" not found: ${errorIdOf(99)}`);
    expect(server.requests.some((r) => r.method === 'PUT')).toBe(false);
    const tagged = await backend.triage.setTags('Orders to ERP', IMPORT_ID, { errorIds: [errorIdOf(2)] }, { set: ['F3ZBQ'] });
    expect(tagged.errorsToReturn).toEqual({ errors: [errorIdOf(2)], resolved: [] });
    const put = server.requests.find((r) => r.method === 'PUT' && r.url.endsWith('/tags'));
    expect(put?.body).toEqual({ errors: [{ id: errorIdOf(2), rdk: retryDataKeyOf(2) }], tagIds: ['F3ZBQ'] });
  });

  it('acts on a confirmed set only where its errors still are, and tags a resolved error named by id', async () => {
    const { server, backend } = await plain({ errors: 4 });
    const confirmed = [errorIdOf(4), errorIdOf(3), errorIdOf(2)];
    // Resolved by someone else between the count and the action.
    await backend.triage.resolve('Orders to ERP', IMPORT_ID, { errorIds: [errorIdOf(3)] });
    const done = await backend.triage.resolve('Orders to ERP', IMPORT_ID, { errorIds: confirmed, confirmed: true });
    expect(done.errorsToReturn).toEqual([errorIdOf(4), errorIdOf(2)]);
    const tagged = await backend.triage.setTags('Orders to ERP', IMPORT_ID, { errorIds: [errorIdOf(3), errorIdOf(1)] }, { set: ['F3ZBQ'] }, { dryRun: true });
    expect(tagged.errorsToReturn).toEqual({ errors: [errorIdOf(1)], resolved: [errorIdOf(3)] });
    await backend.triage.setTags('Orders to ERP', IMPORT_ID, { errorIds: [errorIdOf(3)] }, { set: ['F3ZBQ'] });
    expect(server.resolved.get(errorIdOf(3))?.tags).toEqual(['F3ZBQ']);
  });

  it('retries --all through POST …/retry with the retryDataKeys the listing gives', async () => {
    const { server, backend } = await plain({ errors: 6 });
    const job = await backend.retries.retry('Orders to ERP', IMPORT_ID, { all: true });
    expect(job).toMatchObject({ _id: '66f000000000000000000001', type: 'retry', status: 'queued', children: [] });
    const post = server.requests.find((r) => r.method === 'POST' && r.url === `/v1/flows/${FLOW_ID}/${IMPORT_ID}/retry`);
    // Errors 3 and 6 are connection failures without a snapshot.
    expect((post?.body as { retryDataKeys: string[] }).retryDataKeys.sort()).toEqual([1, 2, 4, 5].map(retryDataKeyOf).sort());
    await backend.retries.retry('Orders to ERP', IMPORT_ID, { errorIds: [errorIdOf(4)] }, { backoff: { ...DEFAULT_BACKOFF, maxAttempts: 3 } });
    const decay = server.requests.find((r) => r.url.endsWith('/retry_with_exponential_decay'));
    expect(decay?.body).toEqual({ retryDataKeys: [retryDataKeyOf(4)] });
    // No snapshot matched: the spec's 204, no job.
    expect(await backend.retries.retry('Orders to ERP', IMPORT_ID, { errorIds: [errorIdOf(3)] })).toBeUndefined();
  });

  it('evaluates the query language on the client: listing pages, counts and selections', async () => {
    const { server, backend } = await plain({ errors: 10 });
    // Errors 3, 6 and 9 have no snapshot.
    const first = await backend.listErrors('Orders to ERP', IMPORT_ID, { query: 'retryable:no', limit: 2 });
    expect(first.errors.map((e) => e.errorId)).toEqual([errorIdOf(9), errorIdOf(6)]);
    expect(first.nextPageURL).toBe(`/v1/flows/${FLOW_ID}/${IMPORT_ID}/errors?pageSize=2&before=${errorIdOf(6)}&q=retryable%3Ano`);
    const second = await backend.listErrors('Orders to ERP', IMPORT_ID, { query: 'retryable:no', limit: 2, before: errorIdOf(6) });
    expect(second.errors.map((e) => e.errorId)).toEqual([errorIdOf(3)]);
    expect(second.nextPageURL).toBeUndefined();
    expect(await backend.countErrors('Orders to ERP', IMPORT_ID, { query: 'code:e4* -retryable:no' })).toBe(7);
    expect(await backend.countErrors('Orders to ERP', IMPORT_ID, { query: '"order 3" refus' })).toBe(1);
    const resolved = await backend.triage.resolve('Orders to ERP', IMPORT_ID, { query: 'retryable:no', upToErrorId: errorIdOf(8) });
    expect(resolved.errorsToReturn).toEqual([errorIdOf(6), errorIdOf(3)]);
    expect([...server.resolved.keys()].sort()).toEqual([errorIdOf(3), errorIdOf(6)]);
  });

  it('says plainly what only a flowdeck server offers', async () => {
    const { server, backend } = await plain({ errors: 3 });
    const what = (op: string) => `"${op}" is not available on ${server.url}: it is a flowdeck extension the server does not offer`;
    expect((await rejection(backend.triage.reopen('Orders to ERP', IMPORT_ID, { all: true }))).message).toBe(what('reopening resolved errors'));
    expect((await rejection(backend.errorFacets('Orders to ERP', IMPORT_ID, 'code'))).message).toBe(what('error facets'));
    expect((await rejection(backend.triage.listTags())).message).toBe(what('tags list'));
    expect((await rejection(backend.listJobs())).message).toBe(what('jobs list'));
    // whoami answers (the TUI's header needs it), saying no more than that the token is someone's.
    expect(await backend.whoami()).toEqual({ email: 'the token’s user', location: backend.url });
    expect((await rejection(backend.listErrors('Orders to ERP', IMPORT_ID, { query: 'data.customer.email:*@x' }))).message).toBe(what('filtering by record data (data.customer.email)'));
    expect((await rejection(backend.triage.resolve('Orders to ERP', IMPORT_ID, { query: 'assignee:me' }))).message).toBe(what('assignee:me'));
    const invalid = await rejection(backend.retries.preview('Orders to ERP', IMPORT_ID, { all: true }));
    expect(invalid.message).toBe(what('retry preview (--dry-run)'));
    expect((invalid as { exitCode?: number }).exitCode).toBe(2);
  });

  it('streams the CSV download as text, the signed URL fetched without the token', async () => {
    // "é" (c3 a9) and "€" (e2 82 ac) are cut between chunks: the text must come out whole.
    const text = 'occurredAt,source,code,message\n2026-01-01T00:00:01.000Z,application,E422,"café, 5€\nsecond line"\n';
    const bytes = Buffer.from(text);
    const cut1 = bytes.indexOf(0xa9);
    const cut2 = bytes.indexOf(0x82) + 1;
    const { server, backend } = await plain({ errors: 2, csvChunks: [bytes.subarray(0, cut1), bytes.subarray(cut1, cut2), bytes.subarray(cut2)] });
    const download = await backend.records.exportErrors('Orders to ERP', IMPORT_ID, { startAtErrorId: errorIdOf(1) });
    let out = '';
    for await (const chunk of download) out += chunk;
    expect(out).toBe(text);
    const signed = server.requests.find((r) => r.url.includes('/errors/signedURL'));
    expect(signed?.url).toBe(`/v1/flows/${FLOW_ID}/${IMPORT_ID}/errors/signedURL?startAtErrorId=${errorIdOf(1)}`);
    expect(signed?.authorization).toBe(`Bearer ${TOKEN}`);
    const file = server.requests.find((r) => r.url.startsWith('/files/errors.csv'));
    expect(file?.authorization).toBeUndefined();
  });

  it('rejects a download that fails before its first byte, with the message of the one who refused', async () => {
    const { backend } = await plain({ errors: 2 });
    const error = await rejection(backend.records.exportErrors('Orders to ERP', IMPORT_ID, { resolved: true }));
    expect(error).toBeInstanceOf(NotFoundError);
    expect(error.message).toBe('this download link has expired');
  });

  it("names only the download's server when it cannot be reached: the signed URL is a credential", async () => {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as AddressInfo).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const { backend } = await plain({ errors: 1, downloadBase: `http://127.0.0.1:${port}` });
    const error = await rejection(backend.records.exportErrors('Orders to ERP', IMPORT_ID, {}));
    expect(error.message).toBe(`cannot reach http://127.0.0.1:${port}: connection refused`);
    expect(error.message).not.toContain('s3cr3t');
  });

  it('fetches a signed URL of its own server the way the profile reaches it (a TLS proxy signs http as https)', async () => {
    const { backend } = await plain({ errors: 2, signsHttps: true });
    let csv = '';
    for await (const chunk of await backend.records.exportErrors('Orders to ERP', IMPORT_ID, {})) csv += chunk;
    expect(csv.split('\n')[0]).toBe('occurredAt,source,code,message');
  });

  it('a download saved to a stream counts its rows, as errors export writes it', async () => {
    const { backend } = await plain({ errors: 2 });
    const { PassThrough } = await import('node:stream');
    const out = new PassThrough();
    let written = '';
    out.on('data', (c: Buffer) => (written += c.toString('utf8')));
    const { saveDownload } = await import('../../src/backend/download.js');
    const result = await saveDownload(await backend.records.exportErrors('Orders to ERP', IMPORT_ID, {}), out);
    expect(result).toEqual({ rows: 1 });
    expect(written.split('\n')[0]).toBe('occurredAt,source,code,message');
    expect(written).toContain('"refused, twice"');
  });
});

import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { FlowStepError, Job, ResolvedFlowStepError } from '../../src/domain/api.js';
import { fastifyPath, ROUTES, type Route } from '../../src/backend/wire/routes.js';

// A small real HTTP server of the spec (seed 002) for a handful of routes: the stand-in for the
// platform a RemoteBackend may be pointed at. It keeps one flow's errors in memory, pages them with
// nextPageURLs of its own making (a `cursor`, not flowdeck's `before`), lists flows with Link
// headers, answers 401 to a wrong token with the spec's `{ message }`, hands out signed CSV URLs on
// another path that take no token, and can be told to rate-limit (429 + Retry-After) or to hang.
// With `flowdeck: true` it also answers `whoami` and a job route (for followJob), nothing else of
// flowdeck's. Every request is recorded (method, URL, authorization) for the tests to look at.

export const FLOW_ID = '65a000000000000000000001';
export const OTHER_FLOW_ID = '65a000000000000000000002';
export const EXPORT_ID = '65b000000000000000000001';
export const IMPORT_ID = '65c000000000000000000001';
export const LOOKUP_ID = '65d000000000000000000001';
export const TOKEN = 'fdk_test-token-9f8e7d6c5b4a';

export interface SeenRequest {
  method: string;
  url: string;
  authorization: string | undefined;
  body: unknown;
  /** performance.now() when it arrived. */
  at: number;
  /** The route of the wire table it is (or `download` for a signed URL); undefined: a request no route allows. */
  route: string | undefined;
}

const routePatterns = Object.entries(ROUTES).map(([name, route]) => ({
  name,
  method: route.method,
  pattern: new RegExp(`^${route.path.replace(/\{\w+\}/g, '[^/]+')}$`),
}));

/** Which route of the wire table a request is, by method and path. */
export function routeOf(method: string, url: string): string | undefined {
  const path = url.split('?')[0]!;
  if (method === 'GET' && path.startsWith('/files/')) return 'download';
  // The most specific first: a literal segment beats a `{param}` (…/errors/signedURL vs …/{retryDataKey}/data).
  const hits = routePatterns.filter((r) => r.method === method && r.pattern.test(path));
  hits.sort((a, b) => (ROUTES[b.name as keyof typeof ROUTES].path.match(/\{/g)?.length ?? 0) < (ROUTES[a.name as keyof typeof ROUTES].path.match(/\{/g)?.length ?? 0) ? 1 : -1);
  return hits[0]?.name;
}

export interface JobScript {
  /** The job's answers, one per GET (the last one repeats). */
  states: Array<Partial<Job>>;
  /** Hold a `waitMs` request this long before answering (a long-polling server); 0: answer at once. */
  holdMs?: number;
}

export interface SpecServerOptions {
  /** Open errors on the import step (newest has the highest id). */
  errors?: number;
  /** Largest page the server hands out, whatever pageSize asks. */
  maxPageSize?: number;
  flowdeck?: { email: string };
  /** The CSV the signed URL serves, sent in these chunks (byte boundaries may split characters). */
  csvChunks?: Buffer[];
  /** Where signed URLs point (default: this server). */
  downloadBase?: string;
  /** Sign download URLs as a server behind a TLS proxy does: its own host, as https. */
  signsHttps?: boolean;
  /** Listen on this port (a restart of a server a client already knows); any free one by default. */
  port?: number;
}

export interface SpecServer {
  url: string;
  app: FastifyInstance;
  requests: SeenRequest[];
  open: Map<string, FlowStepError>;
  resolved: Map<string, ResolvedFlowStepError>;
  /** 429 with this Retry-After (seconds) on the next `n` requests to filterMetadata. */
  rateLimit(n: number, retryAfter: string): void;
  /** GET …/filterMetadata never answers (for timeouts). */
  hang(on: boolean): void;
  jobs: Map<string, JobScript & { served: number }>;
  close(): Promise<void>;
}

export function errorIdOf(i: number): string {
  return (0x65000000 + i).toString(16).padStart(8, '0') + 'e0' + i.toString(16).padStart(14, '0');
}

export function retryDataKeyOf(i: number): string {
  return (0x65000000 + i).toString(16).padStart(8, '0') + 'd0' + i.toString(16).padStart(14, '0');
}

export async function startSpecServer(options: SpecServerOptions = {}): Promise<SpecServer> {
  const app = Fastify({ logger: false, forceCloseConnections: true });
  const requests: SeenRequest[] = [];
  const open = new Map<string, FlowStepError>();
  const resolved = new Map<string, ResolvedFlowStepError>();
  const jobs = new Map<string, JobScript & { served: number }>();
  let limited = 0;
  let retryAfter = '1';
  let hanging = false;
  const maxPage = options.maxPageSize ?? 400;

  for (let i = 1; i <= (options.errors ?? 10); i++) {
    const error: FlowStepError = {
      errorId: errorIdOf(i),
      occurredAt: new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString(),
      source: 'application',
      code: 'E422',
      message: `order ${i} refused`,
      tags: null,
    };
    // Every third error is a connection failure without a snapshot.
    if (i % 3 !== 0) error.retryDataKey = retryDataKeyOf(i);
    open.set(error.errorId, error);
  }

  app.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    requests.push({ method: request.method, url: request.url, authorization: request.headers.authorization, body: undefined, at: performance.now(), route: routeOf(request.method, request.url) });
    if (request.url.startsWith('/files/')) return; // a signed URL: the signature is the credential
    if (request.headers.authorization !== `Bearer ${TOKEN}`) return reply.code(401).send({ message: 'invalid token' });
  });
  app.addHook('preHandler', async (request: FastifyRequest) => {
    requests[requests.length - 1]!.body = request.body;
  });

  const on = (route: Route, handler: (request: FastifyRequest, reply: FastifyReply) => unknown) =>
    app.route({ method: route.method, url: fastifyPath(route), handler: async (request, reply) => handler(request, reply) });
  const params = (request: FastifyRequest) => request.params as Record<string, string>;
  const query = (request: FastifyRequest) => request.query as Record<string, string>;
  const notFound = (reply: FastifyReply, what: string) => reply.code(404).send({ errors: [{ code: 'invalid_ref', message: `${what} not found` }] });
  const stepOk = (request: FastifyRequest) => params(request)._id === FLOW_ID && [EXPORT_ID, IMPORT_ID, LOOKUP_ID].includes(params(request)._stepId!);

  if (options.flowdeck) {
    const email = options.flowdeck.email;
    on(ROUTES.whoami, () => ({ email, server: 'test', version: '0' }));
    on(ROUTES.getJob, async (request, reply) => {
      const script = jobs.get(params(request).jobId!);
      if (!script) return notFound(reply, 'job');
      const waitMs = Number(query(request).waitMs ?? 0);
      const hold = Math.min(waitMs, script.holdMs ?? 0);
      if (hold > 0) await new Promise((r) => setTimeout(r, hold));
      const state = script.states[Math.min(script.served, script.states.length - 1)]!;
      script.served++;
      return { _id: params(request).jobId, type: 'retry', status: 'running', ...state, children: [] };
    });
  }

  // ---- flows: two, listed one per page with an RFC 5988 Link header
  const flows = [
    {
      _id: FLOW_ID,
      name: 'Orders to ERP',
      disabled: false,
      lastExecutedAt: '2026-01-01T00:00:00.000Z',
      pageGenerators: [{ _exportId: EXPORT_ID }],
      pageProcessors: [
        { type: 'export', _exportId: LOOKUP_ID },
        { type: 'import', _importId: IMPORT_ID },
      ],
    },
    { _id: OTHER_FLOW_ID, name: 'Refunds', disabled: true, pageGenerators: [], pageProcessors: [] },
  ];
  on(ROUTES.listFlows, (request, reply) => {
    if (query(request).page === '2') return [flows[1]];
    // Absolute, with a host name of its own (as behind a proxy): the client reads its path only.
    void reply.header('link', `<${base.replace('127.0.0.1', 'localhost')}${ROUTES.listFlows.path}?page=2>; rel="next"`);
    return [flows[0]];
  });
  on(ROUTES.getFlow, (request, reply) => flows.find((f) => f._id === params(request)._id) ?? notFound(reply, 'flow'));
  on(ROUTES.flowErrors, (request) => ({
    flowErrors:
      params(request)._id === FLOW_ID
        ? [
            { _expOrImpId: EXPORT_ID, numError: 0 },
            { _expOrImpId: IMPORT_ID, numError: open.size, lastErrorAt: '2026-01-01T00:10:00.000Z' },
          ]
        : [],
  }));

  // ---- listings: newest first, paged by a cursor of the server's own
  const page = <T extends FlowStepError>(rows: Map<string, T>, request: FastifyRequest, listing: 'errors' | 'resolved') => {
    const all = [...rows.values()].sort((a, b) => (a.errorId < b.errorId ? 1 : -1));
    const size = Math.min(Number(query(request).pageSize ?? 3) || 3, maxPage);
    const from = Number(query(request).cursor ?? 0);
    const slice = all.slice(from, from + size);
    const more = from + size < all.length;
    const { _id, _stepId } = params(request);
    return { [listing]: slice, nextPageURL: more ? `/v1/flows/${_id}/${_stepId}/${listing}?cursor=${from + size}&pageSize=${size}` : null };
  };
  on(ROUTES.listErrors, (request, reply) => (stepOk(request) ? page(params(request)._stepId === IMPORT_ID ? open : new Map(), request, 'errors') : notFound(reply, 'step')));
  on(ROUTES.listResolved, (request, reply) => (stepOk(request) ? page(params(request)._stepId === IMPORT_ID ? resolved : new Map(), request, 'resolved') : notFound(reply, 'step')));

  // ---- triage with explicit ids
  on(ROUTES.assign, (request) => {
    const body = request.body as { errorIds: string[]; email: string };
    const changed = body.errorIds.filter((id) => open.has(id));
    for (const id of changed) Object.assign(open.get(id)!, { assignedTo: body.email, assignedBy: 'platform@test' });
    return { errorsToReturn: changed };
  });
  on(ROUTES.unassign, (request) => {
    const body = request.body as { errorIds: string[] };
    const changed = body.errorIds.filter((id) => open.get(id)?.assignedTo !== undefined);
    for (const id of changed) {
      delete open.get(id)!.assignedTo;
      delete open.get(id)!.assignedBy;
    }
    return { errorsToReturn: changed };
  });
  on(ROUTES.resolve, (request, reply) => {
    for (const id of (request.body as { errors: string[] }).errors) {
      const e = open.get(id);
      if (!e) continue;
      open.delete(id);
      resolved.set(id, { ...e, resolvedAt: new Date().toISOString(), resolvedBy: 'platform@test' });
    }
    return reply.code(204).send();
  });
  on(ROUTES.deleteResolved, (request, reply) => {
    for (const id of (request.body as { errors: string[] }).errors) resolved.delete(id);
    return reply.code(204).send();
  });
  on(ROUTES.setTags, (request) => {
    const body = request.body as { errors: Array<{ id: string }>; tagIds: string[] };
    const out = { errorsToReturn: { errors: [] as string[], resolved: [] as string[] } };
    for (const { id } of body.errors) {
      const target = open.get(id) ?? resolved.get(id);
      if (!target) continue;
      target.tags = body.tagIds.length ? [...body.tagIds] : null;
      out.errorsToReturn[open.has(id) ? 'errors' : 'resolved'].push(id);
    }
    return out;
  });

  // ---- retry: a queued job, or 204 when no key matched
  const retry = (request: FastifyRequest, reply: FastifyReply) => {
    const keys = (request.body as { retryDataKeys: string[] }).retryDataKeys;
    const known = keys.filter((k) => [...open.values()].some((e) => e.retryDataKey === k));
    if (known.length === 0) return reply.code(204).send();
    return { _id: '66f000000000000000000001', type: 'retry', status: 'queued', _flowId: FLOW_ID, _importId: IMPORT_ID, numError: 0 };
  };
  on(ROUTES.retry, retry);
  on(ROUTES.retryWithBackoff, retry);

  // ---- filter metadata: rate-limited or hanging on demand
  on(ROUTES.filterMetadata, async (_request, reply) => {
    if (hanging) return new Promise(() => {});
    if (limited > 0) {
      limited--;
      return reply.code(429).header('retry-after', retryAfter).send({ errors: [{ code: 'rate_limited', message: 'slow down' }] });
    }
    return { filters: [{ name: 'source', enums: ['application', 'connection'] }] };
  });

  // ---- CSV: a signed URL on another path, which takes no token
  let base = '';
  const csv = options.csvChunks ?? [Buffer.from('occurredAt,source,code,message\n2026-01-01T00:00:01.000Z,application,E422,"refused, twice"\n')];
  on(ROUTES.errorsSignedURL, (request, reply) => {
    if (!stepOk(request)) return notFound(reply, 'step');
    const start = query(request).startAtErrorId;
    return { signedURL: `${options.downloadBase ?? (options.signsHttps ? base.replace(/^http:/, 'https:') : base)}/files/errors.csv?sig=s3cr3t${start ? `&start=${start}` : ''}` };
  });
  on(ROUTES.resolvedSignedURL, () => ({ signedURL: `${base}/files/gone.csv?sig=expired` }));
  app.get('/files/errors.csv', async (_request, reply) => {
    reply.hijack();
    reply.raw.writeHead(200, { 'content-type': 'text/csv; charset=utf-8' });
    for (const chunk of csv) {
      reply.raw.write(chunk);
      // Separate writes reach the client as separate chunks more often than not; nothing depends on it.
      await new Promise((r) => setImmediate(r));
    }
    reply.raw.end();
  });
  app.get('/files/gone.csv', async (_request, reply) => reply.code(404).send({ errors: [{ code: 'invalid_ref', message: 'this download link has expired' }] }));

  await app.listen({ host: '127.0.0.1', port: options.port ?? 0 });
  const address = app.server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  base = `http://127.0.0.1:${address.port}`;
  return {
    url: base,
    app,
    requests,
    open,
    resolved,
    jobs,
    rateLimit(n, after) {
      limited = n;
      retryAfter = after;
    },
    hang(on) {
      hanging = on;
    },
    close: () => app.close(),
  };
}

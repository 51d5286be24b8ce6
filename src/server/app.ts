import Fastify, { type FastifyInstance } from 'fastify';
import type { Backend } from '../backend/contract/index.js';
import { authHook, type VerifyToken } from './auth.js';
import { errorHandler, notFoundHandler } from './errors.js';
import { TokenBuckets } from './rate-limit.js';
import { requestLogHook } from './request-log.js';
import type { RouteContext } from './routes/define.js';
import { DownloadSigner, downloadRoutes } from './routes/downloads.js';
import { errorRoutes } from './routes/errors.js';
import { flowRoutes } from './routes/flows.js';
import { jobRoutes } from './routes/jobs.js';
import { logRoutes } from './routes/logs.js';
import { recordRoutes } from './routes/records.js';
import { retryRoutes } from './routes/retry.js';
import { triageRoutes } from './routes/triage.js';

// The HTTP face of a Backend: the spec's routes and flowdeck's extensions (src/backend/wire/
// routes.ts), each request acting as its token's user. It knows the Backend interface only: what
// backs it (a local workspace, anything else) is the caller's choice.

export const DEFAULT_BODY_LIMIT = 1024 * 1024;

export interface ServerOptions {
  /** The Backend acting as `user` (an email): who assigns, resolves and retries in the audit. */
  backendFor: (user: string) => Backend;
  verifyToken: VerifyToken;
  /** Whether a token (by the id verifyToken gave) is still good: a signed download made with a revoked one stops working. */
  tokenActive?: (tokenId: string | number) => Promise<boolean>;
  rateLimit: { capacity: number; refillPerSecond: number };
  /** Largest request body accepted, in bytes (413 above it). */
  bodyLimit?: number;
  /** Where the one line per request (and internal errors) go. */
  log: (line: string) => void;
  /** The server's version, as whoami answers it. */
  version?: string;
}

export async function buildServer(options: ServerOptions): Promise<FastifyInstance> {
  const app = Fastify({
    bodyLimit: options.bodyLimit ?? DEFAULT_BODY_LIMIT,
    // Fastify's logger would log URLs with their query strings; the request log below is the one.
    logger: false,
    // Fastify's own 503 while closing is not the spec's error body; a request that still arrives on
    // a kept-alive connection is answered (with Connection: close) instead.
    return503OnClosing: false,
    // The spec has no HEAD routes (and a HEAD of a download would start an export nobody reads).
    exposeHeadRoutes: false,
    // A client has this long to send its whole request (a slow sender holds a connection, not the server).
    requestTimeout: 60_000,
    // A body field the schema does not know is refused, not silently removed.
    ajv: { customOptions: { removeAdditional: false } },
    // A signed download's signature is one path segment, longer than the router's default 100.
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 4096 },
  });
  const closing = new AbortController();
  const buckets = new TokenBuckets(options.rateLimit);
  const ctx: RouteContext = {
    backendOf: (request) => options.backendFor(request.user),
    downloads: new DownloadSigner(),
    buckets,
    tokenActive: options.tokenActive ?? (async () => true),
    closing: closing.signal,
    version: options.version ?? '0.0.0',
  };

  // An empty body declared as JSON (some clients send the header on every POST) is no body; the
  // rest is Fastify's own parser, with its guard against __proto__ and constructor keys.
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    if (body === '') done(null, undefined);
    else parseJson(request, String(body), done);
  });

  app.decorateRequest('user', '');
  app.decorateRequest('tokenId', '');
  app.addHook('onRequest', authHook(options.verifyToken, buckets));
  app.addHook('onResponse', requestLogHook(options.log));
  // Long-polls answer at once when the server starts closing, so closing waits for no one.
  app.addHook('preClose', async () => closing.abort());
  // An answer sent while closing ends its connection: closing shuts only the connections idle when
  // it starts, and a kept-alive one that a long-poll's answer leaves idle would hold it up for
  // the keep-alive timeout (72 s).
  app.addHook('onSend', async (_request, reply, payload) => {
    if (closing.signal.aborted) reply.header('connection', 'close');
    return payload;
  });
  app.setErrorHandler(errorHandler(options.log));
  app.setNotFoundHandler(notFoundHandler);

  for (const routes of [flowRoutes, errorRoutes, triageRoutes, retryRoutes, jobRoutes, recordRoutes, logRoutes, downloadRoutes]) routes(app, ctx);
  await app.ready();
  return app;
}

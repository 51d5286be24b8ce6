import type { FastifyInstance, FastifyReply, FastifyRequest, FastifySchema } from 'fastify';
import type { Backend } from '../../backend/contract/index.js';
import { fastifyPath, type Route } from '../../backend/wire/routes.js';
import type { DownloadSigner } from './downloads.js';
import type { TokenBuckets } from '../rate-limit.js';

// What every route group is given, and the one way a route is declared: its method and path from
// the wire route table (never written here), its request schemas, and a thin handler.

export interface RouteContext {
  /** The Backend acting as the request's user. */
  backendOf(request: FastifyRequest): Backend;
  downloads: DownloadSigner;
  /** The per-token buckets: a signed download is taken from its token's, like any request. */
  buckets: TokenBuckets;
  tokenActive: (tokenId: string | number) => Promise<boolean>;
  /** Aborted when the server starts closing: long-polls answer at once. */
  closing: AbortSignal;
  version: string;
}

export interface RouteTypes {
  Params?: object;
  Querystring?: object;
  Body?: unknown;
}

export type Handler<T extends RouteTypes> = (
  request: FastifyRequest<{ Params: NonNullable<T['Params']>; Querystring: NonNullable<T['Querystring']>; Body: T['Body'] }>,
  reply: FastifyReply,
) => Promise<unknown>;

export function on<T extends RouteTypes = RouteTypes>(
  app: FastifyInstance,
  route: Route,
  options: { querystring?: object; body?: object; public?: boolean; secretPath?: boolean },
  handler: Handler<T>,
): void {
  const schema: FastifySchema = {};
  if (options.querystring) schema.querystring = options.querystring;
  if (options.body) schema.body = options.body;
  app.route({
    method: route.method,
    url: fastifyPath(route),
    schema,
    config: { public: options.public === true, secretPath: options.secretPath === true },
    handler: handler as unknown as (request: FastifyRequest, reply: FastifyReply) => Promise<unknown>,
  });
}

/** 204 with no body, as the spec answers changes it does not report. */
export function noContent(reply: FastifyReply): FastifyReply {
  return reply.code(204).send();
}

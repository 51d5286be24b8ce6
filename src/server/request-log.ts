import type { FastifyReply, FastifyRequest } from 'fastify';

// One line per request: when, method, path, status, milliseconds, user. Never a body, a header or a
// query string (a filter or a cursor may hold what a user would not want in a log); a route whose
// path itself is a credential (a signed download) is logged by its pattern.

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The path holds a credential: log the route's pattern instead. */
    secretPath?: boolean;
  }
}

export function requestLogLine(request: FastifyRequest, reply: FastifyReply, at: Date = new Date()): string {
  const path = request.routeOptions.config.secretPath ? request.routeOptions.url ?? '-' : request.url.split('?')[0]!;
  return `${at.toISOString()} ${request.method} ${path} ${reply.statusCode} ${reply.elapsedTime.toFixed(1)}ms ${request.user || '-'}`;
}

export function requestLogHook(log: (line: string) => void) {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    log(requestLogLine(request, reply));
  };
}

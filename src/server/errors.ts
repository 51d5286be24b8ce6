import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import type { ApiErrorBody } from '../domain/api.js';
import { ConflictError, isFlowdeckError, JobOutcomeError } from '../domain/errors.js';

// Every failure on the wire in the spec's error body, `{ errors: [{ code, message }] }`: flowdeck's
// error classes with their status (a conflict is 422, the spec has no 409), Fastify's own request
// validation as 400, an unknown route as 404, an oversized body as 413. Anything else is a 500 that
// says nothing of its cause to the caller (the server's log has it).

export function errorBody(code: string, message: string, field?: string): ApiErrorBody {
  const entry: ApiErrorBody['errors'][number] = { code, message };
  if (field !== undefined) entry.field = field;
  return { errors: [entry] };
}

/** The status and body a thrown error answers with. */
export function toHttpError(error: unknown): { status: number; body: ApiErrorBody; internal?: true } {
  if (isFlowdeckError(error)) {
    // 409 is not a status of the spec: a state that forbids the operation is "unprocessable".
    const status = error instanceof ConflictError || error instanceof JobOutcomeError ? 422 : error.status;
    if (status >= 500) return { status, body: errorBody(error.code, error.message) };
    return { status, body: error.toBody() };
  }
  const fastify = error as Partial<FastifyError>;
  if (fastify.validation) return { status: 400, body: validationBody(fastify) };
  if (fastify.statusCode === 413) return { status: 413, body: errorBody('payload_too_large', 'request body is too large') };
  if (typeof fastify.statusCode === 'number' && fastify.statusCode >= 400 && fastify.statusCode < 500) {
    // Malformed JSON, an unsupported content type, a bad Content-Length: the request, not the server.
    const message = (fastify.message ?? 'bad request').replace(/^FST_ERR_\w+: /, '');
    return { status: fastify.statusCode, body: errorBody(fastify.statusCode === 415 ? 'unsupported_media_type' : 'invalid_request', message) };
  }
  return { status: 500, body: errorBody('internal_error', 'internal server error'), internal: true };
}

/** Fastify's validation error as the spec's body: its message ("querystring/pageSize must be integer"), and the field. */
function validationBody(error: Partial<FastifyError>): ApiErrorBody {
  const first = error.validation?.[0];
  const params = (first?.params ?? {}) as { missingProperty?: string; additionalProperty?: string };
  const path = first?.instancePath ? first.instancePath.slice(1).replace(/\//g, '.') : undefined;
  const field = params.missingProperty ?? params.additionalProperty ?? path;
  // ajv's "must NOT have additional properties" does not say which one.
  const message = `${error.message ?? 'invalid request'}${params.additionalProperty !== undefined ? `: "${params.additionalProperty}"` : ''}`;
  return errorBody('invalid_input', message, field || undefined);
}

export function errorHandler(log: (line: string) => void) {
  return (error: unknown, _request: FastifyRequest, reply: FastifyReply): void => {
    const { status, body, internal } = toHttpError(error);
    if (internal) log(`flowdeck serve: internal error: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`);
    void reply.code(status).type('application/json; charset=utf-8').send(body);
  };
}

export function notFoundHandler(request: FastifyRequest, reply: FastifyReply): void {
  void reply.code(404).send(errorBody('not_found', `no route ${request.method} ${request.url.split('?')[0]}`));
}

import type { ApiErrorBody } from '../../domain/api.js';
import { ConflictError, FlowdeckError, InvalidInputError, NoRetryDataError, NothingToDoError, NotFoundError } from '../../domain/errors.js';

// A server's answer or a failure to reach it, as flowdeck's own error classes: a command run on a
// remote profile exits and reads as it would locally (a 404 is a NotFoundError with the server's
// message, a 400 an InvalidInputError keeping its code). Every message is one line and names the
// server by its URL without credentials; the token never appears.

/** The server could not be reached or did not answer in time. */
export class RemoteUnreachableError extends FlowdeckError {
  readonly code = 'unreachable';
  readonly status = 503;
}

/** The server refused the token (401). */
export class RemoteAuthError extends FlowdeckError {
  readonly code = 'unauthorized';
  readonly status = 401;
  constructor(url: string, detail?: string) {
    super(`the token was refused by ${url}${detail ? ` (${detail})` : ''}: check the profile's token (flowdeck profile show)`);
  }
}

/** Any other answer that is not a success, with the server's status and code. */
export class RemoteHttpError extends FlowdeckError {
  constructor(
    message: string,
    readonly status: number,
    readonly code: string,
  ) {
    super(message);
  }
}

/** A flowdeck extension asked of a server that implements only the spec. */
export function notAvailable(operation: string, url: string): InvalidInputError {
  return new InvalidInputError(`"${operation}" is not available on ${url}: it is a flowdeck extension the server does not offer`, undefined, 'not_available');
}

/** The URL as it may be shown: no user name, password, query or fragment, no trailing slash. */
export function displayUrl(url: string | URL): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname.replace(/\/+$/, '')}`;
  } catch {
    return '(an invalid URL)';
  }
}

// Codes flowdeck's ConflictError carries; the server sends them with 422 (409 is not in the spec).
const CONFLICT_CODES = new Set(['conflict', 'retry_in_progress', 'job_finished', 'duplicate_tag', 'timeout', 'job_not_completed', 'flow_running', 'run_rejected', 'token_name_taken']);

/** The FlowdeckError for a non-2xx answer: the server's first error message and code. */
export function errorFromResponse(status: number, body: unknown, url: string, statusText = ''): FlowdeckError {
  const first = firstError(body);
  const code = first?.code !== undefined ? String(first.code) : undefined;
  const message = oneLine(first?.message ?? '') || `${url} answered HTTP ${status}${statusText ? ` ${statusText}` : ''}`;
  if (status === 401) return new RemoteAuthError(url, first?.message ? oneLine(first.message) : undefined);
  if (status === 404) {
    if (code === 'no_retrydata_found') return withMessage(new NoRetryDataError(''), message);
    if (code === 'nothing_to_do') return new NothingToDoError(message, code);
    return withMessage(new NotFoundError('', '', code ?? 'invalid_ref'), message);
  }
  if (status === 409 || ((status === 422 || status === 400) && code !== undefined && CONFLICT_CODES.has(code))) return new ConflictError(message, code ?? 'conflict');
  if (status === 400 || status === 422) return new InvalidInputError(message, first?.field, code ?? 'invalid_input');
  if (status === 413) return new InvalidInputError(`${url} refused the request as too large (HTTP 413)${first?.message ? `: ${message}` : ''}`, undefined, code ?? 'too_large');
  return new RemoteHttpError(first?.message ? `${url} answered HTTP ${status}: ${message}` : message, status, code ?? `http_${status}`);
}

/** The spec's `{ errors: [ … ] }`, or its 401 body `{ message }`. */
function firstError(body: unknown): ApiErrorBody['errors'][number] | undefined {
  if (body === null || typeof body !== 'object') return undefined;
  const errors = (body as { errors?: unknown }).errors;
  if (Array.isArray(errors) && errors[0] && typeof errors[0] === 'object' && typeof (errors[0] as { message?: unknown }).message === 'string') {
    return errors[0] as ApiErrorBody['errors'][number];
  }
  const message = (body as { message?: unknown }).message;
  return typeof message === 'string' ? { message } : undefined;
}

function oneLine(text: string): string {
  return text.replace(/\s*[\r\n]+\s*/g, ' ').trim();
}

function withMessage<E extends Error>(error: E, message: string): E {
  error.message = message;
  return error;
}

import type { Classification, ErrorSource } from './filter-metadata.js';

// What actually happened on the wire, reduced to the facts classification needs. The runtime
// builds one of these per failed call; everything below is a pure function of it.
export type Failure =
  | { kind: 'socket'; errno: string; message: string }
  | { kind: 'timeout'; timeoutMs: number; /** The request's total deadline, not an idle wait. */ deadline?: boolean }
  /** The response outgrew the connection's maxResponseBytes: reading stopped, the request was aborted. */
  | { kind: 'too_large'; limitBytes: number; receivedBytes: number }
  /** Aborted by this side (a job's cancel): the record was not settled. */
  | { kind: 'canceled' }
  | { kind: 'status'; statusCode: number; body: string; retryAfter?: string }
  | { kind: 'parse'; statusCode: number; body: string; detail: string }
  | { kind: 'mapping'; field: string; detail: string };

export interface Classified {
  classification: Classification;
  source: ErrorSource;
  code: string;
  message: string;
  /** Connection-class failures cannot be retried record by record: no snapshot is kept. */
  retriable: boolean;
  /** Intermittent and rate-limited failures are retried automatically with back-off. */
  autoRetry: boolean;
}

const CONNECTION_ERRNOS = new Set([
  'ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNRESET',
  'EPIPE', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED',
]);

const MESSAGE_LIMIT = 4000;

function clip(text: string): string {
  return text.length > MESSAGE_LIMIT ? `${text.slice(0, MESSAGE_LIMIT)}…` : text;
}

/** The target's body as the message when it is JSON (compacted), otherwise a status line. */
function statusMessage(statusCode: number, body: string): string {
  const trimmed = body.trim();
  if (trimmed) {
    try {
      return clip(JSON.stringify(JSON.parse(trimmed)));
    } catch {
      return clip(`HTTP ${statusCode}: ${trimmed}`);
    }
  }
  return `HTTP ${statusCode}`;
}

function bodySays(body: string, pattern: RegExp): boolean {
  return pattern.test(body);
}

function classifyStatus(statusCode: number, body: string): Classification {
  if (statusCode === 429) return 'rate_limit';
  if (statusCode === 408 || statusCode === 502 || statusCode === 503 || statusCode === 504) return 'intermittent';
  if (statusCode >= 500) return bodySays(body, /timeout|temporar|unavailable|try again/i) ? 'intermittent' : 'none';
  if (statusCode === 409 || bodySays(body, /duplicate|already exists/i)) return 'duplicate';
  if (statusCode === 413) return 'too_large';
  if (statusCode === 401) return 'connection';
  if (statusCode === 403) return bodySays(body, /quota|limit|governance|concurren/i) ? 'governance' : 'connection';
  if (statusCode === 404 || statusCode === 410) return 'missing';
  if (statusCode === 400 || statusCode === 422) {
    return bodySays(body, /required|missing/i) ? 'missing' : 'value';
  }
  return 'none';
}

export function classifyFailure(failure: Failure): Classified {
  switch (failure.kind) {
    case 'socket': {
      const connection = CONNECTION_ERRNOS.has(failure.errno);
      return {
        classification: connection ? 'connection' : 'none',
        source: 'connection',
        code: failure.errno,
        message: clip(failure.message),
        retriable: !connection,
        autoRetry: false,
      };
    }
    case 'timeout':
      return {
        classification: 'connection',
        source: 'connection',
        code: 'ETIMEDOUT',
        message: failure.deadline
          ? `Request did not complete within its deadline of ${failure.timeoutMs} ms (the connection's deadlineMs)`
          : `Request timed out after ${failure.timeoutMs} ms waiting for a response`,
        retriable: false,
        autoRetry: false,
      };
    case 'too_large':
      return {
        classification: 'too_large',
        source: 'connection',
        code: 'response_too_large',
        message: `Response too large: over ${failure.limitBytes} bytes (the connection's maxResponseBytes)${failure.receivedBytes > failure.limitBytes ? `, ${failure.receivedBytes} bytes announced or read when it was stopped` : ''}`,
        retriable: true,
        autoRetry: false,
      };
    case 'canceled':
      return {
        classification: 'none',
        source: 'connection',
        code: 'canceled',
        message: 'Request canceled before it completed',
        retriable: true,
        autoRetry: false,
      };
    case 'status': {
      const classification = classifyStatus(failure.statusCode, failure.body);
      const connection = classification === 'connection';
      return {
        classification,
        source: connection ? 'connection' : 'application',
        code: String(failure.statusCode),
        message: statusMessage(failure.statusCode, failure.body),
        retriable: !connection,
        autoRetry: classification === 'intermittent' || classification === 'rate_limit',
      };
    }
    case 'parse':
      return {
        classification: 'parse',
        source: 'application',
        code: 'parse_error',
        message: clip(`Could not parse the response (HTTP ${failure.statusCode}): ${failure.detail}`),
        retriable: true,
        autoRetry: false,
      };
    case 'mapping':
      return {
        classification: 'missing',
        source: 'mapping',
        code: 'missing_required_field',
        message: clip(`Mapping failed at ${failure.field}: ${failure.detail}`),
        retriable: true,
        autoRetry: false,
      };
  }
}

import { Pool, util, type Dispatcher } from 'undici';
import type { Failure } from '../domain/classify.js';
import type { Redactor } from '../domain/mask.js';
import type { CancelScope } from './cancel-scope.js';
import type { ResolvedConnection } from './connections.js';

// The HTTP adaptor: one keep-alive pool per origin, sized by the connection's concurrency, so a
// retry of 100,000 records reuses a few sockets. It reports what happened on the wire; callers
// classify it. Traces are masked here, before anything can store them.

export interface HttpRequest {
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: string;
  /** Aborts the request in flight (a retry job's cancel). */
  cancel?: CancelScope | undefined;
}

export interface MaskedTrace {
  request: { method: string; url: string; headers: Record<string, string>; body?: string };
  response: { statusCode?: number; headers?: Record<string, string>; body?: string; receivedAt?: number };
}

export interface HttpResult {
  ok: boolean;
  statusCode?: number;
  body: string;
  /** Set when the call failed (socket, timeout, or a non-2xx status). */
  failure?: Failure;
  startedAt: number;
  timeTaken: number;
  trace: () => MaskedTrace;
}

function flatHeaders(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) {
    if (v !== undefined) out[k] = Array.isArray(v) ? v.join(', ') : v;
  }
  return out;
}

/** Why this side ended a request early: the response outgrew its cap, the deadline passed, or a cancel. */
class EndedByUs extends Error {
  constructor(
    readonly reason: 'too_large' | 'deadline' | 'canceled',
    readonly receivedBytes = 0,
  ) {
    super(reason);
  }
}

interface ExchangeLimits {
  maxResponseBytes: number;
  deadlineMs: number;
  cancel?: CancelScope | undefined;
}

interface Exchanged {
  statusCode: number;
  rawHeaders: Buffer[];
  body: string;
}

/**
 * One request and its whole response through undici's dispatch(), with a handler that collects the
 * body: half the CPU of request(), whose stream and promise plumbing a small JSON body never needs
 * (a retry of 100,000 records spends most of its time here). The handler uses the callbacks
 * undici 7's pools call natively; its newer controller-based ones need an extra wrapping layer.
 * A hostile target cannot hold it: past `maxResponseBytes` (or a content-length over it) and at
 * the total deadline the request is aborted, and so it is when its `cancel` scope is (a job's cancel).
 */
function exchange(pool: Pool, options: Dispatcher.DispatchOptions, limits: ExchangeLimits): Promise<Exchanged> {
  return new Promise((resolve, reject) => {
    let statusCode = 0;
    let rawHeaders: Buffer[] = [];
    const chunks: Buffer[] = [];
    let received = 0;
    let abort: ((e: Error) => void) | undefined;
    let settled = false;
    let deadline: NodeJS.Timeout | undefined;
    const finish = (fn: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      unregister?.();
      fn();
    };
    // Ends the request from this side: at once when it is on a socket, else as soon as it gets one
    // (the caller's answer does not wait for a socket that a dribbling target holds).
    const end = (e: EndedByUs) => {
      if (abort) abort(e);
      finish(() => reject(e));
    };
    if (limits.cancel?.canceled) return reject(new EndedByUs('canceled'));
    const unregister = limits.cancel?.add(() => end(new EndedByUs('canceled')));
    deadline = setTimeout(() => end(new EndedByUs('deadline', received)), limits.deadlineMs);
    pool.dispatch(options, {
      onConnect: (a: (e: Error) => void) => {
        abort = a;
        if (settled) a(new EndedByUs('canceled'));
      },
      onHeaders: (status: number, headers: Buffer[]) => {
        // 1xx informational responses come first and carry no body of their own.
        if (status < 200) return true;
        statusCode = status;
        rawHeaders = headers;
        const length = Number(contentLength(headers));
        if (length > limits.maxResponseBytes) end(new EndedByUs('too_large', length));
        return true;
      },
      onData: (chunk: Buffer) => {
        received += chunk.length;
        if (received > limits.maxResponseBytes) {
          end(new EndedByUs('too_large', received));
          return false;
        }
        chunks.push(chunk);
        return true;
      },
      onComplete: () => {
        const body = chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks).toString('utf8');
        finish(() => resolve({ statusCode, rawHeaders, body }));
      },
      onError: (e: Error) => finish(() => reject(e)),
    } as Dispatcher.DispatchHandler);
  });
}

function contentLength(rawHeaders: Buffer[]): string | undefined {
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    if (rawHeaders[i]!.length === 14 && rawHeaders[i]!.toString('latin1').toLowerCase() === 'content-length') return rawHeaders[i + 1]!.toString('latin1');
  }
  return undefined;
}

/** The most of a body a trace keeps: enough to read an error, never a 700 MB page. */
export const TRACE_BODY_LIMIT = 64 * 1024;

/** A body as a trace keeps it: clipped past TRACE_BODY_LIMIT, saying how long it was. */
export function clipBody(body: string): string {
  if (body.length <= TRACE_BODY_LIMIT) return body;
  return `${body.slice(0, TRACE_BODY_LIMIT)}\n… [clipped: ${Buffer.byteLength(body)} bytes in all, ${TRACE_BODY_LIMIT} characters kept]`;
}

/** Where a request goes: the origin (its pool) and the path on the wire. */
interface Target {
  origin: string;
  path: string;
  href: () => string;
}

const bases = new Map<string, { origin: string; basePath: string }>();
// A path of plain URL characters with no dot segments: it needs no normalising, so it is joined to
// the base as it is instead of parsing a URL per request (a retry sends 100,000 of them).
// No '.' in segments and no encoded dot ('%2e') at all, no "'" or '?' in the query (URL encodes the
// quote there), and a query is never empty ('/x?' reads as '/x').
const PLAIN_PATH = /^(?:\/[A-Za-z0-9\-_~!$&()*+,;=:@%]+)*\/?(?:\?[A-Za-z0-9\-._~!$&()*+,;=:@%/]+)?$/;
const ENCODED_DOT = /%2e/i;

/** The URL of `path` (starting with '/') under a base URI, as `new URL(base + path)` would read it. */
export function targetOf(baseURI: string, path: string): Target {
  let base = bases.get(baseURI);
  if (!base) {
    const parsed = new URL(baseURI);
    base = { origin: parsed.origin, basePath: parsed.pathname === '/' ? '' : parsed.pathname.replace(/\/+$/, '') };
    if (parsed.search || parsed.hash || parsed.username || parsed.password) base = undefined;
    else bases.set(baseURI, base);
  }
  if (base && PLAIN_PATH.test(path) && !ENCODED_DOT.test(path)) {
    const { origin, basePath } = base;
    const full = basePath + path;
    return { origin, path: full, href: () => origin + full };
  }
  const url = new URL(baseURI + path);
  return { origin: url.origin, path: url.pathname + url.search, href: () => url.toString() };
}

const TIMEOUT_CODES = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CONNECT_TIMEOUT', 'ETIMEDOUT']);

export class HttpClient {
  private readonly pools = new Map<string, Pool>();

  constructor(private readonly redactor: Redactor) {}

  private pool(connection: ResolvedConnection, origin: string): Pool {
    const key = `${connection.id}|${origin}`;
    let pool = this.pools.get(key);
    if (!pool) {
      pool = new Pool(origin, {
        connections: connection.concurrency,
        pipelining: 1,
        headersTimeout: connection.timeoutMs,
        bodyTimeout: connection.timeoutMs,
        connectTimeout: Math.min(connection.timeoutMs, 10_000),
        keepAliveTimeout: 10_000,
      });
      this.pools.set(key, pool);
    }
    return pool;
  }

  async send(connection: ResolvedConnection, req: HttpRequest): Promise<HttpResult> {
    const url = targetOf(connection.baseURI, req.path.startsWith('/') ? req.path : `/${req.path}`);
    const headers: Record<string, string> = { accept: 'application/json', ...connection.headers, ...req.headers };
    if (req.body !== undefined) headers['content-type'] ??= 'application/json';
    const startedAt = Date.now();
    // Built only for a trace (a failure, or execution logs): a success needs neither its headers nor a masked copy.
    const trace =
      (response: { statusCode?: number; headers?: () => Record<string, string>; body?: string; receivedAt: number }) =>
      (): MaskedTrace => ({
        request: {
          method: req.method,
          url: this.redactor.url(url.href()),
          headers: this.redactor.headers(headers),
          ...(req.body !== undefined ? { body: clipBody(this.redactor.text(req.body)) } : {}),
        },
        response: {
          ...(response.statusCode !== undefined ? { statusCode: response.statusCode } : {}),
          ...(response.headers ? { headers: this.redactor.headers(response.headers()) } : {}),
          ...(response.body !== undefined ? { body: clipBody(this.redactor.text(response.body)) } : {}),
          receivedAt: response.receivedAt,
        },
      });
    try {
      const res = await exchange(this.pool(connection, url.origin), {
        method: req.method as Dispatcher.HttpMethod,
        path: url.path,
        headers,
        ...(req.body !== undefined ? { body: req.body } : {}),
      }, { maxResponseBytes: connection.maxResponseBytes, deadlineMs: connection.deadlineMs, cancel: req.cancel });
      const { statusCode, body } = res;
      const receivedAt = Date.now();
      const responseHeaders = () => flatHeaders(util.parseHeaders(res.rawHeaders));
      const ok = statusCode >= 200 && statusCode < 300;
      const result: HttpResult = {
        ok,
        statusCode,
        body,
        startedAt,
        timeTaken: receivedAt - startedAt,
        trace: trace({ statusCode, headers: responseHeaders, body, receivedAt }),
      };
      if (!ok) {
        const retryAfter = responseHeaders()['retry-after'];
        // Masked before classification clips it into a message: a secret cut in half stays hidden.
        result.failure = { kind: 'status', statusCode, body: this.redactor.text(body), ...(retryAfter ? { retryAfter } : {}) };
      }
      return result;
    } catch (e) {
      const err = e as NodeJS.ErrnoException & { cause?: NodeJS.ErrnoException };
      const code = err.code ?? err.cause?.code ?? 'EUNKNOWN';
      const failure: Failure =
        e instanceof EndedByUs
          ? e.reason === 'too_large'
            ? { kind: 'too_large', limitBytes: connection.maxResponseBytes, receivedBytes: e.receivedBytes }
            : e.reason === 'deadline'
              ? { kind: 'timeout', timeoutMs: connection.deadlineMs, deadline: true }
              : { kind: 'canceled' }
          : TIMEOUT_CODES.has(code)
            ? { kind: 'timeout', timeoutMs: connection.timeoutMs }
            : { kind: 'socket', errno: code, message: this.redactor.text(`${code}: ${err.cause?.message ?? err.message} (${url.origin})`) };
      const now = Date.now();
      return { ok: false, body: '', failure, startedAt, timeTaken: now - startedAt, trace: trace({ receivedAt: now }) };
    }
  }

  async close(): Promise<void> {
    const pools = [...this.pools.values()];
    this.pools.clear();
    await Promise.all(pools.map((p) => p.destroy()));
  }
}

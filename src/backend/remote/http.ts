import { setTimeout as sleep } from 'node:timers/promises';
import { Agent } from 'undici';
import type { Dispatcher } from 'undici';
import { InvalidInputError } from '../../domain/errors.js';
import { pathOf, type Route } from '../wire/routes.js';
import { displayUrl, errorFromResponse, RemoteHttpError, RemoteUnreachableError } from './remote-errors.js';
import { secondsText } from '../../domain/text.js';

// The HTTP half of the RemoteBackend: one keep-alive undici Agent per backend, connect and request
// timeouts, `Authorization: Bearer` on every request to the server (never on a signed download URL,
// whose signature is its credential), JSON in and out, and a server's 429 waited out as its
// Retry-After asks, within bounds. Requests go only to the routes of src/backend/wire/routes.ts (or
// to a URL the server itself handed out: a nextPageURL, a signed URL). Failures become one line
// naming the server by its URL without credentials.

export interface HttpOptions {
  /** The API token; every request to the server carries it as a Bearer token. */
  token?: string;
  /** Time to open a connection (default 5 s). */
  connectTimeoutMs?: number;
  /** Time to the response headers, and between body chunks (default 30 s; a long-poll adds its wait). */
  requestTimeoutMs?: number;
  /** 429 handling: retries at most this often (default 5)… */
  maxRateLimitRetries?: number;
  /** …and waits at most this long in all (default 60 s) before giving up. */
  maxRateLimitWaitMs?: number;
}

export type QueryValue = string | number | boolean | undefined;

export interface CallParams {
  path?: Record<string, string>;
  query?: Record<string, QueryValue | readonly string[]>;
  body?: unknown;
  signal?: AbortSignal;
  /** Headers timeout for this request (a long-poll waits longer than a plain request). */
  timeoutMs?: number;
}

export interface HttpAnswer<T> {
  status: number;
  /** The parsed JSON body; undefined for an empty body (204). */
  body: T | undefined;
  headers: Record<string, string | string[] | undefined>;
}

export const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;
// 30 s: an interactive command should not sit silent for a minute on a server that does not answer
// (a long-poll adds its own wait to this).
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;

export class HttpClient {
  /** The server's URL as messages show it: no credentials. */
  readonly url: string;
  private readonly base: URL;
  private readonly agent: Agent;
  private readonly token: string | undefined;
  private readonly connectTimeoutMs: number;
  /** The headers and body timeout of a request (a long-poll adds its wait to it). */
  readonly requestTimeoutMs: number;
  private readonly maxRetries: number;
  private readonly maxWaitMs: number;

  constructor(baseUrl: string, options: HttpOptions = {}) {
    let base: URL;
    try {
      base = new URL(baseUrl);
    } catch {
      throw new RemoteHttpError(`"${displayUrl(baseUrl)}" is not a server URL (e.g. http://host:7700)`, 400, 'invalid_url');
    }
    if (base.protocol !== 'http:' && base.protocol !== 'https:') {
      throw new RemoteHttpError(`${displayUrl(base)} is not an http(s) URL`, 400, 'invalid_url');
    }
    // Credentials in the URL are never sent nor shown: the token is the one credential.
    base.username = '';
    base.password = '';
    base.search = '';
    base.hash = '';
    this.base = base;
    this.url = displayUrl(base);
    // A header value cannot hold control characters; say so without showing the token.
    if (options.token !== undefined && !/^[\x21-\x7e]+$/.test(options.token)) {
      throw new InvalidInputError('the token has characters no API token has (spaces, line breaks or non-ASCII): check the profile\'s token', 'token');
    }
    this.token = options.token;
    this.connectTimeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    this.requestTimeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    this.maxRetries = options.maxRateLimitRetries ?? 5;
    this.maxWaitMs = options.maxRateLimitWaitMs ?? 60_000;
    this.agent = new Agent({
      connect: { timeout: this.connectTimeoutMs },
      headersTimeout: this.requestTimeoutMs,
      bodyTimeout: this.requestTimeoutMs,
      keepAliveTimeout: 30_000,
    });
  }

  /** One operation of the route table. */
  call<T>(route: Route, params: CallParams = {}): Promise<HttpAnswer<T>> {
    const url = this.resolve(pathOf(route, params.path ?? {}));
    for (const [name, value] of Object.entries(params.query ?? {})) {
      if (Array.isArray(value)) for (const v of value as readonly string[]) url.searchParams.append(name, v);
      else if (value !== undefined) url.searchParams.set(name, String(value));
    }
    return this.send<T>(route.method, url, params);
  }

  /** GET of a URL the server handed out (a nextPageURL): relative ones are the server's paths. */
  follow<T>(pageUrl: string, signal?: AbortSignal): Promise<HttpAnswer<T>> {
    // An absolute one (a server behind a proxy may write its own host) is read for its path and
    // query only: the token goes to this server and nowhere else.
    const given = this.resolve(pageUrl);
    const url = given.origin === this.base.origin ? given : new URL(given.pathname + given.search, this.base.origin);
    return this.send<T>('GET', url, signal ? { signal } : {});
  }

  /**
   * A signed download URL as UTF-8 text chunks. No token goes with it (the signature is the
   * credential, and the URL may point elsewhere); a failure before the first byte rejects.
   */
  async download(signedUrl: string, signal?: AbortSignal): Promise<AsyncIterable<string>> {
    const url = this.resolve(signedUrl);
    // A server behind a TLS proxy sees plain http and signs an http:// URL of its own host: go there
    // the way the profile does (https), never with the signature in clear text.
    if (url.host === this.base.host && url.protocol !== this.base.protocol) url.protocol = this.base.protocol;
    // The signed URL's path and query are its credential: a message names its server only.
    const shown = displayUrl(url.origin);
    const response = await this.dispatch('GET', url, {}, false, signal, shown);
    if (response.statusCode < 200 || response.statusCode >= 300) {
      const body = await readJson(response.body);
      throw errorFromResponse(response.statusCode, body, shown);
    }
    const stream = response.body;
    const fail = (e: unknown) => this.failure(e, shown);
    return {
      async *[Symbol.asyncIterator]() {
        // One decoder for the whole body: a character cut between two chunks comes out whole.
        const decoder = new TextDecoder('utf-8');
        try {
          for await (const chunk of stream) {
            const text = decoder.decode(chunk as Uint8Array, { stream: true });
            if (text) yield text;
          }
          const rest = decoder.decode();
          if (rest) yield rest;
        } catch (e) {
          throw fail(e);
        }
      },
    };
  }

  async close(): Promise<void> {
    await this.agent.close();
  }

  /** A path of the server (relative to its base URL, which may carry a path prefix) or an absolute URL. */
  private resolve(target: string): URL {
    if (/^https?:\/\//i.test(target)) return new URL(target);
    const prefix = this.base.pathname.replace(/\/+$/, '');
    const path = target.startsWith('/') ? target : `/${target}`;
    return new URL(prefix && !path.startsWith(`${prefix}/`) ? prefix + path : path, this.base.origin);
  }

  private async send<T>(method: string, url: URL, params: CallParams): Promise<HttpAnswer<T>> {
    const started = Date.now();
    for (let retries = 0; ; retries++) {
      const response = await this.dispatch(method, url, params, true, params.signal, this.url);
      const body = await readJson(response.body).catch((e: unknown) => {
        throw this.failure(e, this.url);
      });
      if (response.statusCode === 429) {
        const waitMs = retryAfterMs(response.headers['retry-after']);
        const waited = Date.now() - started;
        if (retries >= this.maxRetries || waited + waitMs > this.maxWaitMs) {
          throw new RemoteHttpError(
            `the server at ${this.url} is rate limiting: gave up after ${retries} ${retries === 1 ? 'retry' : 'retries'} in ${secondsText(waited)}`,
            429,
            'rate_limited',
          );
        }
        await sleep(waitMs, undefined, params.signal ? { signal: params.signal } : {});
        continue;
      }
      if (response.statusCode >= 200 && response.statusCode < 300) {
        if (body === INVALID_JSON) throw new RemoteHttpError(`${this.url} answered ${method} ${url.pathname} with a body that is not JSON`, 502, 'bad_response');
        return { status: response.statusCode, body: body as T | undefined, headers: response.headers };
      }
      throw errorFromResponse(response.statusCode, body === INVALID_JSON ? undefined : body, this.url, statusText(response.statusCode));
    }
  }

  private async dispatch(method: string, url: URL, params: CallParams, authorized: boolean, signal: AbortSignal | undefined, shown: string): Promise<Dispatcher.ResponseData> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (authorized && this.token) headers.authorization = `Bearer ${this.token}`;
    let body: string | undefined;
    if (params.body !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(params.body);
    }
    const headersTimeout = params.timeoutMs ?? this.requestTimeoutMs;
    const options = { origin: url.origin, path: url.pathname + url.search, method: method as Dispatcher.HttpMethod, headers, body, headersTimeout, signal };
    try {
      return await this.agent.request(options);
    } catch (e) {
      // A kept-alive connection the server had just closed: a read is safely asked once more.
      if (method === 'GET' && isStaleConnection(e) && !signal?.aborted) {
        try {
          return await this.agent.request(options);
        } catch (again) {
          throw this.failure(again, shown, headersTimeout);
        }
      }
      throw this.failure(e, shown, headersTimeout);
    }
  }

  /** A transport failure as one line; an abort asked by the caller stays an abort. */
  private failure(e: unknown, shown: string, headersTimeout = this.requestTimeoutMs): Error {
    const err = e as { code?: string; name?: string; message?: string; errors?: Array<{ code?: string }> };
    if (err?.name === 'AbortError') return e as Error;
    if (e instanceof RemoteHttpError || e instanceof RemoteUnreachableError) return e;
    const code = err?.code ?? err?.errors?.[0]?.code ?? '';
    const why =
      code === 'ECONNREFUSED'
        ? 'connection refused'
        : code === 'UND_ERR_CONNECT_TIMEOUT'
          ? `timed out after ${secondsText(this.connectTimeoutMs)}`
          : code === 'UND_ERR_HEADERS_TIMEOUT'
            ? `timed out after ${secondsText(headersTimeout)}`
            : code === 'UND_ERR_BODY_TIMEOUT'
              ? `timed out after ${secondsText(this.requestTimeoutMs)} without data`
              : code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'EAI_NONAME'
                ? 'no such host'
                : code === 'ECONNRESET' || code === 'UND_ERR_SOCKET' || code === 'EPIPE'
                  ? 'the connection was closed by the server'
                  : code === 'EHOSTUNREACH' || code === 'ENETUNREACH'
                    ? 'the host is unreachable'
                    : (err?.message ?? String(e)).split('\n')[0];
    return new RemoteUnreachableError(`cannot reach ${shown}: ${why}`);
  }
}

function isStaleConnection(e: unknown): boolean {
  const code = (e as { code?: string })?.code;
  return code === 'ECONNRESET' || code === 'UND_ERR_SOCKET' || code === 'EPIPE';
}

const INVALID_JSON = Symbol('invalid JSON');

async function readJson(body: Dispatcher.ResponseData['body']): Promise<unknown> {
  const text = await body.text();
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return INVALID_JSON;
  }
}

/** Retry-After in seconds or as an HTTP date; a missing or unreadable one counts as 1 s. */
export function retryAfterMs(header: string | string[] | undefined, now = Date.now()): number {
  const value = Array.isArray(header) ? header[0] : header;
  if (value === undefined || value.trim() === '') return 1000;
  if (/^\d+(\.\d+)?$/.test(value.trim())) return Math.ceil(Number(value) * 1000);
  const at = Date.parse(value);
  return Number.isNaN(at) ? 1000 : Math.max(0, at - now);
}


const STATUS_TEXT: Record<number, string> = { 403: 'Forbidden', 405: 'Method Not Allowed', 500: 'Internal Server Error', 502: 'Bad Gateway', 503: 'Service Unavailable', 504: 'Gateway Timeout' };

function statusText(status: number): string {
  return STATUS_TEXT[status] ?? '';
}

import { createServer, type IncomingMessage, type RequestListener, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

// Shared plumbing of the mock systems: JSON answers, body reading, listen and a close that does not
// wait for clients (a keep-alive pool or a request parked on the slow system must not hold a test).

export interface ErrorEntry {
  code: string;
  message: string;
  field?: string;
}

export const JSON_HEADERS = { 'content-type': 'application/json' } as const;

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers?: Record<string, string>,
): void {
  const payload = JSON.stringify(body);
  res.writeHead(status, {
    ...JSON_HEADERS,
    'content-length': Buffer.byteLength(payload),
    ...headers,
  });
  res.end(payload);
}

export function sendErrors(
  res: ServerResponse,
  status: number,
  errors: ErrorEntry[],
  headers?: Record<string, string>,
): void {
  sendJson(res, status, { errors }, headers);
}

export function sendError(res: ServerResponse, status: number, code: string, message: string): void {
  sendErrors(res, status, [{ code, message }]);
}

export function notFound(res: ServerResponse, req: IncomingMessage): void {
  sendError(res, 404, 'not_found', `No route for ${req.method ?? 'GET'} ${pathOf(req)}`);
}

export function methodNotAllowed(res: ServerResponse, req: IncomingMessage, allow: string): void {
  sendErrors(res, 405, [{ code: 'method_not_allowed', message: `${req.method ?? ''} is not allowed on ${pathOf(req)}` }], {
    allow,
  });
}

export function pathOf(req: IncomingMessage): string {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  return q === -1 ? url : url.slice(0, q);
}

export const MAX_BODY_BYTES = 1024 * 1024;

export interface ReadBody {
  text: string;
  /** The body went past MAX_BODY_BYTES; `text` is then empty and the rest was discarded. */
  tooLarge: boolean;
}

/** Reads the whole body, always to its end, so keep-alive connections stay usable. */
export function readBody(req: IncomingMessage): Promise<ReadBody> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        tooLarge = true;
        chunks.length = 0;
      } else if (!tooLarge) {
        chunks.push(chunk);
      }
    });
    const done = () => resolve({ text: tooLarge ? '' : Buffer.concat(chunks).toString('utf8'), tooLarge });
    req.on('end', done);
    // An aborted client gets no answer anyway; resolving keeps handlers from hanging.
    req.on('error', done);
  });
}

/** Wraps an async handler so a thrown bug answers 500 JSON instead of leaving the client hanging. */
export function jsonServer(handler: (req: IncomingMessage, res: ServerResponse) => Promise<void> | void): Server {
  const listener: RequestListener = (req, res) => {
    Promise.resolve()
      .then(() => handler(req, res))
      .catch((error: unknown) => {
        if (res.headersSent) {
          res.destroy();
          return;
        }
        sendError(res, 500, 'internal_error', error instanceof Error ? error.message : String(error));
      });
  };
  return createServer(listener);
}

export function listen(server: Server): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error) => reject(error);
    server.once('error', onError);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', onError);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) {
      resolve();
      return;
    }
    server.close(() => resolve());
    // close() alone waits for in-flight requests; destroying every socket is what lets it return now.
    server.closeAllConnections();
  });
}

/** A port that was just free and now has nothing listening, so connecting is refused. */
export async function refusedPort(): Promise<number> {
  const server = createServer();
  const port = await listen(server);
  await closeServer(server);
  return port;
}

export function baseUrl(port: number): string {
  return `http://127.0.0.1:${port}`;
}

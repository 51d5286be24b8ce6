import { createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { RemoteBackend } from '../../src/backend/remote/remote-backend.js';
import { RemoteAuthError, RemoteUnreachableError } from '../../src/backend/remote/remote-errors.js';
import { NotFoundError } from '../../src/domain/errors.js';
import { startSpecServer, TOKEN, type SpecServer } from '../helpers/spec-server.js';

// The RemoteBackend's transport against real HTTP on 127.0.0.1: the token on every request, a 429
// waited out as Retry-After says, and every failure as one line naming the server by its URL —
// never its credentials, never the token.

let server: SpecServer | undefined;
const backends: RemoteBackend[] = [];

afterEach(async () => {
  for (const b of backends.splice(0)) await b.close();
  // Every request the client sent is one of the wire table's routes (a spec path or a listed extension).
  expect(server?.requests.filter((r) => r.route === undefined).map((r) => `${r.method} ${r.url}`) ?? []).toEqual([]);
  await server?.close();
  server = undefined;
});

function remote(url: string, options: Partial<ConstructorParameters<typeof RemoteBackend>[0]> = {}): RemoteBackend {
  const backend = new RemoteBackend({ url, token: TOKEN, ...options });
  backends.push(backend);
  return backend;
}

async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a rejection');
}

/** A port nothing listens on: one that was open a moment ago. */
async function closedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const address = probe.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return address.port;
}

describe('RemoteBackend transport', () => {
  it('sends the token as a Bearer header on every request and reads JSON', async () => {
    server = await startSpecServer();
    const backend = remote(server.url);
    expect(await backend.filterMetadata()).toEqual({ filters: [{ name: 'source', enums: ['application', 'connection'] }] });
    expect(server.requests.length).toBeGreaterThan(0);
    expect(server.requests.every((r) => r.authorization === `Bearer ${TOKEN}`)).toBe(true);
  });

  it('waits out a 429 as Retry-After asks and then succeeds', async () => {
    server = await startSpecServer();
    server.rateLimit(1, '1');
    const backend = remote(server.url);
    const started = Date.now();
    const metadata = await backend.filterMetadata();
    expect(metadata.filters[0]?.name).toBe('source');
    const calls = server.requests.filter((r) => r.url === '/v1/errors/filterMetadata');
    expect(calls).toHaveLength(2);
    // It waited (about) the second the server asked for, not less.
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
  });

  it('gives up on a server that keeps rate limiting, with a clear message', async () => {
    server = await startSpecServer();
    server.rateLimit(100, '1');
    const backend = remote(server.url, { maxRateLimitRetries: 1 });
    const error = await rejection(backend.filterMetadata());
    expect(error.message).toBe(`the server at ${server.url} is rate limiting: gave up after 1 retry in ${error.message.match(/in (\S+)$/)![1]}`);
    expect(error.message).toMatch(/^the server at http:\/\/127\.0\.0\.1:\d+ is rate limiting: gave up after 1 retry in 1(\.\d)?s$/);
  });

  it('gives up at once when Retry-After asks for more than the total wait allowed', async () => {
    server = await startSpecServer();
    server.rateLimit(1, '120');
    const error = await rejection(remote(server.url).filterMetadata());
    expect(error.message).toMatch(/is rate limiting: gave up after 0 retries/);
    expect(server.requests.filter((r) => r.url === '/v1/errors/filterMetadata')).toHaveLength(1);
  });

  it('says the token was refused on a 401, without showing it', async () => {
    server = await startSpecServer();
    const backend = new RemoteBackend({ url: server.url, token: 'fdk_wrong-token-0000' });
    backends.push(backend);
    const error = await rejection(backend.filterMetadata());
    expect(error).toBeInstanceOf(RemoteAuthError);
    expect(error.message).toBe(`the token was refused by ${server.url} (invalid token): check the profile's token (flowdeck profile show)`);
    expect(error.message).not.toContain('fdk_wrong');
  });

  it('says "connection refused" for a port nothing listens on', async () => {
    const port = await closedPort();
    const error = await rejection(remote(`http://127.0.0.1:${port}`).filterMetadata());
    expect(error).toBeInstanceOf(RemoteUnreachableError);
    expect(error.message).toBe(`cannot reach http://127.0.0.1:${port}: connection refused`);
  });

  it('says it timed out when the server does not answer in time', async () => {
    server = await startSpecServer();
    server.hang(true);
    const error = await rejection(remote(server.url, { requestTimeoutMs: 300 }).filterMetadata());
    expect(error).toBeInstanceOf(RemoteUnreachableError);
    expect(error.message).toBe(`cannot reach ${server.url}: timed out after 0.3s`);
  });

  it('says "no such host" for a name that does not resolve', async () => {
    const error = await rejection(remote('http://flowdeck-no-such-host.invalid:7700').filterMetadata());
    expect(error.message).toBe('cannot reach http://flowdeck-no-such-host.invalid:7700: no such host');
  });

  it('never shows credentials written into the URL', async () => {
    const port = await closedPort();
    const error = await rejection(remote(`http://ana:hunter2@127.0.0.1:${port}/`).filterMetadata());
    expect(error.message).toBe(`cannot reach http://127.0.0.1:${port}: connection refused`);
    expect(error.message).not.toContain('hunter2');
    server = await startSpecServer();
    const withUser = remote(server.url.replace('http://', 'http://ana:hunter2@'));
    await withUser.filterMetadata();
    // The URL's user and password are not sent either: the token is the credential.
    expect(server.requests.at(-1)?.authorization).toBe(`Bearer ${TOKEN}`);
  });

  it("maps the server's 404 to a NotFoundError with the server's message", async () => {
    server = await startSpecServer();
    const backend = remote(server.url);
    const error = await rejection(backend.getFlow('65a0000000000000000000ff'));
    // Resolved on the client first: an unknown flow is named with the flows there are.
    expect(error).toBeInstanceOf(NotFoundError);
    expect(error.message).toBe('flow not found: 65a0000000000000000000ff (flows: "Orders to ERP", "Refunds")');
  });
});

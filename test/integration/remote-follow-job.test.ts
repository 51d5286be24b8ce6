import { afterEach, describe, expect, it, vi } from 'vitest';
import { followJob } from '../../src/backend/follow-job.js';
import { RemoteBackend } from '../../src/backend/remote/remote-backend.js';
import type { Job } from '../../src/domain/api.js';
import { ConflictError } from '../../src/domain/errors.js';
import { startSpecServer, TOKEN, type SpecServer } from '../helpers/spec-server.js';

// followJob over a RemoteBackend's getJob, against a real HTTP job route: a server that long-polls
// is asked once per change, one that ignores waitMs is asked less and less often while the job
// stands still, and a job that does not end in time, or a caller that stops, ends the following.

const JOB = '66f0000000000000000000aa';

let server: SpecServer | undefined;
const backends: RemoteBackend[] = [];

afterEach(async () => {
  for (const b of backends.splice(0)) await b.close();
  // Every request the client sent is one of the wire table's routes (a spec path or a listed extension).
  expect(server?.requests.filter((r) => r.route === undefined).map((r) => `${r.method} ${r.url}`) ?? []).toEqual([]);
  await server?.close();
  server = undefined;
});

async function flowdeckServer(): Promise<{ server: SpecServer; backend: RemoteBackend }> {
  server = await startSpecServer({ flowdeck: { email: 'ana@acme.example' } });
  const backend = new RemoteBackend({ url: server.url, token: TOKEN });
  backends.push(backend);
  return { server, backend };
}

const jobPolls = (s: SpecServer) => s.requests.filter((r) => r.url.startsWith(`/v1/flowdeck/jobs/${JOB}`));

describe('followJob over a remote job route', () => {
  it('backs off (100 ms doubling) while a server that ignores waitMs answers at once with nothing new', async () => {
    const { server, backend } = await flowdeckServer();
    const running: Partial<Job> = { status: 'running', numSuccess: 1 };
    server.jobs.set(JOB, { states: [running, running, running, running, running, { status: 'completed', numSuccess: 5 }], served: 0 });
    const seen: Array<string | undefined> = [];
    const done = await followJob(backend, JOB, { onProgress: (job) => seen.push(job.status) });
    expect(done).toMatchObject({ _id: JOB, status: 'completed', numSuccess: 5, children: [] });
    expect(seen).toEqual(['running', 'running', 'running', 'running', 'running', 'completed']);
    const polls = jobPolls(server);
    expect(polls).toHaveLength(6);
    expect(polls[0]!.url).toBe(`/v1/flowdeck/jobs/${JOB}`);
    expect(polls.slice(1).every((p) => /\?waitMs=\d+$/.test(p.url))).toBe(true);
    // Lower bounds only (a loaded machine makes gaps longer, never shorter): 100, 200, 400, 800 ms.
    const times = polls.map((p) => p.at);
    const gaps = times.slice(1).map((t, i) => t - times[i]!);
    expect(gaps[1]).toBeGreaterThanOrEqual(95);
    expect(gaps[2]).toBeGreaterThanOrEqual(195);
    expect(gaps[3]).toBeGreaterThanOrEqual(395);
    expect(gaps[4]).toBeGreaterThanOrEqual(795);
  });

  it('asks a long-polling server once per change and reports each one', async () => {
    const { server, backend } = await flowdeckServer();
    server.jobs.set(JOB, {
      states: [
        { status: 'queued', numSuccess: 0 },
        { status: 'running', numSuccess: 1 },
        { status: 'running', numSuccess: 2 },
        { status: 'completed', numSuccess: 3 },
      ],
      holdMs: 150,
      served: 0,
    });
    const progress: number[] = [];
    const done = await followJob(backend, JOB, { onProgress: (job) => progress.push(job.numSuccess ?? -1) });
    expect(done.status).toBe('completed');
    expect(progress).toEqual([0, 1, 2, 3]);
    expect(jobPolls(server)).toHaveLength(4);
  });

  it('gives up with a timeout error when the job is not done in time', async () => {
    const { server, backend } = await flowdeckServer();
    server.jobs.set(JOB, { states: [{ status: 'running' }], served: 0 });
    const error = await followJob(backend, JOB, { timeoutMs: 400 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConflictError);
    expect((error as ConflictError).code).toBe('timeout');
    expect((error as Error).message).toBe(`job ${JOB} is still running after 0.4s`);
  });

  it('stops when the caller aborts', async () => {
    const { server, backend } = await flowdeckServer();
    server.jobs.set(JOB, { states: [{ status: 'running' }], served: 0 });
    const controller = new AbortController();
    const following = followJob(backend, JOB, { signal: controller.signal, onProgress: () => controller.abort() });
    await expect(following).rejects.toMatchObject({ name: 'AbortError' });
  });

  it('rides out a server that restarts while it follows (the job goes on there)', async () => {
    const first = await startSpecServer({ flowdeck: { email: 'ana@acme.example' } });
    const backend = new RemoteBackend({ url: first.url, token: TOKEN });
    backends.push(backend);
    first.jobs.set(JOB, { states: [{ status: 'running', numSuccess: 1 }], served: 0 });
    const following = followJob(backend, JOB);
    await vi.waitFor(() => expect(jobPolls(first).length).toBeGreaterThanOrEqual(2), { timeout: 30_000, interval: 20 });
    await first.close();
    // The same address again, the job having ended meanwhile: the follow carries on to its end.
    server = await startSpecServer({ flowdeck: { email: 'ana@acme.example' }, port: Number(new URL(first.url).port) });
    server.jobs.set(JOB, { states: [{ status: 'completed', numSuccess: 3 }], served: 0 });
    expect(await following).toMatchObject({ _id: JOB, status: 'completed', numSuccess: 3 });
  });

  it('keeps to its timeout while the server cannot be reached, and claims nothing of a job it never saw', async () => {
    const gone = await startSpecServer({ flowdeck: { email: 'ana@acme.example' } });
    const url = gone.url;
    await gone.close();
    const backend = new RemoteBackend({ url, token: TOKEN });
    backends.push(backend);
    const asked = Date.now();
    const failure = (await followJob(backend, JOB, { timeoutMs: 1_000 }).catch((e: unknown) => e)) as Error & { code?: string };
    expect(failure.code).toBe('unreachable');
    expect(failure.message).toMatch(/connection refused$/);
    // Its timeout, not the minute an outage may last (a generous bound for a loaded machine).
    expect(Date.now() - asked).toBeLessThan(20_000);
  });

  it('tells a flowdeck server from a plain one by whoami', async () => {
    const { backend } = await flowdeckServer();
    expect(await backend.whoami()).toEqual({ email: 'ana@acme.example', location: backend.url });
    expect(await backend.emailOf('me')).toBe('ana@acme.example');
    expect(await backend.emailOf('bo@acme.example')).toBe('bo@acme.example');
  });

  it('a job is not available on a plain spec server', async () => {
    server = await startSpecServer();
    const backend = new RemoteBackend({ url: server.url, token: TOKEN });
    backends.push(backend);
    await expect(backend.getJob(JOB)).rejects.toThrow(`"jobs show" is not available on ${server.url}: it is a flowdeck extension the server does not offer`);
  });
});

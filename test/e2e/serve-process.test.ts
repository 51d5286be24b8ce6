import Database from 'better-sqlite3';
import type { ChildProcess } from 'node:child_process';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { request } from 'undici';
import { afterEach, expect, it, vi } from 'vitest';
import { TokenService } from '../../src/backend/tokens.js';
import { pathOf, ROUTES } from '../../src/backend/wire/routes.js';
import { runCli, spawnCli } from '../helpers/cli.js';
import { openBackend, tempHome, writeFlowFile, type TempHome } from '../helpers/workspace.js';
import { testStore } from '../helpers/store.js';

// `flowdeck serve` as a process: it prints where it listens, answers with a token, runs queued
// retries with its in-process worker, and stops on SIGTERM — cleanly (exit 0) when nothing runs,
// and after its grace period with a retry job's requests still out (143), the job resumable.

const USER = 'ana@acme.example';
let tmp: TempHome | undefined;
const held: ServerResponse[] = [];
let closeTarget: (() => Promise<void>) | undefined;
let serve: ChildProcess | undefined;

afterEach(async () => {
  if (serve && serve.exitCode === null && serve.signalCode === null) serve.kill('SIGKILL');
  for (const res of held.splice(0)) res.destroy();
  await closeTarget?.();
  tmp?.cleanup();
});

/** A workspace with one flow over a target whose sink refuses every record (or holds its answers), its errors recorded, and a token. */
async function workspace(): Promise<{ env: Record<string, string>; token: string; setHold: (on: boolean) => void }> {
  let hold = false;
  const target = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      if (req.url === '/source') {
        res.writeHead(200, { 'content-type': 'application/json' });
        return res.end(JSON.stringify({ records: [{ id: 'r1' }, { id: 'r2' }, { id: 'r3' }] }));
      }
      if (hold) return void held.push(res);
      // A value error: not retried automatically, so only the retries a test asks for hold the records.
      res.writeHead(422, { 'content-type': 'application/json' });
      res.end('{"message":"customer email is not valid"}');
    });
  });
  await new Promise<void>((resolve) => target.listen(0, '127.0.0.1', resolve));
  closeTarget = () => new Promise<void>((resolve) => target.close(() => resolve()));
  tmp = tempHome('flowdeck-serve-e2e-');
  writeFlowFile(
    tmp.home,
    'f.yaml',
    `connections:
  - { name: T, http: { baseURI: "http://127.0.0.1:${(target.address() as AddressInfo).port}" } }
exports:
  - { name: Source, _connectionId: T, http: { relativeURI: /source, response: { resourcePath: records } } }
imports:
  - { name: Sink, _connectionId: T, http: { relativeURI: "/sink/{{record.id}}" } }
flows:
  - { name: F, pageGenerators: [{ _exportId: Source }], pageProcessors: [{ type: import, _importId: Sink }] }
`,
  );
  const env = { FLOWDECK_HOME: tmp.home, FLOWDECK_USER: 'server.operator@acme.example' };
  const backend = await openBackend(tmp.home, { ...process.env, ...env, FLOWDECK_WORKER: 'off' });
  try {
    await backend.runFlow('F');
    return { env, token: (await new TokenService(backend.ws).create(USER)).token, setHold: (on) => (hold = on) };
  } finally {
    await backend.close();
  }
}

/** Starts `flowdeck serve --port 0 …` and reads its address from the line it prints. */
async function startServe(env: Record<string, string>, args: string[] = []): Promise<{ url: string; said: () => string; exited: Promise<number | null> }> {
  serve = spawnCli(['serve', '--port', '0', ...args], env);
  let said = '';
  const exited = new Promise<number | null>((resolve) => serve!.once('exit', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    serve!.stderr!.on('data', (c: Buffer) => {
      said += c.toString();
      const m = /flowdeck serve: listening on (http:\/\/[\d.]+:\d+) \(workspace (.+)\)\n/.exec(said);
      if (m) resolve(m[1]!);
    });
    void exited.then((code) => reject(new Error(`serve exited (${code}) before listening: ${said}`)));
  });
  return { url, said: () => said, exited };
}

async function get(url: string, token: string): Promise<{ status: number; body: unknown }> {
  const res = await request(url, { headers: { authorization: `Bearer ${token}` } });
  return { status: res.statusCode, body: await res.body.json() };
}

it('serves with a token, runs a queued retry in its worker, and exits 0 on SIGTERM', async () => {
  const { env, token } = await workspace();
  const { url, said, exited } = await startServe(env);
  expect(said()).toContain(`(workspace ${tmp!.home})`);
  const flows = await get(`${url}/v1/flows`, token);
  expect(flows.status).toBe(200);
  expect((flows.body as Array<{ name: string }>).map((f) => f.name)).toEqual(['F']);

  const queued = await request(`${url}${pathOf(ROUTES.retrySelection, { _id: 'F', _stepId: 'Sink' })}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ selection: { all: true } }),
  });
  expect(queued.statusCode).toBe(200);
  const job = (await queued.body.json()) as { _id: string; triggeredBy: string };
  expect(job.triggeredBy).toBe(USER);
  // The server's own worker runs it: long-poll until it ends.
  let status = 'queued';
  const until = Date.now() + 60_000;
  while (!['completed', 'failed', 'canceled'].includes(status) && Date.now() < until) {
    status = ((await get(`${url}${pathOf(ROUTES.getJob, { jobId: job._id })}?waitMs=2000`, token)).body as { status: string }).status;
  }
  expect(['completed', 'failed']).toContain(status);

  serve!.kill('SIGTERM');
  expect(await exited, said()).toBe(0);
  expect(said()).toMatch(/flowdeck serve: SIGTERM: stopping/);
  expect(said()).toMatch(/flowdeck serve: stopped\n$/);
  // One line per request, as the user, with no token.
  expect(said()).toMatch(new RegExp(`GET /v1/flows 200 \\S+ms ${USER}`));
  expect(said()).not.toContain(token);
});

it('with --no-worker runs no job itself: a followed retry is run by a flowdeck worker started for it', async () => {
  const { env, token } = await workspace();
  const { url, said, exited } = await startServe(env, ['--no-worker']);
  await vi.waitFor(() => expect(said()).toContain('flowdeck serve: --no-worker:'), { timeout: 30_000, interval: 20 });
  const queued = await request(`${url}${pathOf(ROUTES.retrySelection, { _id: 'F', _stepId: 'Sink' })}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ selection: { all: true } }),
  });
  const job = (await queued.body.json()) as { _id: string };
  let status = 'queued';
  const until = Date.now() + 60_000;
  while (!['completed', 'failed', 'canceled'].includes(status) && Date.now() < until) {
    status = ((await get(`${url}${pathOf(ROUTES.getJob, { jobId: job._id })}?waitMs=2000`, token)).body as { status: string }).status;
  }
  expect(['completed', 'failed']).toContain(status);
  // Not this process's worker: it has none.
  expect(said()).not.toMatch(/ worker: running retry job/);
  serve!.kill('SIGTERM');
  expect(await exited, said()).toBe(0);
});

// SQLite-only: reads the job straight from flowdeck.db.
it.skipIf(testStore() === 'postgres')('on SIGTERM mid-retry, ends after the grace period and leaves the job to resume', async () => {
  const { env, token, setHold } = await workspace();
  const { url, said, exited } = await startServe(env, ['--grace', '300ms']);
  setHold(true);
  const queued = await request(`${url}${pathOf(ROUTES.retrySelection, { _id: 'F', _stepId: 'Sink' })}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ selection: { all: true } }),
  });
  const jobId = ((await queued.body.json()) as { _id: string })._id;
  expect(queued.statusCode, JSON.stringify(jobId)).toBe(200);
  const until = Date.now() + 60_000;
  while (held.length < 3 && Date.now() < until) await new Promise((r) => setTimeout(r, 25));
  expect(held.length).toBe(3);
  serve!.kill('SIGTERM');
  expect(await exited, said()).toBe(143);
  expect(said()).toMatch(/still running: they resume when flowdeck next opens the workspace/);

  const db = new Database(join(tmp!.home, 'flowdeck.db'), { readonly: true });
  try {
    expect(db.prepare('SELECT status FROM jobs WHERE type = ? ORDER BY id DESC LIMIT 1').pluck().get('retry')).toMatch(/running|retrying/);
    // No record was recorded as failing because the server stopped: its records wait, their errors open.
    expect(db.prepare(`SELECT count(*) FROM retry_items WHERE state = 'pending'`).pluck().get()).toBe(3);
    expect(db.prepare('SELECT count(*) FROM errors WHERE resolved = 0').pluck().get()).toBe(3);
  } finally {
    db.close();
  }
  // The next open re-queues it (the server's process is gone).
  const backend = await openBackend(tmp!.home, { ...process.env, ...env, FLOWDECK_WORKER: 'off' });
  try {
    expect((await backend.getJob(jobId)).status).toBe('queued');
  } finally {
    await backend.close();
  }
});

it('killed with SIGKILL mid-retry, resumes the job at its next start and finishes it', async () => {
  const { env, token, setHold } = await workspace();
  const first = await startServe(env);
  setHold(true);
  const queued = await request(`${first.url}${pathOf(ROUTES.retrySelection, { _id: 'F', _stepId: 'Sink' })}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ selection: { all: true } }),
  });
  const jobId = ((await queued.body.json()) as { _id: string })._id;
  const until = Date.now() + 60_000;
  while (held.length < 3 && Date.now() < until) await new Promise((r) => setTimeout(r, 25));
  expect(held.length).toBe(3);
  serve!.kill('SIGKILL');
  await first.exited;
  for (const res of held.splice(0)) res.destroy();
  setHold(false);

  const second = await startServe(env);
  let status = 'running';
  while (!['completed', 'failed', 'canceled'].includes(status) && Date.now() < until) {
    status = ((await get(`${second.url}${pathOf(ROUTES.getJob, { jobId })}?waitMs=2000`, token)).body as { status: string }).status;
  }
  expect(['completed', 'failed']).toContain(status);
  serve!.kill('SIGTERM');
  expect(await second.exited, second.said()).toBe(0);
});

it('refuses a port in use with one line, and warns when listening beyond loopback', async () => {
  const { env } = await workspace();
  const first = await startServe(env);
  const port = new URL(first.url).port;
  const taken = await runCli(['serve', '--port', port], env);
  expect(taken.code).toBe(2);
  expect(taken.stderr).toBe(`flowdeck: port ${port} of 127.0.0.1 is in use (another flowdeck serve?): choose another --port\n`);
  serve!.kill('SIGTERM');
  expect(await first.exited).toBe(0);

  const wide = await startServe(env, ['--host', '0.0.0.0']).catch((e: Error) => e);
  if (wide instanceof Error) throw wide;
  expect(wide.said()).toMatch(/warning: 0\.0\.0\.0 is not a loopback address; tokens travel in clear text over http/);
  serve!.kill('SIGTERM');
  expect(await wide.exited).toBe(0);
});

import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { LocalBackend } from '../../src/backend/local-backend.js';
import { decodeId } from '../../src/domain/ids.js';
import { TRACE_BODY_LIMIT } from '../../src/runtime/http.js';
import { describeRequest } from '../../commands/requests/show.js';
import { runFlowToEnd } from '../helpers/jobs.js';
import { openBackend, tempHome, writeFlowFile } from '../helpers/workspace.js';

// Targets that try to hold or flood flowdeck: an endless body, a huge announced one, a big error
// page, a target that dribbles a byte at a time. Limits come from the flow file (small ones here),
// and the tests wait for conditions (requests in flight, jobs ended), never for time to pass.

type Mode = 'reject' | 'endless' | 'announced' | 'big' | 'dribble';

let server: Server | undefined;
let backend: LocalBackend | undefined;
const cleanups: Array<() => void> = [];
const dribbling = new Set<ServerResponse>();

afterEach(async () => {
  await backend?.close();
  backend = undefined;
  for (const res of dribbling) res.destroy();
  dribbling.clear();
  if (server) {
    const s = server;
    server = undefined;
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }
  while (cleanups.length) cleanups.pop()!();
});

const target = { mode: 'reject' as Mode, sinkRequests: 0 };

async function startTarget(): Promise<number> {
  target.mode = 'reject';
  target.sinkRequests = 0;
  server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      if (req.url === '/source') {
        const body = JSON.stringify({ records: [{ id: 'r1' }, { id: 'r2' }, { id: 'r3' }] });
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
        return res.end(body);
      }
      target.sinkRequests++;
      switch (target.mode) {
        case 'reject': {
          const body = JSON.stringify({ errors: [{ code: 'rejected', message: 'record rejected' }] });
          res.writeHead(400, { 'content-type': 'application/json' });
          return res.end(body);
        }
        case 'endless': {
          // No content-length: the body goes on for as long as anyone reads it.
          res.writeHead(400, { 'content-type': 'text/plain' });
          const chunk = Buffer.alloc(16 * 1024, 'x');
          const pump = () => {
            while (!res.destroyed && res.write(chunk));
            if (!res.destroyed) res.once('drain', pump);
          };
          res.on('close', () => res.removeAllListeners('drain'));
          return pump();
        }
        case 'announced':
          res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(700 * 1024 * 1024) });
          res.write('[');
          dribbling.add(res);
          return;
        case 'big': {
          const body = JSON.stringify({ errors: [{ code: 'rejected', message: 'y'.repeat(300 * 1024) }] });
          res.writeHead(400, { 'content-type': 'application/json' });
          return res.end(body);
        }
        case 'dribble': {
          res.writeHead(200, { 'content-type': 'application/json' });
          dribbling.add(res);
          const timer = setInterval(() => (res.destroyed ? clearInterval(timer) : res.write(' ')), 50);
          res.on('close', () => clearInterval(timer));
          return;
        }
      }
    });
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

function flowFile(port: number): string {
  const connection = (name: string, extra: string) => `  - name: ${name}
    http:
      baseURI: "http://127.0.0.1:${port}"
${extra}`;
  const flow = (name: string, sink: string) => `  - name: ${name}
    pageGenerators: [{ _exportId: Source }]
    pageProcessors: [{ type: import, _importId: ${sink} }]
`;
  return `connections:
${connection('Source', '')}
${connection('Quick', '      deadlineMs: 300\n      timeoutMs: 60000')}
${connection('Patient', '      deadlineMs: 3600000\n      timeoutMs: 600000')}
${connection('Capped', '      maxResponseBytes: 65536')}
exports:
  - name: Source
    _connectionId: Source
    http: { relativeURI: /source, response: { resourcePath: records } }
imports:
  - { name: Quick sink, _connectionId: Quick, http: { relativeURI: "/sink/{{record.id}}" } }
  - { name: Patient sink, _connectionId: Patient, http: { relativeURI: "/sink/{{record.id}}" } }
  - { name: Capped sink, _connectionId: Capped, http: { relativeURI: "/sink/{{record.id}}" } }
flows:
${flow('To quick', 'Quick sink')}${flow('To patient', 'Patient sink')}${flow('To capped', 'Capped sink')}`;
}

async function setUp(env: NodeJS.ProcessEnv = {}): Promise<LocalBackend> {
  const port = await startTarget();
  const t = tempHome();
  cleanups.push(t.cleanup);
  writeFlowFile(t.home, 'hostile.yaml', flowFile(port));
  backend = await openBackend(t.home, { ...process.env, FLOWDECK_USER: 'ops@acme.example', ...env });
  return backend;
}

async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((r) => setTimeout(r, 10));
}

describe('a response larger than the connection allows', () => {
  it('an endless body is cut at maxResponseBytes and the error classified too_large', async () => {
    const b = await setUp();
    target.mode = 'endless';
    const job = await runFlowToEnd(b, 'To capped');
    expect(job.status).toBe('completed');
    const { errors } = await b.listErrors('To capped', 'Capped sink', { limit: 10 });
    expect(errors).toHaveLength(3);
    expect(errors[0]).toMatchObject({ classification: 'too_large', code: 'response_too_large' });
    expect(errors[0]!.message).toContain('over 65536 bytes');
  });

  it('an announced 700 MB body is refused at its headers', async () => {
    const b = await setUp();
    target.mode = 'announced';
    await runFlowToEnd(b, 'To capped');
    const { errors } = await b.listErrors('To capped', 'Capped sink', { limit: 10 });
    expect(errors).toHaveLength(3);
    expect(errors[0]!.classification).toBe('too_large');
    expect(errors[0]!.message).toContain(String(700 * 1024 * 1024));
  });

  it('a big error page is stored clipped, saying its size, and shown small', async () => {
    const b = await setUp();
    target.mode = 'big';
    // The patient connection: the 300 ms deadline of the quick one could end a slow exchange on a
    // loaded machine first, and the error would be the deadline's, not the big page's.
    await runFlowToEnd(b, 'To patient');
    const { errors } = await b.listErrors('To patient', 'Patient sink', { limit: 10 });
    expect(errors).toHaveLength(3);
    expect(errors[0]!.message.length).toBeLessThan(5000);
    const trace = (await b.ws.store.records.getTrace(decodeId('trace', errors[0]!.reqAndResKey!)!.rowId))!;
    expect(trace.response.length).toBeLessThan(TRACE_BODY_LIMIT + 1024);
    const body = JSON.parse(trace.response).body as string;
    expect(body).toMatch(/\[clipped: \d+ bytes in all/);
    expect(Number(/clipped: (\d+)/.exec(body)![1])).toBeGreaterThan(300 * 1024);
    const shown = describeRequest(await b.records.getRequest('To patient', 'Patient sink', errors[0]!.reqAndResKey!));
    expect(shown.length).toBeLessThan(TRACE_BODY_LIMIT + 4096);
  });
});

describe('a request has a total deadline', () => {
  it('a target dribbling a byte every 50 ms fails the request at the connection deadlineMs', async () => {
    const b = await setUp();
    target.mode = 'dribble';
    const job = await runFlowToEnd(b, 'To quick');
    expect(job.status).toBe('completed');
    const { errors } = await b.listErrors('To quick', 'Quick sink', { limit: 10 });
    expect(errors).toHaveLength(3);
    expect(errors[0]).toMatchObject({ code: 'ETIMEDOUT', classification: 'connection' });
    expect(errors[0]!.message).toContain('deadline of 300 ms');
  });
});

describe.each([
  ['in the job thread', '1000000'],
  ['in a thread of its own', '0'],
])('jobs cancel aborts a retry\'s requests in flight (sender %s)', (_mode, threadFrom) => {
  it('a retry held by a dribbling target ends canceled, its records untouched', async () => {
    const b = await setUp({ FLOWDECK_RETRY_THREAD_FROM: threadFrom });
    await runFlowToEnd(b, 'To patient');
    const before = await b.listErrors('To patient', 'Patient sink', { limit: 10 });
    expect(before.errors).toHaveLength(3);
    target.mode = 'dribble';
    target.sinkRequests = 0;
    const flow = await b.resolveFlow('To patient');
    const step = await b.resolveStep(flow, 'Patient sink');
    const repo = b.ws.store.retries;
    const retryData = await repo.retryDataOf(before.errors.map((e) => decodeId('error', e.errorId)!.rowId));
    await b.runtime.start();
    const jobId = (await b.runtime.retries().queue(flow.id, step.key, retryData, 'ops@acme.example', {}))!;
    const running = b.runtime.runRetryJob(jobId);
    // Every record's request is out, held by the target.
    await until(() => target.sinkRequests === 3 && dribbling.size === 3);
    const job = await b.jobOf((await b.ws.store.jobs.getJob(jobId))!);
    expect((await b.retries.cancelJob(job._id)).status).toBe('canceling');
    await running;
    expect((await b.ws.store.jobs.getJob(jobId))!.status).toBe('canceled');
    expect(await repo.counts(jobId)).toMatchObject({ pending: 0, skipped: 3 });
    // Not settled as failures: the same open errors, retriable again.
    const after = await b.listErrors('To patient', 'Patient sink', { limit: 10 });
    expect(after.errors.map((e) => e.errorId).sort()).toEqual(before.errors.map((e) => e.errorId).sort());
    expect((await repo.pendingElsewhere(retryData)).size).toBe(0);
  });
});

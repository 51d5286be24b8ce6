import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, expect, it } from 'vitest';
import type { LocalBackend } from '../../src/backend/local-backend.js';
import { decodeId } from '../../src/domain/ids.js';
import { RetryRunner } from '../../src/runtime/retry-runner.js';
import { openBackend, tempHome, writeFlowFile, type TempHome } from '../helpers/workspace.js';
import { runFlowToEnd } from '../helpers/jobs.js';
import { storeRows, storeValue } from '../helpers/store-sql.js';

// Several runners on one retry job, as workers on many hosts share one on PostgreSQL, here on
// SQLite through the same ports: two RetryRunners of this process with different owner ids. Items
// are claimed with a lease, so no record is ever out with both at once and every record is sent
// and settled once; a cancel stops both and the job ends canceled once; items a dead runner had
// claimed are taken over when its lease expires; a runner that stops gives its unsent items back.

const RECORDS = 1500;
const FLOWS = `
connections:
  - name: Target
    http: { baseURI: "{{env.TARGET}}", concurrency: 8 }
exports:
  - name: Orders
    _connectionId: Target
    http: { relativeURI: /orders, response: { resourcePath: orders } }
imports:
  - name: Sales orders
    _connectionId: Target
    http: { method: POST, relativeURI: /salesOrders }
    mapping:
      fields:
        - { extract: id, generate: orderNumber, required: true }
flows:
  - name: Orders to ERP
    pageGenerators: [{ _exportId: Orders }]
    pageProcessors: [{ type: import, _importId: Sales orders }]
`;

/** The target: orders to export, and POSTs counted per record, with how many of one record were out at once. */
interface CountingTarget {
  url: string;
  status: number;
  sent: Map<string, number>;
  /** The most requests of one record out at the same time (1 when no record was sent twice at once). */
  maxOut: number;
  /** While true, POSTs are held unanswered (until the client gives up on them, or close()). */
  holding: boolean;
  /** Called on each POST (with the record's id) before it is answered. */
  onPost?: (id: string) => void;
  close(): Promise<void>;
}

async function countingTarget(): Promise<CountingTarget> {
  const out = new Map<string, number>();
  const orders = Array.from({ length: RECORDS }, (_, i) => ({ id: `SO-${i}` }));
  const target: CountingTarget = { url: '', status: 503, sent: new Map(), maxOut: 0, holding: false, close: async () => {} };
  const held: ServerResponse[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.method === 'GET') {
        res.writeHead(200, { 'content-type': 'application/json' });
        return res.end(JSON.stringify({ orders }));
      }
      const id = (JSON.parse(Buffer.concat(chunks).toString()) as { orderNumber: string }).orderNumber;
      target.sent.set(id, (target.sent.get(id) ?? 0) + 1);
      out.set(id, (out.get(id) ?? 0) + 1);
      target.maxOut = Math.max(target.maxOut, out.get(id)!);
      target.onPost?.(id);
      if (target.holding) return void held.push(res);
      // Answered on the next turn, so requests of both runners overlap.
      setImmediate(() => {
        out.set(id, out.get(id)! - 1);
        res.writeHead(target.status, { 'content-type': 'application/json' });
        res.end(target.status < 300 ? '{"ok":true}' : '{"errors":[{"code":"unavailable","message":"try again"}]}');
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  target.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  target.close = () => {
    for (const res of held.splice(0)) res.destroy();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return target;
}

let tmp: TempHome | undefined;
const closers: Array<() => Promise<void>> = [];

afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
  tmp?.cleanup();
  tmp = undefined;
});

/** A workspace with RECORDS open errors on the import (the target refused them) and a queued retry of them all. */
async function queuedRetry(): Promise<{ backend: LocalBackend; target: CountingTarget; job: number; runner: (owner: string) => RetryRunner; run: (r: RetryRunner, stop?: AbortSignal) => Promise<void> }> {
  const target = await countingTarget();
  closers.push(() => target.close());
  tmp = tempHome('flowdeck-workers-');
  writeFlowFile(tmp.home, 'orders.yaml', FLOWS);
  const backend = await openBackend(tmp.home, { ...process.env, TARGET: target.url, FLOWDECK_USER: 'ops@acme.example', FLOWDECK_WORKER: 'off' });
  closers.push(() => backend.close());
  await runFlowToEnd(backend, 'Orders to ERP');
  expect(target.sent.size).toBe(RECORDS);
  target.sent.clear();
  target.status = 200;
  const job = decodeId('job', (await backend.retries.retry('Orders to ERP', 'Sales orders', { all: true }))!._id)!.rowId;
  const runtime = backend.runtime;
  await runtime.start();
  const flow = runtime.flow((await backend.ws.store.jobs.getJob(job))!.flowId!);
  const steps = await runtime.steps(flow);
  const runner = (owner: string) => new RetryRunner({ store: backend.ws.store, http: runtime.http, redactor: runtime.redactor, now: Date.now, owner });
  return { backend, target, job, runner, run: (r, stop?: AbortSignal) => r.run(job, flow, steps, undefined, stop) };
}

it('two runners share one job: every record is sent and settled once, never out with both, and the job completes once', async () => {
  const { backend, target, job, runner, run } = await queuedRetry();
  const owners = new Set<string>();
  const store = backend.ws.store;
  const a = runner('host-a:101:aaaa');
  const b = runner('host-b:202:bbbb');
  expect(await a.claim(job)).toBe(true);
  // Both claim batches while requests are out: seen through the leases the items carry (one look
  // at a time: on PostgreSQL the look is a query, answered while the runners go on).
  let looking: Promise<void> | undefined;
  const look = async () => {
    const rows = await storeRows<{ lease_owner: string }>(backend.ws, 'SELECT DISTINCT lease_owner FROM retry_items WHERE job = ? AND lease_owner IS NOT NULL', [job]);
    for (const { lease_owner } of rows) owners.add(lease_owner);
  };
  target.onPost = () => {
    looking ??= look().finally(() => (looking = undefined));
  };
  await Promise.all([run(a), run(b)]);
  await looking;

  expect(owners).toEqual(new Set(['host-a:101:aaaa', 'host-b:202:bbbb']));
  expect(target.maxOut).toBe(1);
  expect(target.sent.size).toBe(RECORDS);
  expect([...target.sent.values()].every((n) => n === 1)).toBe(true);
  expect(await store.retries.counts(job)).toMatchObject({ pending: 0, resolved: RECORDS });
  expect(await store.retries.liveLeases(job, Date.now())).toBe(0);
  const row = (await store.jobs.getJob(job))!;
  // Counters are increments of both runners' commits.
  expect(row).toMatchObject({ status: 'completed', numSuccess: RECORDS, numError: 0 });
  expect(row.endedAt).not.toBeNull();
  expect(Number(await storeValue(backend.ws, 'SELECT count(*) FROM errors WHERE resolved = false'))).toBe(0);
}, 60_000);

it('a cancel stops both runners within a commit slice; the job ends canceled once, the rest skipped', async () => {
  const { backend, target, job, runner, run } = await queuedRetry();
  const store = backend.ws.store;
  const a = runner('host-a:101:aaaa');
  const b = runner('host-b:202:bbbb');
  expect(await a.claim(job)).toBe(true);
  // Someone cancels once 300 records are out; from then on the target answers nothing, so the
  // runners stop on the cancel, not by running out of records.
  target.onPost = () => {
    if (target.holding || target.sent.size < 300) return;
    target.holding = true;
    void store.jobs.setJobStatusIf(job, ['running', 'retrying'], 'canceling', Date.now());
  };
  await Promise.all([run(a), run(b)]);

  const counts = await store.retries.counts(job);
  expect(counts.pending).toBe(0);
  expect(counts.skipped).toBeGreaterThan(0);
  // What came back was settled with its outcome (requests the cancel aborted count as not sent); nothing was sent twice.
  expect(counts.resolved).toBeGreaterThan(0);
  expect(counts.resolved).toBeLessThanOrEqual(target.sent.size);
  expect(counts.resolved + counts.skipped).toBe(RECORDS);
  expect([...target.sent.values()].every((n) => n === 1)).toBe(true);
  expect(target.maxOut).toBe(1);
  expect(await store.retries.liveLeases(job, Date.now())).toBe(0);
  expect(await store.jobs.getJob(job)).toMatchObject({ status: 'canceled', numSuccess: counts.resolved });
}, 60_000);

it('items a dead runner had claimed are taken over once its lease expires, and sent once', async () => {
  const { backend, target, job, runner, run } = await queuedRetry();
  const store = backend.ws.store;
  // A runner on another host claimed a batch and died before sending any: its lease runs out soon.
  const now = Date.now();
  const orphaned = await store.retries.claimDueItems(job, 'host-dead:303:dddd', now, 200, now + 400);
  expect(orphaned).toHaveLength(200);
  const ids = new Set<string>();
  for (const item of orphaned) ids.add((JSON.parse((await store.records.getRetryData(item.retryData))!.data) as { id: string }).id);
  const b = runner('host-b:202:bbbb');
  expect(await b.claim(job)).toBe(true);
  let sentWhileLeased = 0;
  let takenOver = 0;
  target.onPost = (id) => {
    if (!ids.has(id)) return;
    if (Date.now() < now + 400) sentWhileLeased++;
    else takenOver++;
  };
  await run(b);

  expect(sentWhileLeased).toBe(0);
  expect(takenOver).toBe(200);
  expect(target.sent.size).toBe(RECORDS);
  expect([...target.sent.values()].every((n) => n === 1)).toBe(true);
  expect(await store.retries.counts(job)).toMatchObject({ pending: 0, resolved: RECORDS });
  expect(await store.jobs.getJob(job)).toMatchObject({ status: 'completed', numSuccess: RECORDS });
}, 60_000);

it('a runner that stops (its worker stops) commits what came back, gives its unsent items back and leaves the job to others', async () => {
  const { backend, target, job, runner, run } = await queuedRetry();
  const store = backend.ws.store;
  const a = runner('host-a:101:aaaa');
  expect(await a.claim(job)).toBe(true);
  const stop = new AbortController();
  target.onPost = () => {
    if (target.sent.size === 300) stop.abort();
  };
  await run(a, stop.signal);

  const counts = await store.retries.counts(job);
  // Requests already out came back and were committed (a stop does not abort them); nothing else was sent.
  expect(counts.resolved).toBe(target.sent.size);
  expect(counts.pending).toBe(RECORDS - counts.resolved);
  expect(counts.pending).toBeGreaterThan(0);
  expect(await store.retries.liveLeases(job, Date.now())).toBe(0);
  expect((await store.jobs.getJob(job))!.status).toMatch(/running|retrying/);

  // Another runner finishes the job: the rest is sent once, and the job completes.
  await run(runner('host-b:202:bbbb'));
  expect(target.sent.size).toBe(RECORDS);
  expect([...target.sent.values()].every((n) => n === 1)).toBe(true);
  expect(await store.jobs.getJob(job)).toMatchObject({ status: 'completed', numSuccess: RECORDS });
}, 60_000);

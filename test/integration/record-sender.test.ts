import { afterEach, describe, expect, it } from 'vitest';
import { MASK } from '../../src/domain/mask.js';
import { startMockTarget } from '../../src/mocks/systems.js';
import { senderInThread, senderThread, type SendItem, type SendResult, type SenderHandle, type SenderSetup } from '../../src/runtime/record-sender.js';
import { Runtime } from '../../src/runtime/runtime.js';
import type { RuntimeStep } from '../../src/runtime/pipeline.js';
import { Workspace } from '../../src/workspace/workspace.js';
import { tempHome, writeFlowFile, type TempHome } from '../helpers/workspace.js';

// The sending half of a retry, on its own: every record handed in is reported exactly once (clean
// successes as bare refs, anything else as a settled run with a masked trace), a cancel reports
// `drained` once and nothing after it, and a fault of ours surfaces instead of hanging the job.
// Each case runs in the job's thread and in a worker thread.

const TOKEN = 'sender_secret_token_7c41';
/** The secret of a connection the retried step does not use: masked all the same. */
const OTHER_TOKEN = 'other_connection_secret_93b2';
const FLOWS = `
connections:
  - name: Target
    http:
      baseURI: "{{env.TARGET}}"
      auth: { type: bearer, token: "{{env.TARGET_TOKEN}}" }
      concurrency: 8
  - name: Other
    http:
      baseURI: "{{env.TARGET}}"
      auth: { type: bearer, token: "{{env.OTHER_TOKEN}}" }
exports:
  - name: Orders
    _connectionId: Target
    http: { relativeURI: /orders }
  - name: Other orders
    _connectionId: Other
    http: { relativeURI: /orders }
imports:
  - name: Sales orders
    _connectionId: Target
    http: { method: POST, relativeURI: /salesOrders }
    mapping:
      fields:
        - { extract: id, generate: orderNumber, required: true }
flows:
  - name: Sender test
    pageGenerators: [{ _exportId: Orders }]
    pageProcessors: [{ type: import, _importId: Sales orders }]
`;

let tmp: TempHome | undefined;
const closers: Array<() => Promise<void> | void> = [];

afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
  tmp?.cleanup();
  tmp = undefined;
});

/** The import step of the test flow, resolved against a target answering `status`. */
async function importStep(status: number): Promise<{ steps: RuntimeStep[]; runtime: Runtime }> {
  const target = await startMockTarget({ status, body: status < 300 ? { ok: true } : { errors: [{ code: 'busy', message: `echo ${TOKEN} and ${OTHER_TOKEN}` }] } });
  closers.push(() => target.close());
  tmp = tempHome();
  writeFlowFile(tmp.home, 'sender.yaml', FLOWS);
  const ws = await Workspace.open(tmp.home, { ...process.env, TARGET: target.url, TARGET_TOKEN: TOKEN, OTHER_TOKEN, FLOWDECK_WORKER: 'off' });
  closers.push(() => ws.close());
  const runtime = new Runtime(ws);
  await runtime.start();
  closers.push(() => runtime.close());
  const flow = [...ws.catalog().flows.values()][0]!;
  return { steps: (await runtime.steps(flow)).slice(1), runtime };
}

interface Collected {
  /** Reports that arrived while the listener was still handling another one. */
  nested: number;
  results: SendResult[];
  clean: number[];
  drained: number;
  afterDrain: number;
  errors: Error[];
}

async function open(mode: 'inline' | 'thread', steps: RuntimeStep[], runtime: Runtime, onReport?: (c: Collected) => void): Promise<{ sender: SenderHandle; got: Collected }> {
  const got: Collected = { nested: 0, results: [], clean: [], drained: 0, afterDrain: 0, errors: [] };
  let inListener = false;
  const setup: SenderSetup = {
    steps,
    options: { concurrency: 8, logging: false },
    listener: (results, clean, drained) => {
      if (inListener) got.nested++;
      inListener = true;
      if (got.drained > 0) got.afterDrain += results.length + clean.length;
      got.results.push(...results);
      got.clean.push(...clean);
      if (drained) got.drained++;
      onReport?.(got);
      inListener = false;
    },
    onError: (e) => got.errors.push(e),
  };
  const sender = mode === 'thread' ? await senderThread(setup, runtime.redactor) : senderInThread(setup, runtime.http, runtime.redactor);
  closers.push(() => sender.close());
  return { sender, got };
}

const items = (n: number): SendItem[] => Array.from({ length: n }, (_, i) => ({ ref: i, data: JSON.stringify({ id: `SO-${i}` }) }));

async function until(check: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe.each(['inline', 'thread'] as const)('record sender (%s)', (mode) => {
  it('reports every record exactly once; clean successes as bare refs', async () => {
    const { steps, runtime } = await importStep(200);
    const { sender, got } = await open(mode, steps, runtime);
    sender.push(items(300));
    sender.push(items(600).slice(300));
    await until(() => got.clean.length + got.results.length >= 600);
    await new Promise((r) => setTimeout(r, 50));
    expect(got.results).toEqual([]);
    expect([...got.clean].sort((a, b) => a - b)).toEqual(items(600).map((i) => i.ref));
    expect(got.errors).toEqual([]);
  });

  it('a failure comes back settled: classified, with its input and a masked trace', async () => {
    const { steps, runtime } = await importStep(503);
    const { sender, got } = await open(mode, steps, runtime);
    sender.push(items(20));
    await until(() => got.results.length >= 20);
    expect(got.clean).toEqual([]);
    const { run } = got.results[0]!;
    expect(run.succeeded).toBe(false);
    const outcome = run.outcomes[0]!;
    expect(outcome.step).toBe(0);
    if (outcome.ok) throw new Error('expected a failure');
    expect(outcome.classified.classification).toBe('intermittent');
    expect(outcome.statusCode).toBe(503);
    expect(outcome.input).toMatchObject({ id: expect.stringMatching(/^SO-/) });
    expect(JSON.stringify(got.results)).not.toContain(TOKEN);
    expect(JSON.stringify(got.results)).not.toContain(OTHER_TOKEN);
    expect(outcome.trace?.request.headers.authorization).toBe(MASK);
  });

  it('cancel: drained is reported once, nothing after it, never from within a report, and the rest is never sent', async () => {
    const { steps, runtime } = await importStep(200);
    let canceled = false;
    const { sender, got } = await open(mode, steps, runtime, (c) => {
      if (!canceled && c.clean.length >= 50) {
        canceled = true;
        sender.cancel();
      }
    });
    sender.push(items(5000));
    await until(() => got.drained > 0);
    await new Promise((r) => setTimeout(r, 100));
    expect(got.drained).toBe(1);
    expect(got.afterDrain).toBe(0);
    expect(got.nested).toBe(0);
    expect(got.clean.length).toBeGreaterThanOrEqual(50);
    expect(got.clean.length).toBeLessThan(5000);
    expect(new Set(got.clean).size).toBe(got.clean.length);
  });

  it('a snapshot that is not JSON fails that record, with the reason, and the rest go on', async () => {
    const { steps, runtime } = await importStep(200);
    const { sender, got } = await open(mode, steps, runtime);
    sender.push([{ ref: 1, data: '{not json' }, ...items(5).map((i) => ({ ...i, ref: i.ref + 10 }))]);
    await until(() => got.results.length + got.clean.length >= 6);
    expect(got.errors).toEqual([]);
    expect(got.clean.sort((a, b) => a - b)).toEqual([10, 11, 12, 13, 14]);
    const outcome = got.results[0]!.run.outcomes[0]!;
    if (outcome.ok) throw new Error('expected a failure');
    expect(got.results[0]!.ref).toBe(1);
    expect(outcome.classified.message).toMatch(/not JSON/);
  });

  it('cancel under a rate limit drains at once, not after the slots reserved ahead', async () => {
    const { steps, runtime } = await importStep(200);
    const got: Collected = { nested: 0, results: [], clean: [], drained: 0, afterDrain: 0, errors: [] };
    let drainedAt = 0;
    const setup: SenderSetup = {
      steps,
      options: { concurrency: 8, ratePerSecond: 2, logging: false },
      listener: (results, clean, drained) => {
        got.clean.push(...clean);
        got.results.push(...results);
        if (drained) drainedAt = Date.now();
      },
      onError: (e) => got.errors.push(e),
    };
    const sender = mode === 'thread' ? await senderThread(setup, runtime.redactor) : senderInThread(setup, runtime.http, runtime.redactor);
    closers.push(() => sender.close());
    sender.push(items(100));
    // Cancel once sending is under way (a condition, not a pause whose length decides the count).
    await until(() => got.clean.length + got.results.length >= 1);
    const reportedAtCancel = got.clean.length + got.results.length;
    const canceledAt = Date.now();
    sender.cancel();
    await until(() => drainedAt > 0, 10_000);
    // Waiting for the slots reserved ahead (8 at 2/s) would take 3.5 s; draining at once takes
    // milliseconds, so the bound holds on a loaded machine and still catches the slow path.
    expect(drainedAt - canceledAt).toBeLessThan(3_000);
    // Nothing is sent after the cancel but what was already in flight (at most the concurrency).
    expect(got.clean.length + got.results.length).toBeLessThanOrEqual(reportedAtCancel + 8);
  });
});

import { PassThrough } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildProgram } from '../../commands/index.js';
import { LocalBackend } from '../../src/backend/local-backend.js';
import type { CommandIO } from '../../src/cli/context.js';
import { decodeId, encodeId } from '../../src/domain/ids.js';
import type { StepRow } from '../../src/store/contract/rows.js';
import { resolveErrors, retryErrors, type ActionContext } from '../../src/tui/actions.js';
import type { UIActions } from '../../src/tui/context.js';
import { selectionOf, marksReducer, NO_MARKS } from '../../src/tui/state/marks.js';
import { seedDemoWorkspace } from '../../src/workspace/demo.js';
import { tempHome, type TempHome } from '../helpers/workspace.js';

// A confirmation covers exactly the set it names: errors are added (as automatic retries add them)
// and some of the counted ones resolved while the question is open, and the action then reaches
// exactly the counted errors that are still there — none of the new ones — and says how many of
// the set changed meanwhile. Real SQLite, the real commands (in-process, with a terminal to ask
// on) and the TUI's actions over the real backend.

const OPERATOR = 'ops.lead@acme.example';
const FLOW = 'Shop orders to ERP';
const STEP = 'ERP sales orders';

let tmp: TempHome;
let backend: LocalBackend;
let step: StepRow;

const store = () => backend.ws.store;
const rowId = (errorId: string) => decodeId('error', errorId)!.rowId;
const errorRow = async (errorId: string) => (await store().errors.getError(rowId(errorId)))!;
/** The ids of `errorIds` that are still open, in order. */
const openOf = async (errorIds: string[]) => {
  const open: string[] = [];
  for (const id of errorIds) if (!(await errorRow(id)).resolved) open.push(id);
  return open;
};

/** Inserts `n` open 422 errors on the step, each with its own snapshot unless `withRetryData` is false; newest first. */
async function addErrors(n: number, { withRetryData = true } = {}): Promise<string[]> {
  const ids: string[] = [];
  await store().withTransaction(async (tx) => {
    for (let i = 0; i < n; i++) {
      const at = Date.now();
      const trace = await tx.records.insertTrace({
        step: step.key,
        time: at,
        stage: 'import',
        method: 'POST',
        statusCode: 422,
        request: { method: 'POST', url: 'http://127.0.0.1/salesOrders', headers: {} },
        response: { statusCode: 422, body: '{"errors":[]}' },
      });
      const retryData = withRetryData ? await tx.records.insertRetryData({ step: step.key, createdAt: at, stage: 'import', data: { id: `SO-${i}` } }) : undefined;
      const id = await tx.errors.insertError({
        step: step.key,
        occurredAt: at,
        source: withRetryData ? 'application' : 'connection',
        code: '422',
        message: `record ${i} has no valid email`,
        classification: 'value',
        classifiedBy: 'rule',
        trace,
        ...(retryData !== undefined ? { retryData } : {}),
      });
      ids.push(encodeId('error', id, at));
    }
  });
  return ids.reverse();
}

/** Resolves errors behind the operator's back (another operator, an automatic retry). */
async function resolveBehind(errorIds: string[]): Promise<void> {
  await store().triage.resolve(errorIds.map(rowId), Date.now(), 'auto');
}

/** A terminal to answer on: `answer` runs when the question is asked, then "y" is typed. */
function terminalIO(answer: (question: string) => void | Promise<void>): { io: CommandIO; out: () => string; err: () => string } {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const stdin = Object.assign(new PassThrough(), { isTTY: true });
  const outChunks: Buffer[] = [];
  const errChunks: Buffer[] = [];
  stdout.on('data', (c: Buffer) => outChunks.push(c));
  let asked = false;
  stderr.on('data', (c: Buffer) => {
    errChunks.push(c);
    const text = Buffer.concat(errChunks).toString('utf8');
    if (!asked && text.includes(' y/N ')) {
      asked = true;
      void Promise.resolve(answer(text)).then(() => stdin.write('y\n'));
    }
  });
  return {
    io: { stdout, stderr, stdin, env: { ...process.env, FLOWDECK_HOME: tmp.home, FLOWDECK_USER: OPERATOR, FLOWDECK_WORKER: 'off' } },
    out: () => Buffer.concat(outChunks).toString('utf8'),
    err: () => Buffer.concat(errChunks).toString('utf8'),
  };
}

async function runCommand(io: CommandIO, args: string[]): Promise<void> {
  await (await buildProgram(io, args)).parseAsync(['node', 'flowdeck', ...args]);
}

/** The TUI's footer and prompts, recorded; `onAsk` runs when a confirmation is asked, before "yes". */
function tuiContext(onAsk: (message: string) => void | Promise<void>): { ctx: ActionContext; messages: string[] } {
  const messages: string[] = [];
  const record = (text: string) => void messages.push(text);
  const ui: UIActions = {
    push: () => {},
    pop: () => {},
    jump: () => {},
    quit: () => {},
    showHelp: () => {},
    info: record,
    success: record,
    progress: () => {},
    fail: (e) => record(`failed: ${(e as Error).message}`),
    clearMessage: () => {},
    ask: (async (spec: unknown) => {
      const resolved = typeof spec === 'function' ? await (spec as () => Promise<{ message: string }>)() : (spec as { message: string });
      messages.push(`asked: ${resolved.message}`);
      await onAsk(resolved.message);
      return { kind: 'confirm', yes: true };
    }) as UIActions['ask'],
    setChrome: () => {},
    editFile: async () => {},
    watchRetry: () => {},
    touch: () => {},
    registerKeys: () => {},
    stackDepth: () => 1,
    noteFilter: () => {},
    filterHistory: () => [],
    addFilterHistory: () => {},
    jumpPrompt: () => {},
  };
  return { ctx: { backend, ui }, messages };
}

beforeEach(async () => {
  tmp = tempHome();
  backend = new LocalBackend(await seedDemoWorkspace(tmp.home, { ...process.env, FLOWDECK_USER: OPERATOR, FLOWDECK_WORKER: 'off' }));
  step = await backend.resolveStep(await backend.resolveFlow(FLOW), STEP);
});

afterEach(async () => {
  await backend.close();
  tmp.cleanup();
});

describe('the CLI acts on the set it counted and confirmed', () => {
  it('errors resolve --all: errors added while asking stay open; those resolved meanwhile are said', async () => {
    const counted = await addErrors(30);
    let added: string[] = [];
    const t = terminalIO(async (question) => {
      expect(question).toContain('Resolve 30 errors?');
      added = await addErrors(7);
      await resolveBehind(counted.slice(0, 3));
    });
    await runCommand(t.io, ['errors', 'resolve', FLOW, STEP, '--all']);
    expect(t.out()).toContain('Resolved 27 errors. 3 of the 30 were resolved meanwhile and left alone.');
    expect(await openOf(counted)).toEqual([]);
    expect(await openOf(added)).toEqual(added);
  });

  it('errors retry: asks with the records that will be retried, and queues exactly those', async () => {
    const withData = await addErrors(4);
    const without = await addErrors(3, { withRetryData: false });
    let added: string[] = [];
    const t = terminalIO(async (question) => {
      expect(question).toContain('Retry 4 records?');
      added = await addErrors(5);
      await resolveBehind(withData.slice(0, 1));
    });
    await runCommand(t.io, ['errors', 'retry', FLOW, STEP, '--all']);
    expect(t.err()).toMatch(/Queued 3 records \(job [0-9a-f]{24}\)\. 1 of the 4 was resolved or queued by another job meanwhile and left alone\./);
    const jobId = /^Queued retry job ([0-9a-f]{24}) \(3 records\)\. Follow it with: flowdeck jobs wait \1\n$/.exec(t.out())![1]!;
    const report = await backend.retries.retryReport(jobId);
    const queuedKeys = report.items.map((i) => i.retryDataKey).sort();
    const expectedKeys: string[] = [];
    for (const id of withData.slice(1)) {
      const rd = (await errorRow(id)).retryData!;
      expectedKeys.push(encodeId('retryData', rd, (await store().records.getRetryData(rd))!.createdAt));
    }
    expectedKeys.sort();
    expect(queuedKeys).toEqual(expectedKeys);
    expect(await openOf(without)).toEqual(without);
    expect(await openOf(added)).toEqual(added);
  });

  it('retry-data patch --all: patches the snapshots it showed, not those of errors recorded while asking', async () => {
    const counted = await addErrors(4);
    let added: string[] = [];
    const t = terminalIO(async (question) => {
      expect(question).toContain('Patch 4 retry-data snapshots of 4 errors?');
      added = await addErrors(3);
    });
    await runCommand(t.io, ['retry-data', 'patch', FLOW, STEP, '--all', '--set', 'data.checked=true']);
    const checkedOf = async (ids: string[]) => {
      const checked: unknown[] = [];
      for (const id of ids) checked.push((JSON.parse((await store().records.getRetryData((await errorRow(id)).retryData!))!.data) as Record<string, unknown>).checked);
      return checked;
    };
    expect(await checkedOf(counted)).toEqual([true, true, true, true]);
    expect(await checkedOf(added)).toEqual([undefined, undefined, undefined]);
  });

  it('errors retry of an errorId without retry data queues nothing and fails (exit 1) in words', async () => {
    const [id] = await addErrors(1, { withRetryData: false });
    const t = terminalIO(() => {});
    const failure = await runCommand(t.io, ['errors', 'retry', FLOW, STEP, id!]).then(() => undefined, (e: unknown) => e as Error & { exitCode?: number });
    expect(failure?.message).toBe(`error ${id} has no retry data (a connection failure has no record to re-feed; run the flow again to recover it): nothing was queued`);
    expect(failure?.exitCode).toBe(1);
    expect(await store().jobs.listJobs({ type: 'retry', limit: 10 })).toEqual([]);
  });
});

describe('the TUI mark-all acts on the set it counted and confirmed', () => {
  it('resolve: errors added after marking and while asking are not resolved', async () => {
    const counted = await addErrors(20);
    const marks = marksReducer(NO_MARKS, { type: 'mark-all', query: '', upTo: counted[0]! });
    const early = await addErrors(4); // recorded after marking, before the key that resolves
    let late: string[] = [];
    const { ctx, messages } = tuiContext(async () => {
      late = await addErrors(6);
      await resolveBehind(counted.slice(0, 2));
    });
    const done = await resolveErrors(ctx, { flowId: FLOW, stepId: STEP, stepName: STEP, selection: selectionOf(marks, undefined)!, tab: 'open' });
    expect(messages).toContain('asked: Resolve 20 errors?');
    expect(messages).toContain('Resolved 18 errors. 2 of the 20 were resolved meanwhile and left alone.');
    expect(done?.length).toBe(18);
    expect(await openOf(counted)).toEqual([]);
    expect(await openOf([...early, ...late])).toEqual([...early, ...late]);
  });

  it('retry: counts records with retry data, and retries only those of the confirmed set', async () => {
    const withData = await addErrors(5);
    await addErrors(2, { withRetryData: false });
    const marks = marksReducer(NO_MARKS, { type: 'mark-all', query: '' });
    let late: string[] = [];
    const { ctx, messages } = tuiContext(async () => {
      late = await addErrors(3);
    });
    const job = await retryErrors(ctx, { flowId: FLOW, stepId: STEP, stepName: STEP, selection: selectionOf(marks, undefined)!, tab: 'open' }, false, 0);
    expect(messages.find((m) => m.startsWith('asked:'))).toBe('asked: Retry 5 records?');
    const report = await backend.retries.retryReport(job!._id);
    const lateKeys = new Set(await Promise.all(late.map(async (id) => (await errorRow(id)).retryData)));
    expect(report.items.some((i) => lateKeys.has(decodeId('retryData', i.retryDataKey)!.rowId))).toBe(false);
    expect(await openOf(withData)).toEqual(withData);
  });
});

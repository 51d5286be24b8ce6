import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TERMINAL_JOB_STATUSES } from '../../src/domain/api.js';
import { runCli, spawnCli } from '../helpers/cli.js';
import { COUNTING_FLOW, COUNTING_FLOWS_YAML, COUNTING_STEP, countingTarget, recordId, type CountingTarget, type TargetRequest } from '../helpers/counting-target.js';
import { testStore } from '../helpers/store.js';
import { openBackend, tempHome, writeFlowFile, type TempHome } from '../helpers/workspace.js';

// Three `flowdeck worker` processes on one PostgreSQL store share one retry job of 20,000 records;
// one is killed with SIGKILL a third of the way through. The target counts every request per
// record and which worker sent it. Only the killed worker may leave a record to be sent again:
// a request of its that was out when it died (the target may even have answered it, but the
// outcome never reached the store), which another worker re-sends once the item's lease expires.

const RECORDS = 20_000;
const WORKERS = 3;
const OPERATOR = 'night.shift@acme.example';

let tmp: TempHome;
let target: CountingTarget;
let env: Record<string, string>;
const workers: ChildProcess[] = [];

const exited = (child: ChildProcess) =>
  child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise<void>((resolve) => child.once('exit', () => resolve()));

/** Waits until `condition` holds, checking every `everyMs`; fails after `timeoutMs` saying what it waited for. */
async function until(what: string, condition: () => boolean | Promise<boolean>, timeoutMs = 240_000, everyMs = 25): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

async function cliJson<T>(args: string[]): Promise<T> {
  const r = await runCli([...args, '--json'], env);
  if (r.code !== 0) throw new Error(`flowdeck ${args.join(' ')} → ${r.code}\n${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

// Several workers on one store exist only on PostgreSQL (SQLite keeps one worker per workspace).
describe.skipIf(testStore() !== 'postgres')('three workers on one PostgreSQL store', () => {
  beforeAll(async () => {
    tmp = tempHome('flowdeck-multi-worker-');
    target = await countingTarget(RECORDS);
    writeFlowFile(tmp.home, 'records.yaml', COUNTING_FLOWS_YAML);
    // No background worker from the commands: the test starts the workers itself.
    env = { FLOWDECK_HOME: tmp.home, FLOWDECK_USER: OPERATOR, FLOWDECK_WORKER: 'off', TARGET: target.url };
    // The open errors, the real way: one run of the flow against a target that refuses every record.
    const run = await runCli(['flows', 'run', COUNTING_FLOW, '--json'], env);
    expect(run.stderr).toMatch(/completed with 20,000 records failing/);
    target.requests.length = 0;
  }, 300_000);

  afterAll(async () => {
    for (const w of workers) if (w.exitCode === null && w.signalCode === null) w.kill('SIGKILL');
    await Promise.all(workers.map(exited));
    await target?.close();
    tmp?.cleanup();
  });

  it('share a retry job: every record is resolved once, none is sent by two workers at a time, a killed one loses only what it had out', async () => {
    const before = await openBackend(tmp.home, { ...process.env, ...env });
    try {
      expect(await before.countErrors(COUNTING_FLOW, COUNTING_STEP)).toBe(RECORDS);
    } finally {
      await before.close();
    }

    const queued = await cliJson<{ _id: string; type: string }>(['errors', 'retry', COUNTING_FLOW, COUNTING_STEP, '--all', '--yes']);
    expect(queued.type).toBe('retry');
    target.mode = 'accept';

    const workerEnv = { ...env, FLOWDECK_WORKER: '' };
    const logs: string[] = [];
    for (let i = 0; i < WORKERS; i++) {
      const child = spawnCli(['worker', '--grace', '30s'], workerEnv);
      child.stderr!.on('data', (c: Buffer) => logs.push(`[worker ${i}] ${c.toString()}`));
      workers.push(child);
      target.senders.push(child.pid!);
    }

    // Kill a worker that is sending, a third of the way through.
    await until('a third of the records to reach the target', () => target.accepted() >= RECORDS / 3);
    const sending = new Set(target.requests.slice(-200).map((r) => r.pid));
    const victim = workers.find((w) => sending.has(w.pid)) ?? workers[0]!;
    victim.kill('SIGKILL');
    await exited(victim);
    const killedAt = Date.now();
    const killedPid = victim.pid!;

    // A command per check: every quarter second is plenty. The killed worker's leases must expire first.
    await until('the retry job to end', async () => TERMINAL_JOB_STATUSES.includes((await cliJson<{ status: string }>(['jobs', 'show', queued._id])).status as never), 400_000, 250);

    // The survivors stop cleanly on SIGTERM; none is left running.
    const survivors = workers.filter((w) => w !== victim);
    for (const w of survivors) w.kill('SIGTERM');
    await Promise.all(survivors.map(exited));
    for (const w of survivors) expect({ code: w.exitCode, log: w.exitCode === 0 ? '' : logs.join('') }).toEqual({ code: 0, log: '' });
    for (const w of workers) expect(() => process.kill(w.pid!, 0)).toThrow();

    const requests = target.requests;
    // Every request came from one of the workers, and the killed one sent nothing after it died.
    expect(requests.filter((r) => r.pid === undefined)).toEqual([]);
    expect(requests.filter((r) => r.pid === killedPid && r.receivedAt > killedAt)).toEqual([]);
    // Never two requests for one record in flight at once.
    expect(requests.filter((r) => r.concurrent > 0)).toEqual([]);
    // The job was shared: every worker sent records, and the survivors went on after the kill.
    for (const w of workers) expect(requests.some((r) => r.pid === w.pid)).toBe(true);
    expect(requests.some((r) => r.pid !== killedPid && r.receivedAt > killedAt)).toBe(true);

    const byRecord = new Map<string, TargetRequest[]>();
    for (const r of requests) byRecord.set(r.record, [...(byRecord.get(r.record) ?? []), r]);
    expect(byRecord.size).toBe(RECORDS);
    for (let i = 0; i < RECORDS; i++) expect(byRecord.has(recordId(i))).toBe(true);
    const resent: string[] = [];
    for (const [record, sent] of byRecord) {
      // Exactly one successful request per record, the last one.
      expect(sent.filter((r) => r.state === 'answered' && r.status === 200).length, record).toBeGreaterThanOrEqual(1);
      if (sent.length === 1) {
        expect({ state: sent[0]!.state, status: sent[0]!.status }, record).toEqual({ state: 'answered', status: 200 });
        continue;
      }
      resent.push(record);
      // Sent again only after the killed worker had it out when it died: every request but the last
      // is that worker's, received before the kill; the last is a survivor's, answered 200.
      const last = sent[sent.length - 1]!;
      expect({ record, earlier: sent.slice(0, -1).every((r) => r.pid === killedPid && r.receivedAt <= killedAt), last: last.pid !== killedPid && last.state === 'answered' && last.status === 200 }).toEqual({
        record,
        earlier: true,
        last: true,
      });
      expect(sent.length, record).toBe(2);
    }
    // What the killed worker had out is bounded by its connections' concurrency (8) times what one
    // claim can hold in flight; far below a third of the job.
    expect(resent.length).toBeLessThan(RECORDS / 10);
    // Successful requests: one per record, plus those the killed worker got answered but never recorded.
    expect(requests.filter((r) => r.state === 'answered' && r.status === 200).length).toBeLessThanOrEqual(RECORDS + resent.length);

    const after = await openBackend(tmp.home, { ...process.env, ...env });
    try {
      const job = await after.getJob(queued._id);
      expect(job.status).toBe('completed');
      const counts = await after.retries.recordCounts(queued._id);
      expect(counts).toMatchObject({ total: RECORDS, resolved: RECORDS, failed: 0, skipped: 0, pending: 0, resolvedMeanwhile: 0 });
      const report = await after.retries.retryReport(queued._id);
      expect(report.summary).toMatchObject({ resolved: RECORDS, failed: 0, skipped: 0, pending: 0 });
      expect(new Set(report.items.map((i) => i.retryDataKey)).size).toBe(RECORDS);
      expect(await after.countErrors(COUNTING_FLOW, COUNTING_STEP)).toBe(0);
    } finally {
      await after.close();
    }
  }, 600_000);
});

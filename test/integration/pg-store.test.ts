import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { parseQuery } from '../../src/domain/query.js';
import type { Catalog } from '../../src/flows/load.js';
import type { Store, StoreTx } from '../../src/store/contract/store.js';
import type { QueryContext } from '../../src/store/contract/queries.js';
import { SYNTHETIC_COLUMNS, type SyntheticBatch } from '../../src/store/contract/bulk.js';
import { SqliteCore } from '../../src/store/sqlite/core.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { openPostgresStore } from '../../src/store/postgres/index.js';
import { migrate, MIGRATIONS } from '../../src/store/postgres/migrations.js';
import { createPool } from '../../src/store/postgres/postgres-store.js';
import { CLAIM_DUE_ITEMS } from '../../src/store/postgres/retry-items.js';
import { RowFactory, type FactorySpec } from '../../src/workspace/generate-rows.js';
import { DEFAULT_RETRY_POLICY } from '../../src/runtime/recorder.js';
import { freshPgDatabase, pgTestUrl, PG_SKIP_MESSAGE, type FreshPgDatabase } from '../helpers/postgres.js';

// The PostgreSQL store against the SQLite one: the same calls on both give the same answers (ids,
// rows, counts, guards), and what only PostgreSQL has to get right: concurrent claimers, leases
// that expire, exclusive units of work, migrations run twice at once, an unreachable server.

const T0 = Date.UTC(2026, 0, 10, 9, 0, 0);
const OPERATOR = 'ana.lima@acme.example';
const ctx: QueryContext = { me: OPERATOR, now: T0 + 3_600_000, tagCodes: (v) => (['INV', 'REV'].includes(v.toUpperCase()) ? [v.toUpperCase()] : []) };

function catalog(digest: string, steps: Array<[string, 'export' | 'import', string]>): Catalog {
  const def = { http: { baseURI: 'https://crm.example' } };
  return {
    connections: new Map([['c1', { id: 'c1', name: 'CRM', file: 'c.yaml', def: def as never }]]),
    exports: new Map([['x1', { id: 'x1', name: 'Orders', file: 'x.yaml', def: {} as never, connectionId: 'c1' }]]),
    imports: new Map([['i1', { id: 'i1', name: 'Sales orders', file: 'i.yaml', def: {} as never, connectionId: 'c1' }]]),
    flows: new Map([
      [
        'f1',
        {
          id: 'f1',
          name: 'Orders to ERP',
          file: 'flows/orders.yaml',
          def: { disabled: false } as never,
          steps: steps.map(([id, kind, name], position) => ({ id, kind, name, position, proceedOnFailure: false })),
        },
      ],
    ]),
    digest,
  };
}

const plain = (v: unknown): unknown =>
  v === undefined ? '<undefined>' : JSON.parse(JSON.stringify(v, (_k, x) => (x instanceof Set ? [...x].sort() : x instanceof Map ? [...x.entries()] : x)));

/** One long sequence of calls over every port; the log of what each answered. */
async function exercise(store: Store): Promise<Record<string, unknown>> {
  const log: Record<string, unknown> = {};
  const note = (key: string, v: unknown) => (log[key] = plain(v));
  await store.catalog.syncCatalog(catalog('d1', [['x1', 'export', 'Orders'], ['i1', 'import', 'Sales orders']]), (d) => d);
  await store.catalog.syncCatalog(catalog('d2', [['i1', 'import', 'Sales orders'], ['i2', 'import', 'Invoices']]), (d) => d);
  note('flows', await store.catalog.listFlows());
  const steps = await store.catalog.steps('f1');
  note('steps', steps);
  const step = steps.find((s) => s.stepId === 'i1')!.key;
  note('step', await store.catalog.step(step));
  await expect(store.catalog.requireStep(999)).rejects.toThrow(/step/);
  await store.catalog.setFlowDisabled('f1', true);
  await store.catalog.touchFlow('f1', T0);
  note('flow', await store.catalog.getFlow('f1'));

  await store.meta.setMeta('lease', JSON.stringify({ pid: 2, heartbeat: 1 }));
  note('metaIf', [await store.meta.setMetaIf('lease', 'pid', 1, '{"pid":1}'), await store.meta.setMetaIf('lease', 'pid', 2, '{"pid":2,"heartbeat":9}'), await store.meta.getMeta('lease')]);
  await store.meta.deleteMeta('lease');
  note('metaGone', await store.meta.getMeta('lease'));

  const ana = await store.triage.upsertUser(OPERATOR, 'Ana', false, T0);
  const ben = await store.triage.upsertUser('Ben@acme.example', null, true, T0 + 1);
  note('upsertAgain', [await store.triage.upsertUser('ANA.LIMA@acme.example', null, false, T0 + 2), await store.triage.upsertUser('ben@ACME.example', 'Ben', false, T0 + 3)]);
  note('users', await store.triage.users());
  note('userByEmail', await store.triage.userByEmail('BEN@acme.example'));
  await store.triage.createTag('INV', 'Investigating', T0);
  await store.triage.createTag('REV', 'needs review', T0);
  await expect(store.triage.createTag('XX', 'INVESTIGATING', T0)).rejects.toThrow();
  note('tagLookups', [await store.triage.findTag('inv'), await store.triage.tagByName('NEEDS REVIEW'), await store.triage.tagByCode('nope')]);

  const flowJob = await store.jobs.insertJob({ type: 'flow', status: 'running', flowId: 'f1', createdAt: T0, triggeredBy: OPERATOR, options: { rate: 5 } });
  const child = await store.jobs.insertJob({ type: 'import', status: 'running', flowId: 'f1', step, parentId: flowJob, createdAt: T0 + 1 });
  await store.jobs.updateJob(child, { startedAt: T0 + 2, doneExporting: true, ownerPid: 42, note: 'n' }, T0 + 3);
  await store.jobs.addJobCounters(child, { numError: 3, numSuccess: 7, numIgnore: 0 }, T0 + 4);
  note('statusIf', [await store.jobs.setJobStatusIf(child, ['queued'], 'completed', T0 + 5), await store.jobs.setJobStatusIf(child, ['running'], 'completed', T0 + 5)]);
  note('jobs', [await store.jobs.getJob(child), await store.jobs.childJobs(flowJob), await store.jobs.activeJobs()]);
  note('listJobs', [
    await store.jobs.listJobs({ limit: 10 }),
    await store.jobs.listJobs({ limit: 10, triggeredBy: 'ANA.LIMA@ACME.EXAMPLE', topLevel: true }),
    await store.jobs.listJobs({ limit: 10, beforeId: child, flowId: 'f1', type: 'flow', status: 'running' }),
  ]);

  const trace = await store.records.insertTrace({ step, time: T0 + 10_500, stage: 'import', method: 'POST', statusCode: 422, request: { method: 'POST', url: 'https://erp/so', headers: { a: 'b' }, body: '{"x":1}' }, response: { statusCode: 422, body: 'bad' } });
  const trace2 = await store.records.insertTrace({ step, time: T0 + 11_000, stage: 'import', method: 'PUT', request: { method: 'PUT', url: 'https://erp/so/1', headers: {} }, response: {} });
  const errorIds: number[] = [];
  const snapshots: number[] = [];
  for (let i = 0; i < 12; i++) {
    const rd = await store.records.insertRetryData({ step, createdAt: T0 + 20_000 + i * 1000, stage: 'import', traceKey: `SO-${100 + i}`, data: { order: `SO-${100 + i}`, qty: i, tab: 'a\tb\nc\\d' }, ...(i % 3 === 0 ? { adaptorResponse: { ok: false } } : {}) });
    snapshots.push(rd);
    errorIds.push(
      await store.errors.insertError({
        step,
        occurredAt: T0 + 30_000 + i * 60_000,
        source: i % 2 ? 'application' : 'connection',
        code: i % 3 ? '422' : '503',
        message: i % 2 ? `Order SO-${100 + i} is missing customer_email` : 'Request timed out after 300 ms',
        oIndex: String(i),
        job: child,
        traceKey: `SO-${100 + i}`,
        classification: i % 2 ? 'value' : 'intermittent',
        classifiedBy: 'rule',
        ...(i < 4 ? { trace: i % 2 ? trace : trace2 } : {}),
        retryData: rd,
        ...(i % 4 === 0 ? { retryAt: T0 + 100_000 + i } : {}),
        ...(i % 5 === 0 ? { tags: ['INV'] } : {}),
        ...(i === 7 ? { assignee: 'ben@acme.example', assignedBy: OPERATOR, assigneeUser: ben } : {}),
      }),
    );
  }
  note('ids', [errorIds, snapshots, trace, trace2]);
  note('getError', [await store.errors.getError(errorIds[0]!), await store.errors.getError(errorIds[7]!), await store.errors.getError(99999)]);
  note('errorKeys', await store.errors.errorKeys([errorIds[3]!, errorIds[1]!, 4242]));
  note('records', [await store.records.getRetryData(snapshots[0]!), await store.records.getTrace(trace), await store.records.getTrace(trace2)]);
  note('listTraces', [await store.records.listTraces(step, {}, 10), await store.records.listTraces(step, { method: 'POST', statusCode: 422 }, 10), await store.records.listTraces(step, { before: { time: T0 + 11_000, id: trace2 } }, 10)]);
  note('snapshotsOfErrors', await store.records.snapshotsOfErrors([errorIds[2]!, errorIds[0]!, 777]));
  note('stats', [await store.errors.stepErrorStats(step), await store.errors.stepErrorFacets(step, 'code'), await store.jobs.jobErrorCounts(child), await store.jobs.jobErrorCounts(child, step)]);
  const q = (text: string) => ({ step, resolved: false, terms: parseQuery(text).terms });
  note('listing', [
    await store.errors.listErrors({ ...q(''), limit: 5 }, ctx),
    await store.errors.selectErrorIds(q('code:422'), ctx),
    await store.errors.countErrors(q('timed'), ctx),
    await store.errors.selectErrorIds(q('tag:INV'), ctx),
    await store.errors.selectErrorIds(q('assignee:ben@ACME.example'), ctx),
    await store.errors.selectErrorIds(q('data.qty:3'), ctx),
  ]);

  // Triage.
  note('assign', await store.triage.assign([errorIds[1]!, errorIds[2]!], { email: OPERATOR, userId: ana }, OPERATOR));
  note('unassign', await store.triage.unassign([errorIds[1]!, errorIds[3]!, errorIds[7]!]));
  note('setTags', [
    await store.triage.setTags([errorIds[0]!, errorIds[1]!], { add: ['REV', 'INV'] }),
    await store.triage.setTags([errorIds[0]!], { remove: ['INV'] }),
    await store.triage.setTags([errorIds[2]!, errorIds[3]!], { set: ['REV'] }),
    await store.triage.setTags([errorIds[3]!], { set: [] }),
  ]);
  note('tagsAfter', [await store.errors.getError(errorIds[0]!), await store.errors.getError(errorIds[1]!), await store.errors.getError(errorIds[3]!)]);
  note('resolve', await store.triage.resolve([errorIds[0]!, errorIds[1]!, errorIds[5]!], T0 + 1_000_000, OPERATOR));
  note('resolveAgain', await store.triage.resolve([errorIds[0]!], T0 + 1_000_001, OPERATOR));
  note('tags', await store.triage.tags());
  note('reopen', await store.triage.reopen([errorIds[5]!, errorIds[6]!]));
  note('deleteResolved', await store.triage.deleteResolved([errorIds[0]!, errorIds[2]!]));
  note('afterDelete', [await store.errors.getError(errorIds[0]!), await store.records.getRetryData(snapshots[0]!), await store.records.getTrace(trace2)]);
  note('superseded', await store.triage.superseded([errorIds[1]!]));
  note('deleteTag', [await store.triage.deleteTag('REV'), await store.triage.tagCatalog(), await store.errors.getError(errorIds[1]!)]);

  // Retry items.
  const retryJob = await store.jobs.insertJob({ type: 'retry', status: 'retrying', flowId: 'f1', step, createdAt: T0 + 2_000_000 });
  const open = [errorIds[3]!, errorIds[4]!, errorIds[5]!, errorIds[6]!, errorIds[8]!];
  const data = await store.retries.retryDataOf(open);
  note('retryDataOf', data);
  note('openErrorSnapshots', await store.retries.openErrorSnapshots(open));
  await store.retries.insertItems(retryJob, data);
  note('pendingElsewhere', [await store.retries.pendingElsewhere(data), await store.retries.holdersOf(data)]);
  const claimed = await store.retries.claimDueItems(retryJob, 'w1', T0, 3, T0 + 30_000);
  note('claim', [claimed, await store.retries.claimDueItems(retryJob, 'w1', T0, 10, T0 + 30_000, { nextAt: claimed[2]!.nextAt, seq: claimed[2]!.seq })]);
  await store.retries.postpone(retryJob, claimed[0]!.seq, 1, T0 + 5_000, '503 later');
  await store.retries.settle(retryJob, claimed[1]!.seq, 'failed', 1, errorIds[9]!, '422 bad');
  await store.retries.settleResolved(retryJob, [claimed[2]!.seq]);
  note('afterSettle', [await store.retries.items(retryJob), await store.retries.counts(retryJob), await store.retries.pendingCount(retryJob), await store.retries.nextDueAt(retryJob)]);
  note('latestOpenErrors', await store.retries.latestOpenErrors(data));
  note('snapshots', await store.retries.snapshots(data));
  note('resolveMany', await store.retries.resolveManyByRetryData([data[0]!, data[1]!], 'retry', T0 + 3_000_000));
  note('resolveTraceKey', await store.retries.resolveMatchingTraceKey('f1', 'SO-110', errorIds[11]! + 1, T0 + 3_000_001));
  await store.retries.setAttempts(data[2]!, 4);
  note('due', [await store.retries.dueAutomaticRetries(T0 + 200_000, 0), await store.retries.dueAutomaticRetries(T0 + 200_000, 1), await store.retries.dueAutomaticRetries(T0 + 200_000, 0, [step]), await store.retries.countDue(T0 + 200_000)]);
  await store.retries.clearRetryAt([errorIds[4]!]);
  note('skip', [await store.retries.skipPending(retryJob, 'canceled'), await store.retries.counts(retryJob)]);
  await store.jobs.updateJob(retryJob, { status: 'completed', endedAt: T0 + 4_000_000 }, T0 + 4_000_000);
  const leftover = await store.jobs.insertJob({ type: 'retry', status: 'failed', flowId: 'f1', step, createdAt: T0 + 5_000_000 });
  await store.retries.insertItems(leftover, [data[3]!]);
  note('ended', await store.retries.endedJobsWithPendingItems());

  // Records: logs, replacement, trace-key search.
  const entry = await store.records.insertLogEntry({ job: child, step, recordId: 'r1', groupId: 'g1', parentRecordId: null, traceKey: 'SO-105', status: 'error', stage: 'import', startedAt: T0 + 1, completedAt: T0 + 9, timeTaken: 8, data: [{ stage: 'import', data: { a: 1 } }, { stage: 'import', data: { a: 2 } }, { stage: 'export', data: [1] }] });
  const kid = await store.records.insertLogEntry({ job: child, step, recordId: 'r2', groupId: 'g1', parentRecordId: 'r1', traceKey: 'SO-105-1', status: 'success', stage: null, startedAt: T0 + 1, completedAt: null, timeTaken: null });
  note('logs', [
    entry,
    kid,
    await store.records.getLogEntry(entry),
    await store.records.listLogEntries(child, { order: 'asc', limit: 10 }),
    await store.records.listLogEntries(child, { order: 'desc', limit: 10, traceKeyPrefix: 'SO-105-', status: 'success', steps: [step] }),
    await store.records.listLogEntries(child, { order: 'asc', limit: 10, after: { startedAt: T0 + 1, id: entry } }),
    await store.records.findLogEntries(child, [step], 'r1'),
    await store.records.logEntriesByTraceKey(child, 'SO-105'),
    await store.records.logData(entry, 'import'),
    await store.records.logDataStages(entry),
    await store.records.logChildren(child, step, 'r1', undefined, 0, 10),
    await store.records.logChildren(child, step, 'r1', 'error', 0, 10),
    await store.records.jobIdsByTraceKeyPrefix('f1', 'SO-10', 10),
  ]);
  await store.records.replaceRetryData(snapshots[4]!, { data: '{"b":2}', oneToMany: true, pathToMany: 'items', childIndex: 1, traceKey: 'K', adaptorResponse: null }, T0 + 7);
  await store.records.updateRetryDataJson(snapshots[5]!, '{"c":3}', T0 + 8);
  await store.records.deleteTraces(step, [trace]);
  note('recordsAfter', [await store.records.getRetryData(snapshots[4]!), await store.records.getRetryData(snapshots[5]!), await store.records.getTrace(trace), await store.errors.getError(errorIds[1]!), await store.records.usersCreatedAt(), await store.records.tagNames()]);
  const csv: unknown[][] = [];
  for await (const rows of store.records.csvRows({ step, resolved: false, terms: [] }, ctx, 1, 4)) csv.push(...rows);
  note('csv', csv);

  // Audit and tokens.
  await store.auditLog.audit({ at: T0, actor: OPERATOR, action: 'resolve', flowId: 'f1', count: 3, detail: { q: 'x' } });
  const tok = await store.tokens.insert({ userEmail: OPERATOR, name: 'CI', hash: 'h1', last4: 'abcd', createdAt: T0 });
  await expect(store.tokens.insert({ userEmail: OPERATOR.toUpperCase(), name: 'ci', hash: 'h2', last4: 'zzzz', createdAt: T0 })).rejects.toThrow();
  note('tokens', [
    tok,
    await store.tokens.list(),
    await store.tokens.byId(tok.id),
    await store.tokens.byHash('h1'),
    await store.tokens.activeByName('ci'),
    await store.tokens.activeByLast4('abcd'),
    await store.tokens.activeNamed(OPERATOR.toUpperCase(), 'Ci'),
    await store.tokens.tryTouch(tok.id, T0 + 10, T0 + 5),
    await store.tokens.tryTouch(tok.id, T0 + 11, T0 + 5),
    await store.tokens.byId(tok.id),
    await store.tokens.revoke(tok.id, T0 + 20),
    await store.tokens.revoke(tok.id, T0 + 21),
  ]);

  // A unit of work commits as one, or not at all.
  await expect(
    store.withTransaction(async (tx) => {
      await tx.meta.setMeta('tx', 'rolled back');
      await tx.withTransaction((inner) => inner.meta.setMeta('inner', 'too'));
      throw new Error('boom');
    }),
  ).rejects.toThrow('boom');
  note('rolledBack', [await store.meta.getMeta('tx'), await store.meta.getMeta('inner')]);
  note('committed', await store.withTransaction(async (tx) => {
    await tx.meta.setMeta('tx', 'kept');
    return tx.meta.getMeta('tx');
  }, { exclusive: 'retry-sweep' }));

  note('loadStart', await store.bulk.loadStart());
  return log;
}

const tmp = mkdtempSync(join(tmpdir(), 'pgcore-store-'));

describe.skipIf(!pgTestUrl())(`PostgresStore (${pgTestUrl() ? 'against FLOWDECK_TEST_PG_URL' : PG_SKIP_MESSAGE})`, () => {
  let db: FreshPgDatabase;
  let pgStore: Store;
  const opened: Store[] = [];
  const databases: FreshPgDatabase[] = [];

  async function freshStore(prefix: string): Promise<Store> {
    const d = await freshPgDatabase(prefix);
    databases.push(d);
    const s = await openPostgresStore(d.url);
    opened.push(s);
    return s;
  }

  beforeAll(async () => {
    db = await freshPgDatabase('pgcore_store');
    databases.push(db);
    pgStore = await openPostgresStore(db.url);
    opened.push(pgStore);
  }, 60_000);

  afterAll(async () => {
    for (const s of opened) await s.close().catch(() => undefined);
    for (const d of databases) await d.drop().catch(() => undefined);
    rmSync(tmp, { recursive: true, force: true });
  });

  it('answers every port call as the SQLite store does', async () => {
    const file = join(tmp, 'differential.db');
    const sqlite = new SqliteStore(new SqliteCore(file), file);
    try {
      const expected = await exercise(sqlite);
      const actual = await exercise(pgStore);
      for (const key of Object.keys(expected)) expect({ [key]: actual[key] }).toEqual({ [key]: expected[key] });
      expect(Object.keys(actual)).toEqual(Object.keys(expected));
    } finally {
      await sqlite.close();
    }
  }, 60_000);

  it('says where it is without the password, and shares workers', async () => {
    expect(pgStore.kind).toBe('postgres');
    expect(pgStore.sharedWorkers).toBe(true);
    expect(pgStore.location).not.toMatch(/:[^/@]*@/);
    expect(pgStore.location).toContain(db.name);
  });

  it('never gives the same item to two concurrent claimers, and an expired lease to the next owner', async () => {
    const store = await freshStore('pgcore_claim');
    await store.catalog.syncCatalog(catalog('d', [['i1', 'import', 'Sales orders']]), (d) => d);
    const [step] = await store.catalog.steps('f1');
    const job = await store.jobs.insertJob({ type: 'retry', status: 'retrying', flowId: 'f1', step: step!.key, createdAt: T0 });
    const data: number[] = [];
    for (let i = 0; i < 400; i++) data.push(await store.records.insertRetryData({ step: step!.key, createdAt: T0, stage: 'import', data: { i } }));
    await store.retries.insertItems(job, data);
    const owners = ['a', 'b', 'c', 'd', 'e'];
    const got = new Map<string, number[]>();
    await Promise.all(
      owners.map(async (owner) => {
        for (;;) {
          const items = await store.retries.claimDueItems(job, owner, T0, 7, T0 + 60_000);
          if (items.length === 0) return;
          got.set(owner, [...(got.get(owner) ?? []), ...items.map((i) => i.seq)]);
          // Claimed items are settled by their owner; the others stay pending and leased.
          for (const item of items) if (item.seq % 2 === 0) await store.retries.settle(job, item.seq, 'resolved', 1, null, null);
        }
      }),
    );
    const all = [...got.values()].flat();
    expect(all).toHaveLength(400);
    expect(new Set(all).size).toBe(400);
    expect(await store.retries.pendingCount(job)).toBe(200);
    // Still leased (until T0 + 60s): nobody else gets them before then…
    expect(await store.retries.claimDueItems(job, 'z', T0 + 59_999, 1000, T0 + 120_000)).toEqual([]);
    // …renewing keeps them, and once the lease has expired, the next owner takes them over.
    expect(await store.retries.renewItemLeases(job, 'a', T0 + 61_000)).toBe(got.get('a')!.filter((s) => s % 2 === 1).length);
    const taken = await store.retries.claimDueItems(job, 'z', T0 + 60_000, 1000, T0 + 120_000);
    expect(taken.map((i) => i.seq).sort((x, y) => x - y)).toEqual(all.filter((s) => s % 2 === 1 && !got.get('a')!.includes(s)).sort((x, y) => x - y));
    // A released lease is anyone's again at once.
    await store.retries.releaseItemLeases(job, 'z');
    expect((await store.retries.claimDueItems(job, 'y', T0 + 60_000, 1000, T0 + 120_000)).length).toBe(taken.length);
  }, 60_000);

  it('claims through the pending-items index, not a scan, on a big job', async () => {
    const store = await freshStore('pgcore_claimplan');
    await store.catalog.syncCatalog(catalog('d', [['i1', 'import', 'Sales orders']]), (d) => d);
    const [step] = await store.catalog.steps('f1');
    const pool = (store as unknown as { pool: pg.Pool }).pool;
    const jobs = [];
    for (let j = 0; j < 4; j++) jobs.push(await store.jobs.insertJob({ type: 'retry', status: 'retrying', flowId: 'f1', step: step!.key, createdAt: T0 }));
    await pool.query(`INSERT INTO retry_data (step, created_at, updated_at, stage, data) SELECT $1, $2, $2, 'import', '{}' FROM generate_series(1, 20000)`, [step!.key, T0]);
    for (const [j, job] of jobs.entries()) {
      await pool.query(
        `INSERT INTO retry_items (job, seq, retry_data, state, next_at) SELECT $1, g, g, CASE WHEN g % 10 = 0 OR $2 = 0 THEN 'pending' ELSE 'resolved' END, g FROM generate_series(1, 20000) g`,
        [job, j],
      );
    }
    await pool.query('ANALYZE retry_items');
    const plan = (await pool.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${CLAIM_DUE_ITEMS}`, [jobs[3], 'w', T0 + 1e9, 100, T0 + 1e9 + 60_000, -1, -1])).rows.map((r) => r['QUERY PLAN']).join('\n');
    expect(plan).toMatch(/ix_retry_items_pending/);
    expect(plan).not.toMatch(/Seq Scan on retry_items/);
  }, 60_000);

  it('runs exclusive units of work one at a time, across connections', async () => {
    const events: string[] = [];
    let inside = 0;
    await Promise.all(
      [1, 2, 3, 4].map((n) =>
        pgStore.withTransaction(
          async (tx: StoreTx) => {
            inside++;
            expect(inside).toBe(1);
            events.push(`start ${n}`);
            await tx.meta.setMeta('sweep', String(n));
            await tx.meta.getMeta('sweep');
            events.push(`end ${n}`);
            inside--;
          },
          { exclusive: 'retry-sweep' },
        ),
      ),
    );
    for (let i = 0; i < events.length; i += 2) expect(events[i + 1]!.slice(4)).toBe(events[i]!.slice(6));
  });

  it('runs a unit of work again when PostgreSQL picks it as a deadlock victim', async () => {
    await pgStore.meta.setMeta('left', '0');
    await pgStore.meta.setMeta('right', '0');
    const signal = () => {
      let fire!: () => void;
      const fired = new Promise<void>((r) => (fire = r));
      return { fire, fired };
    };
    const leftHeld = signal();
    const rightHeld = signal();
    let runs = 0;
    const unit = (first: string, second: string, mine: ReturnType<typeof signal>, theirs: ReturnType<typeof signal>) =>
      pgStore.withTransaction(async (tx) => {
        runs++;
        await tx.meta.setMeta(first, String(runs));
        mine.fire();
        await theirs.fired;
        await tx.meta.setMeta(second, String(runs));
        return 'done';
      });
    expect(await Promise.all([unit('left', 'right', leftHeld, rightHeld), unit('right', 'left', rightHeld, leftHeld)])).toEqual(['done', 'done']);
    expect(runs).toBe(3); // one of the two ran twice
  });

  it('migrates a fresh database once when two processes open it at the same time', async () => {
    const d = await freshPgDatabase('pgcore_migrate');
    databases.push(d);
    const pools = [createPool(d.url), createPool(d.url), createPool(d.url)];
    try {
      await Promise.all(pools.map((p) => migrate(p)));
      const { rows } = await pools[0]!.query<{ version: number }>('SELECT version FROM schema_migrations ORDER BY version');
      expect(rows.map((r) => r.version)).toEqual(MIGRATIONS.map((_m, i) => i + 1));
      await migrate(pools[1]!);
    } finally {
      for (const p of pools) await p.end();
    }
  }, 60_000);

  it('changes its stamp on every commit, and not without one', async () => {
    const before = await pgStore.changeStamp();
    expect(await pgStore.changeStamp()).toBe(before);
    let during = '';
    await pgStore.withTransaction(async (tx) => {
      await tx.meta.setMeta('stamp', '1');
      during = await pgStore.changeStamp();
    });
    const after = await pgStore.changeStamp();
    expect(after).not.toBe(before);
    expect(during).not.toBe(after); // a stamp read while a writer is open never equals the one after its commit
    expect(await pgStore.changeStamp()).toBe(after);
  });

  it('registers many workers, each with its heartbeat', async () => {
    const store = await freshStore('pgcore_workers');
    const w1 = { id: 'h1:1:aa', host: 'h1', pid: 1 };
    const w2 = { id: 'h2:2:bb', host: 'h2', pid: 2 };
    expect(await store.workers.anyAlive(T0, 10_000)).toBe(false);
    expect(await store.workers.acquire(w1, T0, 10_000)).toBe(true);
    expect(await store.workers.acquire(w2, T0, 10_000)).toBe(true);
    expect(await store.workers.anyAlive(T0 + 5_000, 10_000)).toBe(true);
    expect(await store.workers.renew(w1, T0 + 9_000)).toBe(true);
    await store.workers.release(w2);
    expect(await store.workers.renew(w2, T0 + 9_000)).toBe(false);
    expect(await store.workers.anyAlive(T0 + 18_000, 10_000)).toBe(true);
    expect(await store.workers.anyAlive(T0 + 19_001, 10_000)).toBe(false);
  });

  it('never waits for a lock to record a token use', async () => {
    const store = await freshStore('pgcore_tokens');
    const tok = await store.tokens.insert({ userEmail: OPERATOR, name: 'CI', hash: 'h', last4: 'abcd', createdAt: T0 });
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let locked!: () => void;
    const isLocked = new Promise<void>((r) => (locked = r));
    const holder = store.withTransaction(async (tx) => {
      await tx.tokens.revoke(tok.id, T0 + 1); // holds the row's lock until the transaction ends
      locked();
      await held;
    });
    await isLocked;
    expect(await store.tokens.tryTouch(tok.id, T0 + 5, T0 + 5)).toBe(false);
    release();
    await holder;
    expect(await store.tokens.tryTouch(tok.id, T0 + 6, T0 + 6)).toBe(true);
    expect((await store.tokens.byId(tok.id))!.lastUsedAt).toBe(T0 + 6);
  });

  it('loads synthetic batches by COPY with what the store derives', async () => {
    const store = await freshStore('pgcore_bulk');
    await store.catalog.syncCatalog(catalog('d', [['i1', 'import', 'Sales orders']]), (d) => d);
    const [step] = await store.catalog.steps('f1');
    const start = await store.bulk.loadStart();
    expect(start).toEqual({ nextIds: { error: 1, retryData: 1, trace: 1 }, lastOccurredAt: null, errorCount: 0 });
    const row = (table: keyof typeof SYNTHETIC_COLUMNS, values: Record<string, unknown>) => SYNTHETIC_COLUMNS[table].map((c) => values[c] ?? null);
    const batch: SyntheticBatch = {
      rows: 2,
      firstErrorId: 1,
      lastErrorId: 2,
      tables: {
        traces: [row('traces', { id: 1, step: step!.key, time: T0, stage: 'import', method: 'POST', status_code: 422, request: '{"a":"tab\\there"}', response: '{}' })],
        retryData: [row('retryData', { id: 1, step: step!.key, created_at: T0, updated_at: T0, stage: 'import', one_to_many: 0, data: '{"line":"a\\nb"}', attempts: 0 })],
        errors: [
          [
            ...row('errors', { id: 1, step: step!.key, resolved: 0, occurred_at: T0, source: 'application', code: '422', message: 'Order\tSO-1 is bad', job: null, classification: 'value', classified_by: 'rule', trace: 1, trace_sec: Math.floor(T0 / 1000), retry_data: 1, retry_data_sec: Math.floor(T0 / 1000), tags: '["INV"]', sig: 77 }),
            ...row('errors', { id: 2, step: step!.key, resolved: 1, occurred_at: T0 + 1, source: 'application', code: '422', message: 'Order SO-2 is bad', classification: 'value', classified_by: 'rule', sig: 77 }),
          ],
        ],
      },
      counts: [],
      sigs: [[77, step!.key, '422', 'application', 'value', 'Order <id> is bad', T0]],
      tagged: 1,
      assigned: 0,
      retryData: 1,
      traces: 1,
    };
    const batches = [batch][Symbol.iterator]();
    const seen: number[] = [];
    const result = await store.bulk.loadSynthetic({ next: async () => batches.next() }, { expected: 2, onProgress: (n) => seen.push(n) });
    expect(result.rows).toBeGreaterThanOrEqual(0);
    expect(seen).toEqual([2]);
    const e1 = await store.errors.getError(1);
    expect(e1).toMatchObject({ message: 'Order\tSO-1 is bad', tags: ['INV'], trace: 1, retryData: 1, resolved: false });
    expect((await store.errors.getError(2))!.resolved).toBe(true);
    expect((await store.records.getRetryData(1))!.data).toBe('{"line":"a\\nb"}');
    expect(await store.errors.selectErrorIds({ step: step!.key, resolved: false, terms: parseQuery('tag:INV').terms }, ctx)).toEqual([1]);
    expect(await store.errors.selectErrorIds({ step: step!.key, resolved: false, terms: parseQuery('SO').terms }, ctx)).toEqual([1]);
    // The next recorded error follows the loaded ids.
    const next = await store.errors.insertError({ step: step!.key, occurredAt: T0 + 2, source: 's', code: 'c', message: 'm', classification: 'value', classifiedBy: 'rule' });
    expect(next).toBe(3);
    expect(await store.bulk.loadStart()).toMatchObject({ nextIds: { error: 4, retryData: 2, trace: 2 }, errorCount: 3 });
  }, 60_000);

  it('loads a big generated batch stream with its indexes dropped and rebuilt', async () => {
    const store = await freshStore('pgcore_bigload');
    await store.catalog.syncCatalog(catalog('d', [['x1', 'export', 'Orders'], ['i1', 'import', 'Sales orders']]), (d) => d);
    const steps = await store.catalog.steps('f1');
    const job = await store.jobs.insertJob({ type: 'flow', status: 'completed', flowId: 'f1', createdAt: T0 });
    await store.triage.createTag('INV', 'Investigating', T0);
    const indexes = async () =>
      ((await (store as unknown as { pool: pg.Pool }).pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM pg_indexes WHERE schemaname = current_schema()`)).rows[0]!.n);
    const before = await indexes();
    const n = 60_000;
    const spec: FactorySpec = {
      seed: 7,
      n,
      start: T0,
      span: 86_400_000,
      dayMs: 86_400_000,
      steps: steps.map((s) => ({ flowId: 'f1', stepKey: s.key, kind: s.kind, shape: 'erp', weight: 1, policy: DEFAULT_RETRY_POLICY, retriableOnly: false, pgExportId: 'x1' })),
      jobs: { f1: [job] },
      users: [],
      tags: [{ code: 'INV', name: 'Investigating' }],
      firstIds: (await store.bulk.loadStart()).nextIds,
      rowsPerStatement: 40,
    };
    const factory = new RowFactory(spec);
    let done = 0;
    const batches: AsyncIterator<SyntheticBatch> = {
      next: async () => (done >= n ? { done: true, value: undefined } : { done: false, value: factory.batch((done = Math.min(n, done + 5000))) as SyntheticBatch }),
    };
    const phases: string[] = [];
    let tagged = 0;
    await store.bulk.loadSynthetic(batches, { expected: n, onPhase: (p) => phases.push(p), onBatch: (b) => (tagged += b.tagged) });
    expect(phases).toEqual(['indexes', 'analyze']);
    expect(await indexes()).toBe(before);
    expect((await store.bulk.loadStart()).errorCount).toBe(n);
    const perStep = await Promise.all(steps.map((s) => store.errors.countErrors({ step: s.key, resolved: false, terms: [] }, ctx)));
    expect(perStep.reduce((a, b) => a + b, 0)).toBe(n);
    const tagRows = await Promise.all(steps.map((s) => store.errors.countErrors({ step: s.key, resolved: false, terms: parseQuery('tag:INV').terms }, ctx)));
    expect(tagRows.reduce((a, b) => a + b, 0)).toBe(tagged);
    const plan = (await store.errors.explainListErrors({ step: steps[1]!.key, resolved: false, terms: [], limit: 50 }, ctx)).join('\n');
    expect(plan).not.toMatch(/Seq Scan on errors/);
  }, 120_000);

  it('is read-only when opened so: reads work, writes fail clearly', async () => {
    await pgStore.meta.setMeta('tx', 'kept');
    const ro = await openPostgresStore(db.url, { readonly: true });
    opened.push(ro);
    expect(ro.readonly).toBe(true);
    expect(await ro.meta.getMeta('tx')).toBe('kept');
    await expect(ro.meta.setMeta('x', 'y')).rejects.toThrow(/read-only/);
    await expect(ro.withTransaction((tx) => tx.meta.setMeta('x', 'y'))).rejects.toThrow(/read-only/);
  });

  it('fails to open with one clear line when the server cannot be reached', async () => {
    const url = 'postgres://flowdeck:s3cret@127.0.0.1:1/nowhere';
    const e = await openPostgresStore(url).then(
      () => undefined,
      (err: Error) => err,
    );
    expect(e).toBeInstanceOf(Error);
    expect(e!.message).toMatch(/^cannot reach PostgreSQL at postgres:\/\/flowdeck@127\.0\.0\.1:1\/nowhere: \S/);
    expect(e!.message).not.toContain('s3cret');
    expect(e!.message.split('\n')).toHaveLength(1);
  });
});

// The pool's int8 parser is its own: node-postgres's global parser is left as it is.
it('leaves node-postgres global type parsers alone', () => {
  expect(pg.types.getTypeParser(20, 'text')('12')).toBe('12');
});

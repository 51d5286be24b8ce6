import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import type { CsvExportOptions } from '../../src/backend/contract/index.js';
import { saveDownload } from '../../src/backend/download.js';
import type { LocalBackend } from '../../src/backend/local-backend.js';
import { InvalidInputError, NoRetryDataError, NotFoundError, type FlowdeckError } from '../../src/domain/errors.js';
import { decodeId, encodeId } from '../../src/domain/ids.js';
import type { FlowRow, JobRow, StepRow } from '../../src/store/contract/rows.js';
import { DEMO_FLOWS_YAML } from '../../src/workspace/demo.js';
import { undeclaredKeys, validateAgainst } from '../helpers/spec.js';
import { openBackend, tempHome, writeFlowFile } from '../helpers/workspace.js';
import { storeRows } from '../helpers/store-sql.js';

// Retry data, request traces, execution logs, trace-key job search, flow enable/disable and the CSV
// export, over a real SQLite workspace with the demo's flows and rows written the way the recorder
// writes them (deterministic times, so every expectation is exact).

const T0 = Date.UTC(2026, 10, 1, 12, 0, 0, 0);
const DAY = 24 * 3600 * 1000;
const N = 30;
const ERP_FLOW = 'Shop orders to ERP';
const TAG_CODE = 'INV01';

const OPEN_SPEC_TEXT = `CSV columns: \`occurredAt\`, \`source\`, \`code\`, \`message\`, \`traceKey\`, \`exportDataURI\`,
\`importDataURI\`, \`oIndex\`, \`retryDataKey\`, \`errorId\`, \`legacyId\`, \`reqAndResKey\`, \`purgeAt\`,
\`tags\`, \`assignedTo\`, \`assignedBy\`, \`_assignedToUserId\`.`;
const RESOLVED_SPEC_TEXT = `Full CSV columns: \`resolvedAt\`, \`resolvedBy\`, \`occurredAt\`, \`source\`, \`code\`, \`message\`,
\`traceKey\`, \`exportDataURI\`, \`importDataURI\`, \`oIndex\`, \`retryDataKey\`, \`errorId\`, \`legacyId\`,
\`reqAndResKey\`, \`purgeAt\`, \`tags\`, \`assignedTo\`, \`assignedBy\`, \`_assignedToUserId\`.`;
const specHeader = (text: string) => [...text.matchAll(/`([^`]+)`/g)].map((m) => m[1]).join(',');

interface Fixture {
  b: LocalBackend;
  flow: FlowRow;
  shop: StepRow;
  lookup: StepRow;
  erp: StepRow;
  job: JobRow;
  jobId: string;
  /** Per seeded ERP error i: its ids. */
  errors: Array<{ errorId: string; retryDataKey: string; reqAndResKey: string; row: number; retryData: number; trace: number }>;
  /** The connection-class ERP error (no snapshot, no trace). */
  connectionErrorId: string;
  /** A snapshot on the lookup step. */
  lookupKey: string;
  groupId: string;
  otherFlow: FlowRow;
}

let fixture: Fixture | undefined;
const cleanups: Array<() => void> = [];

afterEach(async () => {
  await fixture?.b.close();
  fixture = undefined;
  while (cleanups.length) cleanups.pop()!();
});

async function seed(): Promise<Fixture> {
  const t = tempHome();
  cleanups.push(t.cleanup);
  writeFlowFile(t.home, 'flows.yaml', DEMO_FLOWS_YAML);
  const b = await openBackend(t.home, { ...process.env, FLOWDECK_USER: 'ops@acme.example' });
  const store = b.ws.store;
  const flow = await b.resolveFlow(ERP_FLOW);
  const otherFlow = await b.resolveFlow('Orders to warehouse');
  const [shop, lookup, erp] = (await store.catalog.steps(flow.id)) as [StepRow, StepRow, StepRow];
  const out = await store.withTransaction(async (tx) => {
    await tx.triage.createTag(TAG_CODE, 'Investigating', T0);
    const user = await tx.triage.upsertUser('ana@acme.example', 'Ana Lima', false, T0 - DAY);
    const jobRow = await tx.jobs.insertJob({ type: 'flow', status: 'completed', flowId: flow.id, createdAt: T0 - 5000, logMode: 'full' });
    const child = await tx.jobs.insertJob({ type: 'import', status: 'completed', flowId: flow.id, step: erp.key, parentId: jobRow, createdAt: T0 - 5000 });
    const errors: Fixture['errors'] = [];
    for (let i = 0; i < N; i++) {
      const at = T0 + i * 1000 + (i % 7);
      const traceKey = `SO-${1000 + i}`;
      const status = i % 3 === 0 ? 429 : 422;
      const data: Record<string, unknown> = {
        id: traceKey,
        customer: { name: `Customer ${i}`, email: i % 2 ? `c${i}@@example` : `c${i}@example.com`, ...(i % 5 === 0 ? { fax: '555' } : {}) },
        items: [{ sku: 'SKU-1', quantity: i + 1 }],
      };
      const retryData = await tx.records.insertRetryData({
        step: erp.key,
        createdAt: at - 400,
        stage: 'page_processor_import',
        pgExportId: shop.stepId,
        traceKey,
        data,
        adaptorResponse: { statusCode: status },
      });
      const trace = await tx.records.insertTrace({
        step: erp.key,
        time: at - 300,
        stage: 'import',
        method: i % 5 === 0 ? 'PUT' : 'POST',
        statusCode: status,
        request: { method: i % 5 === 0 ? 'PUT' : 'POST', url: 'http://127.0.0.1:9/salesOrders', headers: { authorization: '********', 'content-type': 'application/json' }, body: JSON.stringify(data) },
        response: { statusCode: status, headers: { 'content-type': 'application/json' }, body: '{"errors":[{"code":"invalid"}]}', receivedAt: at - 290 },
      });
      const row = await tx.errors.insertError({
        step: erp.key,
        occurredAt: at,
        source: 'application',
        code: String(status),
        // commas, quotes and a newline: the CSV must quote them
        message: i === 4 ? 'Line one, "quoted"\nline two' : `Request failed with status ${status}: customer.email is invalid`,
        oIndex: String(i),
        job: jobRow,
        traceKey,
        classification: status === 429 ? 'rate_limit' : 'value',
        classifiedBy: 'rule',
        trace,
        retryData,
        purgeAt: at + 30 * DAY,
        ...(i % 4 === 0 ? { tags: [TAG_CODE] } : {}),
        ...(i % 3 === 0 ? { assignee: 'ana@acme.example', assignedBy: 'lead@acme.example', assigneeUser: user } : {}),
      });
      errors.push({
        errorId: encodeId('error', row, at),
        retryDataKey: encodeId('retryData', retryData, at - 400),
        reqAndResKey: encodeId('trace', trace, at - 300),
        row,
        retryData,
        trace,
      });
    }
    // A second open error on the same snapshot (a retry that failed again keeps the retryDataKey).
    const again = errors[1]!;
    await tx.errors.insertError({
      step: erp.key,
      occurredAt: T0 + N * 1000,
      source: 'application',
      code: '422',
      message: 'failed again',
      job: jobRow,
      traceKey: 'SO-1001',
      classification: 'value',
      classifiedBy: 'rule',
      retryData: again.retryData,
    });
    const connAt = T0 + (N + 1) * 1000;
    const conn = await tx.errors.insertError({
      step: erp.key,
      occurredAt: connAt,
      source: 'connection',
      code: 'ECONNREFUSED',
      message: 'connect ECONNREFUSED 127.0.0.1:9',
      job: jobRow,
      classification: 'connection',
      classifiedBy: 'rule',
    });
    const lookupData = await tx.records.insertRetryData({ step: lookup.key, createdAt: T0, stage: 'page_processor_lookup', pgExportId: shop.stepId, data: { id: 'SO-1' } });
    await tx.errors.insertError({ step: lookup.key, occurredAt: T0, source: 'application', code: '503', message: 'CRM down', classification: 'intermittent', classifiedBy: 'rule', retryData: lookupData, job: jobRow });

    // Execution logs: records r0..r5 of page p1 through shop → lookup → ERP.
    const groupId = `${encodeId('job', jobRow, T0 - 5000)}-p1`;
    let started = T0;
    const entry = async (step: StepRow, recordId: string, traceKey: string | null, status: 'success' | 'error' | 'ignored', extra: { parent?: string; data?: Array<{ stage: string; data: unknown }> } = {}) =>
      tx.records.insertLogEntry({
        job: jobRow,
        step: step.key,
        recordId,
        groupId,
        parentRecordId: extra.parent ?? null,
        traceKey,
        status,
        stage: step.kind === 'export' ? 'page_generator' : step.kind === 'lookup' ? 'page_processor_lookup' : 'page_processor_import',
        startedAt: (started += 10),
        completedAt: started + 5,
        timeTaken: 5,
        ...(extra.data ? { data: extra.data } : {}),
      });
    for (let r = 0; r < 6; r++) {
      const rec = `${groupId}-r${r}`;
      const traceKey = `SO-${1000 + r}`;
      await entry(shop, rec, traceKey, 'success');
      await entry(lookup, `${rec}-s1`, traceKey, r === 5 ? 'ignored' : 'success');
      if (r < 5) {
        await entry(erp, `${rec}-s2`, traceKey, r % 2 ? 'error' : 'success', {
          data: [
            { stage: 'mapping', data: { input: { id: traceKey }, output: { orderNumber: traceKey } } },
            { stage: 'apiCall', data: { request: { method: 'POST', url: 'http://127.0.0.1:9/salesOrders' }, response: { statusCode: r % 2 ? 422 : 201 } } },
          ],
        });
      }
    }
    // Two records sharing one traceKey at the lookup step (a fan-out): duplicateTraceKey.
    await entry(shop, `${groupId}-d0`, 'DUP-1', 'success');
    await entry(lookup, `${groupId}-d0-s1`, 'DUP-1', 'success');
    await entry(lookup, `${groupId}-d1-s1`, 'DUP-1', 'error');
    // Children of the ERP entry of r0.
    await entry(erp, `${groupId}-r0-s2-c0`, 'SO-1000', 'success', { parent: `${groupId}-r0-s2` });
    await entry(erp, `${groupId}-r0-s2-c1`, 'SO-1000', 'error', { parent: `${groupId}-r0-s2` });
    await entry(erp, `${groupId}-r0-s2-c2`, 'SO-1000', 'ignored', { parent: `${groupId}-r0-s2` });
    // The same recordId at two steps, for findLogEntry's ambiguity.
    await entry(shop, `${groupId}-same`, null, 'success');
    await entry(lookup, `${groupId}-same`, null, 'success');

    // Another flow's job with a matching trace key must not show up in the ERP flow's search.
    const otherJob = await tx.jobs.insertJob({ type: 'flow', status: 'completed', flowId: otherFlow.id, createdAt: T0 });
    const [, warehouse] = (await tx.catalog.steps(otherFlow.id)) as [StepRow, StepRow];
    await tx.errors.insertError({ step: warehouse.key, occurredAt: T0, source: 'connection', code: 'ETIMEDOUT', message: 'timeout', traceKey: 'SO-1000', job: otherJob, classification: 'connection', classifiedBy: 'rule' });

    return { errors, jobRow, child, conn, connAt, lookupKey: encodeId('retryData', lookupData, T0), groupId };
  });
  const job = (await store.jobs.getJob(out.jobRow))!;
  fixture = {
    b,
    flow,
    shop,
    lookup,
    erp,
    job,
    jobId: encodeId('job', job.id, job.createdAt),
    errors: out.errors,
    connectionErrorId: encodeId('error', out.conn, out.connAt),
    lookupKey: out.lookupKey,
    groupId: out.groupId,
    otherFlow,
  };
  return fixture;
}

async function failure<T extends FlowdeckError>(promise: Promise<unknown>, type: abstract new (...args: never[]) => T): Promise<T> {
  try {
    await promise;
  } catch (e) {
    expect(e, (e as Error).message).toBeInstanceOf(type);
    return e as T;
  }
  throw new Error('expected a failure');
}

/** Everything the store holds that the operations under test could change. */
async function snapshotOf(f: Fixture): Promise<string> {
  const all = (sql: string) => storeRows(f.b.ws, sql);
  return JSON.stringify([
    await all('SELECT * FROM retry_data ORDER BY id'),
    await all('SELECT id, trace, resolved FROM errors ORDER BY id'),
    await all('SELECT id FROM traces ORDER BY id'),
    await all('SELECT count(*) AS n FROM audit'),
    await all('SELECT id, disabled_override FROM flows ORDER BY id'),
  ]);
}

async function audits(f: Fixture): Promise<Array<{ action: string; actor: string; count: number; step_id: string | null; detail: string | null }>> {
  const rows = await storeRows<{ action: string; actor: string; count: number; step_id: string | null; detail: string | null }>(f.b.ws, 'SELECT action, actor, count, step_id, detail FROM audit ORDER BY id');
  return rows.map((r) => ({ ...r, count: Number(r.count) })); // PostgreSQL's bigint arrives as a string
}

function expectShape(schema: string, value: unknown): void {
  expect(validateAgainst(schema, value)).toEqual([]);
  expect(undeclaredKeys(schema, value)).toEqual([]);
}

// ---- retry data ---------------------------------------------------------------------------------

describe('retry data', () => {
  it('get returns the FlowStepRetryData envelope, by retryDataKey or by errorId', async () => {
    const f = await seed();
    const e = f.errors[5]!;
    const env = await f.b.records.getRetryData(ERP_FLOW, 'ERP sales orders', e.retryDataKey);
    expectShape('FlowStepRetryData', env);
    expect(env).toEqual({
      retryDataKey: e.retryDataKey,
      data: { id: 'SO-1005', customer: { name: 'Customer 5', email: 'c5@@example', fax: '555' }, items: [{ sku: 'SKU-1', quantity: 6 }] },
      stage: 'page_processor_import',
      pgExportId: f.shop.stepId,
      oneToMany: false,
      traceKey: 'SO-1005',
      adaptorResponse: { statusCode: 422 },
    });
    // absent optionals are omitted, not null
    expect(Object.keys(env)).toEqual(['retryDataKey', 'data', 'stage', 'pgExportId', 'oneToMany', 'traceKey', 'adaptorResponse']);
    expect(await f.b.records.getRetryData(f.flow.id, f.erp.stepId, e.errorId)).toEqual(env);
  });

  it('an unknown key, another step\'s key or a connection-class error is no_retrydata_found (exit 1)', async () => {
    const f = await seed();
    const erp = 'ERP sales orders';
    for (const key of [encodeId('retryData', 999, T0), f.lookupKey, f.connectionErrorId, 'not-a-key', f.errors[0]!.retryDataKey.replace(/^.{8}/, '00000000')]) {
      const e = await failure(f.b.records.getRetryData(ERP_FLOW, erp, key), NoRetryDataError);
      expect(e.code).toBe('no_retrydata_found');
      expect(e.status).toBe(404);
      expect(e.exitCode).toBe(1);
      expect(e.message).toContain(key);
    }
    await failure(f.b.records.getRetryData('No such flow', erp, f.errors[0]!.retryDataKey), NotFoundError);
    await failure(f.b.records.getRetryData(ERP_FLOW, 'No such step', f.errors[0]!.retryDataKey), NotFoundError);
  });

  it('put replaces the whole envelope, audits it and leaves the error open', async () => {
    const f = await seed();
    const e = f.errors[2]!;
    const before = await f.b.records.getRetryData(ERP_FLOW, 'ERP sales orders', e.retryDataKey);
    // A full replace: an omitted optional is gone (traceKey and pgExportId are fixed, so they stay).
    const { adaptorResponse: _dropped, ...rest } = before;
    const next = { ...rest, data: { id: 'SO-1002', customer: { email: 'fixed@example.com' } }, childIndex: 2 };
    const saved = await f.b.records.putRetryData(ERP_FLOW, 'ERP sales orders', e.retryDataKey, next);
    expectShape('FlowStepRetryData', saved);
    expect(saved).toEqual({ ...next });
    expect(saved.adaptorResponse, 'an omitted field is gone: full replace').toBeUndefined();
    expect(await f.b.records.getRetryData(ERP_FLOW, 'ERP sales orders', e.retryDataKey)).toEqual(saved);
    const row = (await f.b.ws.store.records.getRetryData(e.retryData))!;
    expect(row.updatedAt).toBeGreaterThan(row.createdAt);
    expect((await f.b.ws.store.errors.getError(e.row))!.resolved).toBe(false);
    expect((await audits(f))).toEqual([
      { action: 'retry-data.put', actor: 'ops@acme.example', count: 1, step_id: f.erp.stepId, detail: JSON.stringify({ retryDataKey: e.retryDataKey }) },
    ]);
  });

  it('put refuses an envelope that does not fit, naming the field, and changes nothing', async () => {
    const f = await seed();
    const e = f.errors[3]!;
    const good = await f.b.records.getRetryData(ERP_FLOW, 'ERP sales orders', e.retryDataKey);
    const { data: _data, ...withoutData } = good;
    const cases: Array<[unknown, string, RegExp]> = [
      [[good], 'envelope', /must be a JSON object/],
      ['text', 'envelope', /must be a JSON object/],
      [withoutData, 'data', /"data" is required/],
      [{ ...good, retryDataKey: f.errors[4]!.retryDataKey }, 'retryDataKey', /does not match the stored snapshot/],
      [{ ...good, stage: 'page_generator' }, 'stage', /stage "page_generator" does not match .*"page_processor_import"/],
      [{ ...good, pgExportId: 'aaaaaaaaaaaaaaaaaaaaaaaa' }, 'pgExportId', /pgExportId "a{24}" does not match/],
      [{ ...good, pgExportId: undefined }, 'pgExportId', /pgExportId \(absent\) does not match/],
      [{ ...good, Data: 1 }, 'Data', /unknown field "Data"/],
      [{ ...good, childIndex: 1.5 }, 'childIndex', /^"childIndex" in the retry data envelope must be a whole number, not 1\.5$/],
      [{ ...good, stage: 7 }, 'stage', /^"stage" in the retry data envelope must be text, not 7 \(keep it as flowdeck retry-data get printed it\)$/],
      [{ ...good, adaptorResponse: [1] }, 'adaptorResponse', /^"adaptorResponse" in the retry data envelope must be an object, not a list$/],
      // in people's words, not the validator's ("expected string, received undefined")
      [{ ...good, retryDataKey: undefined }, 'retryDataKey', /^the retry data envelope needs "retryDataKey" \(keep it as flowdeck retry-data get printed it\)$/],
      [{ ...good, oneToMany: 'yes' }, 'oneToMany', /^"oneToMany" in the retry data envelope must be true or false, not text$/],
    ];
    const before = await snapshotOf(f);
    for (const [envelope, field, message] of cases) {
      const err = await failure(f.b.records.putRetryData(ERP_FLOW, 'ERP sales orders', e.retryDataKey, envelope), InvalidInputError);
      expect(err.field, err.message).toBe(field);
      expect(err.message).toMatch(message);
      expect(err.exitCode).toBe(2);
    }
    // and a valid envelope on a dry run
    await f.b.records.putRetryData(ERP_FLOW, 'ERP sales orders', e.retryDataKey, { ...good, data: { x: 1 } }, { dryRun: true });
    expect(await snapshotOf(f)).toBe(before);
  });

  it('patch --dry-run shows before/after per snapshot and changes nothing', async () => {
    const f = await seed();
    const before = await snapshotOf(f);
    const r = await f.b.records.patchRetryData(ERP_FLOW, 'ERP sales orders', { query: 'code:422' }, [{ op: 'set', path: '/data/customer/email', value: 'fixed@example.com' }], { dryRun: true });
    expect(await snapshotOf(f)).toBe(before);
    expect(r.dryRun).toBe(true);
    // 422 errors: the 20 seeded plus the one that failed again (on error 1's snapshot)
    expect(r.selected).toBe(21);
    expect(r.changed).toHaveLength(20);
    const shared = r.changed.find((c) => c.retryDataKey === f.errors[1]!.retryDataKey)!;
    expect(shared.errorIds).toHaveLength(2);
    for (const c of r.changed) {
      expect((c.before.data as { customer: { email: string } }).customer.email).not.toBe('fixed@example.com');
      expect(c.after).toEqual({ ...c.before, data: { ...(c.before.data as object), customer: { ...(c.before.data as { customer: object }).customer, email: 'fixed@example.com' } } });
      expectShape('FlowStepRetryData', c.after);
    }
  });

  it('patch applies one fix to every selected snapshot in one transaction, with one audit row', async () => {
    const f = await seed();
    const ops = [
      { op: 'set' as const, path: '/data/customer/email', value: 'fixed@example.com' },
      { op: 'unset' as const, path: '/data/customer/fax' },
    ];
    const r = await f.b.records.patchRetryData(ERP_FLOW, 'ERP sales orders', { all: true }, ops);
    expect(r.dryRun).toBe(false);
    expect(r.changed).toHaveLength(N);
    expect(r.skippedNoRetryData).toBe(1); // the connection-class error
    for (const e of f.errors) {
      const env = await f.b.records.getRetryData(ERP_FLOW, 'ERP sales orders', e.retryDataKey);
      expect((env.data as { customer: Record<string, unknown> }).customer.email).toBe('fixed@example.com');
      expect((env.data as { customer: Record<string, unknown> }).customer).not.toHaveProperty('fax');
    }
    const rows = (await audits(f));
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ action: 'retry-data.patch', count: N, step_id: f.erp.stepId });
    // the lookup step's snapshot is another step: untouched
    expect((await f.b.records.getRetryData(ERP_FLOW, 'CRM customer lookup', f.lookupKey)).data).toEqual({ id: 'SO-1' });
    // a second run finds nothing to change
    const again = await f.b.records.patchRetryData(ERP_FLOW, 'ERP sales orders', { all: true }, ops);
    expect(again.changed).toEqual([]);
    expect(again.unchanged).toHaveLength(N);
    expect((await audits(f))).toHaveLength(1);
  });

  it('patch leaves snapshots whose test does not hold, and is all-or-nothing when an op cannot apply', async () => {
    const f = await seed();
    const tested = await f.b.records.patchRetryData(
      ERP_FLOW,
      'ERP sales orders',
      { retryDataKeys: [f.errors[0]!.retryDataKey, f.errors[1]!.retryDataKey] },
      [
        { op: 'test', path: '/data/customer/email', value: 'c1@@example' },
        { op: 'replace', path: '/data/customer/email', value: 'c1@example.com' },
      ],
    );
    expect(tested.changed.map((c) => c.retryDataKey)).toEqual([f.errors[1]!.retryDataKey]);
    expect(tested.testFailed).toEqual([f.errors[0]!.retryDataKey]);

    const before = await snapshotOf(f);
    // only every fifth snapshot has a fax: replace fails on the others, so nothing may change
    const err = await failure(
      f.b.records.patchRetryData(ERP_FLOW, 'ERP sales orders', { all: true }, [{ op: 'replace', path: '/data/customer/fax', value: '556' }]),
      InvalidInputError,
    );
    expect(err.message).toMatch(/^retry data [0-9a-f]{24}: patch operation 0 \(replace \/data\/customer\/fax\): the path does not exist/);
    expect(await snapshotOf(f)).toBe(before);
  });

  it('patch refuses unknown keys, paths outside /data and an empty selection, changing nothing', async () => {
    const f = await seed();
    const before = await snapshotOf(f);
    const set = [{ op: 'set' as const, path: '/data/x', value: 1 }];
    await failure(f.b.records.patchRetryData(ERP_FLOW, 'ERP sales orders', { retryDataKeys: [f.errors[0]!.retryDataKey, encodeId('retryData', 999, T0)] }, set), NoRetryDataError);
    await failure(f.b.records.patchRetryData(ERP_FLOW, 'ERP sales orders', { retryDataKeys: [f.lookupKey] }, set), NoRetryDataError);
    await failure(f.b.records.patchRetryData(ERP_FLOW, 'ERP sales orders', { errorIds: [encodeId('error', 999, T0)] }, set), NotFoundError);
    expect((await failure(f.b.records.patchRetryData(ERP_FLOW, 'ERP sales orders', { all: true }, [{ op: 'set', path: '/stage', value: 'x' }]), InvalidInputError)).message).toMatch(
      /must be \/data or below it/,
    );
    expect((await failure(f.b.records.patchRetryData(ERP_FLOW, 'ERP sales orders', {}, set), InvalidInputError)).message).toMatch(/say which errors/);
    expect((await failure(f.b.records.patchRetryData(ERP_FLOW, 'ERP sales orders', { all: true }, []), InvalidInputError)).message).toMatch(/say what to change/);
    expect(await snapshotOf(f)).toBe(before);
  });
});

// ---- request traces -------------------------------------------------------------------------------

describe('request traces', () => {
  it('lists a step\'s traces newest first with statusCode as a string, paging until nextPageURL is null', async () => {
    const f = await seed();
    const first = await f.b.records.listRequests(ERP_FLOW, 'ERP sales orders');
    expectShape('FlowStepRequestsListResponse', first);
    expect(first.nextPageURL).toBeNull();
    expect(first.requests).toHaveLength(N);
    expect(first.requests[0]).toEqual({ key: f.errors[N - 1]!.reqAndResKey, time: T0 + (N - 1) * 1000 + ((N - 1) % 7) - 300, method: 'POST', statusCode: '422', stage: 'import' });
    expect(first.requests.map((r) => r.key)).toEqual([...f.errors].reverse().map((e) => e.reqAndResKey));

    // pages of 7, following nextPageURL's parameters: every trace exactly once, in order
    const seen: string[] = [];
    let params: Parameters<typeof f.b.records.listRequests>[2] = { pageSize: 7 };
    for (let pages = 0; ; pages++) {
      expect(pages).toBeLessThan(10);
      const page = await f.b.records.listRequests(ERP_FLOW, 'ERP sales orders', params);
      expectShape('FlowStepRequestsListResponse', page);
      seen.push(...page.requests.map((r) => r.key));
      if (page.nextPageURL === null) break;
      const q = new URL(page.nextPageURL, 'http://x').searchParams;
      expect(page.nextPageURL).toMatch(new RegExp(`^/v1/flows/${f.flow.id}/${f.erp.stepId}/requests\\?`));
      params = { pageSize: Number(q.get('pageSize')), timeLte: Number(q.get('time_lte')), before: q.get('before')! };
    }
    expect(seen).toEqual(first.requests.map((r) => r.key));
  });

  it('filters by status code, method (any case), stage and time window', async () => {
    const f = await seed();
    const list = (p: Parameters<typeof f.b.records.listRequests>[2]) => f.b.records.listRequests(ERP_FLOW, 'ERP sales orders', p).then((r) => r.requests);
    expect((await list({ statusCode: '429' })).map((r) => r.key)).toEqual(f.errors.filter((_, i) => i % 3 === 0).map((e) => e.reqAndResKey).reverse());
    expect((await list({ method: 'put' })).every((r) => r.method === 'PUT')).toBe(true);
    expect(await list({ method: 'put' })).toHaveLength(6);
    expect(await list({ stage: 'export' })).toEqual([]);
    const window = await list({ timeGt: T0 + 4000, timeLte: T0 + 9000 });
    expect(window.map((r) => r.key)).toEqual(f.errors.slice(5, 10).map((e) => e.reqAndResKey).reverse());
    expect(await f.b.records.listRequests(ERP_FLOW, 'CRM customer lookup')).toEqual({ requests: [], nextPageURL: null });

    expect((await failure(list({ statusCode: 'abc' }), InvalidInputError)).field).toBe('statusCode');
    const iso = await failure(list({ timeLte: '2026-11-01T00:00:00Z' as unknown as number }), InvalidInputError);
    expect(iso.code).toBe('invalid_or_missing_field');
    await failure(list({ method: 'GET /x' }), InvalidInputError);
    await failure(list({ pageSize: 0 }), InvalidInputError);
  });

  it('show decodes the stored request and response, by reqAndResKey or errorId; unknown keys are file_not_found', async () => {
    const f = await seed();
    const e = f.errors[0]!;
    const r = await f.b.records.getRequest(ERP_FLOW, 'ERP sales orders', e.reqAndResKey);
    expectShape('FlowStepRequestResponse', r);
    expect(r.key).toBe(e.reqAndResKey);
    expect(r.time).toBe(T0 - 300);
    expect(r.request).toMatchObject({ method: 'PUT', url: 'http://127.0.0.1:9/salesOrders', headers: { authorization: '********' } });
    expect(JSON.parse(r.request.body!)).toMatchObject({ id: 'SO-1000' });
    expect(r.response).toEqual({ statusCode: 429, headers: { 'content-type': 'application/json' }, body: '{"errors":[{"code":"invalid"}]}', receivedAt: T0 - 290 });
    expect(await f.b.records.getRequest(ERP_FLOW, 'ERP sales orders', e.errorId)).toEqual(r);
    for (const key of [encodeId('trace', 999, T0), f.connectionErrorId, 'zzz']) {
      const err = await failure(f.b.records.getRequest(ERP_FLOW, 'ERP sales orders', key), NotFoundError);
      expect(err.code).toBe('file_not_found');
    }
    await failure(f.b.records.getRequest(ERP_FLOW, 'CRM customer lookup', e.reqAndResKey), NotFoundError);
  });

  it('delete removes the named traces, reports unknown keys per key and clears the errors\' reqAndResKey', async () => {
    const f = await seed();
    const [a, b2] = [f.errors[0]!, f.errors[1]!];
    const unknown = encodeId('trace', 999, T0);
    const before = await snapshotOf(f);
    const preview = await f.b.records.deleteRequests(ERP_FLOW, 'ERP sales orders', [a.reqAndResKey, unknown], { dryRun: true });
    expect(await snapshotOf(f)).toBe(before);
    expect(preview.deleted).toEqual([a.reqAndResKey]);

    const r = await f.b.records.deleteRequests(ERP_FLOW, 'ERP sales orders', [a.reqAndResKey, b2.reqAndResKey, unknown, a.reqAndResKey]);
    expectShape('FlowStepRequestsDeleteResponse', r);
    expect(r.deleted).toEqual([a.reqAndResKey, b2.reqAndResKey]);
    expect(r.errors).toEqual([{ key: unknown, code: 'file_not_found', message: expect.stringContaining(unknown) }]);
    await failure(f.b.records.getRequest(ERP_FLOW, 'ERP sales orders', a.reqAndResKey), NotFoundError);
    expect((await f.b.ws.store.errors.getError(a.row))!.trace).toBeNull();
    expect((await f.b.ws.store.errors.getError(a.row))!.traceSeconds).toBeNull();
    const listed = await f.b.listErrors(ERP_FLOW, 'ERP sales orders', { limit: 1000 });
    expect(listed.errors.find((x) => x.errorId === a.errorId)).not.toHaveProperty('reqAndResKey');
    expect(listed.errors.find((x) => x.errorId === f.errors[2]!.errorId)).toHaveProperty('reqAndResKey', f.errors[2]!.reqAndResKey);
    expect((await audits(f))).toEqual([expect.objectContaining({ action: 'requests.delete', count: 2, step_id: f.erp.stepId })]);
    await failure(f.b.records.deleteRequests(ERP_FLOW, 'ERP sales orders', []), InvalidInputError);
  });
});

// ---- jobs and flows -------------------------------------------------------------------------------

describe('jobs search and flow state', () => {
  it('finds the flow\'s runs whose errors or log entries have a trace key with the prefix', async () => {
    const f = await seed();
    const r = await f.b.records.searchJobs(ERP_FLOW, 'SO-100');
    expectShape('FlowJobsSearchResponse', r);
    expect(r.runs).toEqual([{ _id: f.jobId, _flowId: f.flow.id, type: 'flow', status: 'completed', numSuccess: 0, numError: 0, numIgnore: 0 }]);
    // log entries alone are enough
    expect((await f.b.records.searchJobs(ERP_FLOW, 'DUP-')).runs.map((x) => x._id)).toEqual([f.jobId]);
    expect((await f.b.records.searchJobs(ERP_FLOW, 'SO-1000')).runs).toHaveLength(1);
    expect((await f.b.records.searchJobs(ERP_FLOW, 'ZZZ')).runs).toEqual([]);
    // the other flow's job had SO-1000 too
    expect((await f.b.records.searchJobs('Orders to warehouse', 'SO-1000')).runs.map((x) => x._flowId)).toEqual([f.otherFlow.id]);
    await failure(f.b.records.searchJobs(ERP_FLOW, ''), InvalidInputError);
  });

  it('disables and enables a flow, auditing only real changes', async () => {
    const f = await seed();
    expect((await f.b.records.setFlowDisabled(ERP_FLOW, true)).disabled).toBe(true);
    expect((await f.b.getFlow(ERP_FLOW)).disabled).toBe(true);
    await f.b.records.setFlowDisabled(ERP_FLOW, true);
    expect((await audits(f)).map((a) => a.action)).toEqual(['flow.disable']);
    expect((await f.b.records.setFlowDisabled(f.flow.id, false)).disabled).toBe(false);
    expect((await audits(f)).map((a) => a.action)).toEqual(['flow.disable', 'flow.enable']);
    await failure(f.b.records.setFlowDisabled('No such flow', true), NotFoundError);
  });
});

// ---- execution logs ---------------------------------------------------------------------------------

describe('execution logs', () => {
  it('lists a run\'s entries newest first, paging forward and back with nextPageUrl / prevPageUrl', async () => {
    const f = await seed();
    const all = await f.b.records.listLogs(ERP_FLOW, f.jobId, { pageSize: 1000 });
    expectShape('ExecutionLogsResponse', all);
    expect(all.nextPageUrl).toBeNull();
    expect(all.prevPageUrl).toBeNull();
    expect(all.logs).toHaveLength(6 * 2 + 5 + 3 + 3 + 2);
    const times = all.logs.map((l) => Date.parse(l.startedAt!));
    expect(times).toEqual([...times].sort((a, b) => b - a));
    expect(all.logs[all.logs.length - 1]).toEqual({
      startedAt: new Date(T0 + 10).toISOString(),
      recordId: `${f.groupId}-r0`,
      groupId: f.groupId,
      traceKey: 'SO-1000',
      _expOrImpId: f.shop.stepId,
      status: 'success',
      timeTaken: 5,
    });

    const cursor = (url: string, name: 'next' | 'prev') => new URL(url, 'http://x').searchParams.get(name)!;
    const pages: string[][] = [];
    let page = await f.b.records.listLogs(ERP_FLOW, f.jobId, { pageSize: 4 });
    expect(page.prevPageUrl).toBeNull();
    for (;;) {
      expectShape('ExecutionLogsResponse', page);
      pages.push(page.logs.map((l) => l.recordId + l._expOrImpId));
      if (!page.nextPageUrl) break;
      expect(page.nextPageUrl).toMatch(new RegExp(`^/v1/flows/${f.flow.id}/jobs/${f.jobId}/logs\\?`));
      page = await f.b.records.listLogs(ERP_FLOW, f.jobId, { pageSize: 4, next: cursor(page.nextPageUrl, 'next') });
    }
    expect(pages.flat()).toEqual(all.logs.map((l) => l.recordId + l._expOrImpId));
    // back from the last page, page by page, to the first, whose prevPageUrl is null
    for (let i = pages.length - 2; i >= 0; i--) {
      page = await f.b.records.listLogs(ERP_FLOW, f.jobId, { pageSize: 4, prev: cursor(page.prevPageUrl!, 'prev') });
      expect(page.logs.map((l) => l.recordId + l._expOrImpId)).toEqual(pages[i]);
      expect(page.nextPageUrl).not.toBeNull();
    }
    expect(page.prevPageUrl).toBeNull();
  });

  it('filters by status (ignore means the stored ignored), steps, trace-key prefix; sorts ascending', async () => {
    const f = await seed();
    const logs = (p: Parameters<typeof f.b.records.listLogs>[2]) => f.b.records.listLogs(ERP_FLOW, f.jobId, { pageSize: 1000, ...p }).then((r) => r.logs);
    const ignored = await logs({ status: 'ignore' });
    expect(ignored.map((l) => [l.recordId, l.status])).toEqual([
      [`${f.groupId}-r0-s2-c2`, 'ignored'],
      [`${f.groupId}-r5-s1`, 'ignored'],
    ]);
    expect(await logs({ status: 'ignored' })).toEqual(ignored);
    expect((await logs({ status: 'error' })).every((l) => l.status === 'error')).toBe(true);
    const erpOnly = await logs({ stepRefs: ['ERP sales orders'] });
    expect(erpOnly.every((l) => l._expOrImpId === f.erp.stepId)).toBe(true);
    expect(erpOnly).toHaveLength(8);
    expect(await logs({ stepRefs: [f.erp.stepId, 'Shop orders'] })).toHaveLength(8 + 8);
    expect((await logs({ traceKeyPrefix: 'DUP' })).map((l) => l.traceKey)).toEqual(['DUP-1', 'DUP-1', 'DUP-1']);
    const asc = await logs({ sortOrder: 'asc' });
    expect(asc).toEqual([...(await logs({}))].reverse());
    await failure(logs({ status: 'bogus' as never }), InvalidInputError);
    await failure(logs({ sortOrder: 'up' as never }), InvalidInputError);
    await failure(logs({ next: 'zzz' }), InvalidInputError);
    await failure(logs({ stepRefs: ['No such step'] }), NotFoundError);
  });

  it('names jobs by id; a child step job stands for its run; another flow\'s job is not found', async () => {
    const f = await seed();
    const child = (await f.b.ws.store.jobs.childJobs(f.job.id))[0]!;
    const viaChild = await f.b.records.listLogs(ERP_FLOW, encodeId('job', child.id, child.createdAt), { pageSize: 3 });
    expect(viaChild.logs).toEqual((await f.b.records.listLogs(ERP_FLOW, f.jobId, { pageSize: 3 })).logs);
    await failure(f.b.records.listLogs('Orders to warehouse', f.jobId), NotFoundError);
    await failure(f.b.records.listLogs(ERP_FLOW, encodeId('job', 999, T0)), NotFoundError);
    await failure(f.b.records.listLogs(ERP_FLOW, 'nope'), NotFoundError);
  });

  it('metadata: one step without a traceKey; the trace view across steps with one', async () => {
    const f = await seed();
    const q = { _expOrImpId: f.lookup.stepId, groupId: f.groupId, recordId: `${f.groupId}-r1-s1` };
    const single = await f.b.records.logMetadata(ERP_FLOW, f.jobId, q);
    expectShape('ExecutionLogMetadataResponse', single);
    expect(single).toMatchObject({ traceKey: 'SO-1001', traceView: false, duplicateTraceKey: false });
    expect(single.steps).toHaveLength(1);

    const view = await f.b.records.logMetadata(ERP_FLOW, f.jobId, { ...q, traceKey: 'SO-1001' });
    expectShape('ExecutionLogMetadataResponse', view);
    expect(view.traceView).toBe(true);
    expect(view.duplicateTraceKey).toBe(false);
    expect(view.steps.map((s) => [s._expOrImpId, s.recordId, s.status, s.stage])).toEqual([
      [f.shop.stepId, `${f.groupId}-r1`, 'success', 'page_generator'],
      [f.lookup.stepId, `${f.groupId}-r1-s1`, 'success', 'page_processor_lookup'],
      [f.erp.stepId, `${f.groupId}-r1-s2`, 'error', 'page_processor_import'],
    ]);
    for (const s of view.steps) expect(Date.parse(s.completedAt!) - Date.parse(s.startedAt!)).toBe(5);

    const dup = await f.b.records.logMetadata(ERP_FLOW, f.jobId, { _expOrImpId: 'CRM customer lookup', groupId: f.groupId, recordId: `${f.groupId}-d1-s1`, traceKey: 'DUP-1' });
    expect(dup.duplicateTraceKey).toBe(true);
    expect(dup.steps).toHaveLength(3);

    expect((await failure(f.b.records.logMetadata(ERP_FLOW, f.jobId, { ...q, traceKey: 'SO-1002' }), InvalidInputError)).field).toBe('traceKey');
    await failure(f.b.records.logMetadata(ERP_FLOW, f.jobId, { ...q, recordId: 'nope' }), NotFoundError);
    await failure(f.b.records.logMetadata(ERP_FLOW, f.jobId, { ...q, groupId: 'other-group' }), NotFoundError);
  });

  it('data: what a record\'s step logged at one stage', async () => {
    const f = await seed();
    const q = { _expOrImpId: f.erp.stepId, groupId: f.groupId, recordId: `${f.groupId}-r1-s2` };
    const api = await f.b.records.logData(ERP_FLOW, f.jobId, { ...q, stage: 'apiCall' });
    expectShape('ExecutionLogDataResponse', api);
    expect(api).toEqual({ logs: [{ log: { request: { method: 'POST', url: 'http://127.0.0.1:9/salesOrders' }, response: { statusCode: 422 } } }] });
    const mapping = await f.b.records.logData(ERP_FLOW, f.jobId, { ...q, stage: 'mapping' });
    expect(mapping.logs).toEqual([{ log: { input: { id: 'SO-1001' }, output: { orderNumber: 'SO-1001' } } }]);
    expect(await f.b.records.logData(ERP_FLOW, f.jobId, { ...q, stage: 'preMap' })).toEqual({ logs: [] });
    expect((await failure(f.b.records.logData(ERP_FLOW, f.jobId, { ...q, stage: 'bogus' }), InvalidInputError)).field).toBe('stage');
    await failure(f.b.records.logData(ERP_FLOW, f.jobId, { ...q, recordId: 'nope', stage: 'apiCall' }), NotFoundError);
  });

  it('children: the records a record spawned at its step, offset-paged, status as the children API spells it', async () => {
    const f = await seed();
    const parent = `${f.groupId}-r0-s2`;
    const all = await f.b.records.logChildren(ERP_FLOW, f.jobId, 'ERP sales orders', parent);
    expectShape('FlowJobLogChildrenResponse', all);
    expect(all.children.map((c) => [c.recordId, c.status])).toEqual([
      [`${parent}-c0`, 'success'],
      [`${parent}-c1`, 'error'],
      [`${parent}-c2`, 'ignore'],
    ]);
    expect(all.nextPageUrl).toBeNull();
    expect(all.prevPageUrl).toBeNull();
    const p1 = await f.b.records.logChildren(ERP_FLOW, f.jobId, 'ERP sales orders', parent, { pageSize: 2 });
    expect(p1.children).toHaveLength(2);
    expect(p1.prevPageUrl).toBeNull();
    const offset = Number(new URL(p1.nextPageUrl!, 'http://x').searchParams.get('offset'));
    const p2 = await f.b.records.logChildren(ERP_FLOW, f.jobId, 'ERP sales orders', parent, { pageSize: 2, offset });
    expect(p2.children.map((c) => c.recordId)).toEqual([`${parent}-c2`]);
    expect(p2.nextPageUrl).toBeNull();
    expect(p2.prevPageUrl).not.toBeNull();
    expect((await f.b.records.logChildren(ERP_FLOW, f.jobId, 'ERP sales orders', parent, { status: 'ignore' })).children.map((c) => c.recordId)).toEqual([`${parent}-c2`]);
    expect((await f.b.records.logChildren(ERP_FLOW, f.jobId, 'ERP sales orders', `${f.groupId}-r2-s2`)).children).toEqual([]);
    await failure(f.b.records.logChildren(ERP_FLOW, f.jobId, 'ERP sales orders', 'nope'), NotFoundError);
    await failure(f.b.records.logChildren(ERP_FLOW, f.jobId, 'ERP sales orders', parent, { offset: -1 }), InvalidInputError);
  });

  it('findLogEntry finds a record by id, and asks for the step when the id is at several', async () => {
    const f = await seed();
    const e = await f.b.records.findLogEntry(ERP_FLOW, f.jobId, `${f.groupId}-r3-s2`);
    expectShape('ExecutionLogEntry', e);
    expect(e).toMatchObject({ _expOrImpId: f.erp.stepId, traceKey: 'SO-1003', status: 'error' });
    expect((await failure(f.b.records.findLogEntry(ERP_FLOW, f.jobId, `${f.groupId}-same`), InvalidInputError)).message).toMatch(/"Shop orders", "CRM customer lookup"/);
    expect((await f.b.records.findLogEntry(ERP_FLOW, f.jobId, `${f.groupId}-same`, 'CRM customer lookup'))._expOrImpId).toBe(f.lookup.stepId);
    await failure(f.b.records.findLogEntry(ERP_FLOW, f.jobId, 'nope'), NotFoundError);
  });
});

// ---- CSV export -------------------------------------------------------------------------------------

/** RFC 4180 records (quoted fields may hold commas, quotes and newlines). */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += c;
  }
  if (field !== '' || row.length) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}

class Collect extends Writable {
  text = '';
  writes = 0;
  override _write(chunk: Buffer | string, _enc: BufferEncoding, cb: () => void): void {
    this.text += chunk.toString();
    this.writes++;
    cb();
  }
}

async function exportCsv(f: Fixture, step: string | undefined, options: CsvExportOptions = {}) {
  const out = new Collect();
  const progress: number[] = [];
  const result = await saveDownload(await f.b.records.exportErrors(ERP_FLOW, step, options), out, (n) => progress.push(n));
  return { text: out.text, rows: parseCsv(out.text), result, progress, writes: out.writes };
}

describe('CSV export', () => {
  it('writes the spec\'s header, even for a step without errors', async () => {
    const f = await seed();
    const empty = await exportCsv(f, 'Shop orders');
    expect(empty.text).toBe(`${specHeader(OPEN_SPEC_TEXT)}\n`);
    expect(empty.result.rows).toBe(0);
    const resolved = await exportCsv(f, 'ERP sales orders', { resolved: true });
    expect(resolved.text).toBe(`${specHeader(RESOLVED_SPEC_TEXT)}\n`);
  });

  it('writes one row per open error in ascending errorId order, with the listing\'s values', async () => {
    const f = await seed();
    const { rows, result, progress } = await exportCsv(f, 'ERP sales orders');
    const [header, ...body] = rows;
    expect(header!.join(',')).toBe(specHeader(OPEN_SPEC_TEXT));
    expect(result.rows).toBe(N + 2);
    expect(body).toHaveLength(N + 2);
    expect(progress[progress.length - 1]).toBe(N + 2);
    const col = (name: string) => header!.indexOf(name);
    const ids = body.map((r) => r[col('errorId')]!);
    expect(ids).toEqual([...ids].sort());

    const listed = new Map((await f.b.listErrors(ERP_FLOW, 'ERP sales orders', { limit: 1000 })).errors.map((e) => [e.errorId, e]));
    for (const r of body) {
      const e = listed.get(r[col('errorId')]!)!;
      expect(e, r[col('errorId')]).toBeDefined();
      expect(r).toEqual([
        e.occurredAt,
        e.source,
        e.code,
        e.message,
        e.traceKey ?? '',
        '',
        '',
        e.oIndex ?? '',
        e.retryDataKey ?? '',
        e.errorId,
        '',
        e.reqAndResKey ?? '',
        e.purgeAt ?? '',
        (e.tags ?? []).join(','),
        e.assignedTo ?? '',
        e.assignedBy ?? '',
        e._assignedToUserId ?? '',
      ]);
    }
    // the seeded specifics are really there
    const first = body[0]!;
    expect(first[col('tags')]).toBe('Investigating');
    expect(first[col('assignedTo')]).toBe('ana@acme.example');
    expect(first[col('_assignedToUserId')]).toMatch(/^[0-9a-f]{8}50[0-9a-f]{14}$/);
    expect(body[4]![col('message')]).toBe('Line one, "quoted"\nline two');
    const conn = body.find((r) => r[col('errorId')] === f.connectionErrorId)!;
    expect([conn[col('retryDataKey')], conn[col('reqAndResKey')], conn[col('purgeAt')]]).toEqual(['', '', '']);
  });

  it('resumes at startAtErrorId: ids before it are left out, the id itself is kept', async () => {
    const f = await seed();
    const start = f.errors[10]!.errorId;
    const { rows } = await exportCsv(f, 'ERP sales orders', { startAtErrorId: start });
    const ids = rows.slice(1).map((r) => r[9]!);
    expect(ids[0]).toBe(start);
    expect(ids).toHaveLength(N + 2 - 10);
    expect(ids.every((id) => id >= start)).toBe(true);
    // after the last error: only the header
    const last = (await exportCsv(f, 'ERP sales orders', { startAtErrorId: encodeId('error', 10_000, T0 + 100 * DAY) })).rows;
    expect(last).toHaveLength(1);
  });

  it('filters with the query language (plain columns, a tag driver, a text driver)', async () => {
    const f = await seed();
    const codes = (await exportCsv(f, 'ERP sales orders', { query: 'code:429' })).rows.slice(1);
    expect(codes).toHaveLength(10);
    expect(codes.every((r) => r[2] === '429')).toBe(true);
    const tagged = (await exportCsv(f, 'ERP sales orders', { query: 'tag:Investigating' })).rows.slice(1);
    expect(tagged.map((r) => r[9])).toEqual(f.errors.filter((_, i) => i % 4 === 0).map((e) => e.errorId));
    const text = (await exportCsv(f, 'ERP sales orders', { query: '"quoted"' })).rows.slice(1);
    expect(text.map((r) => r[9])).toEqual([f.errors[4]!.errorId]);
    const combined = (await exportCsv(f, 'ERP sales orders', { query: 'tag:Investigating code:422', startAtErrorId: f.errors[5]!.errorId })).rows.slice(1);
    expect(combined.map((r) => r[9])).toEqual(f.errors.filter((_, i) => i >= 5 && i % 4 === 0 && i % 3 !== 0).map((e) => e.errorId));
  });

  it('exports resolved errors with resolvedAt and resolvedBy first', async () => {
    const f = await seed();
    const picked = [f.errors[3]!.errorId, f.errors[8]!.errorId];
    await f.b.triage.resolve(ERP_FLOW, 'ERP sales orders', { errorIds: picked });
    const { rows } = await exportCsv(f, 'ERP sales orders', { resolved: true });
    expect(rows[0]!.join(',')).toBe(specHeader(RESOLVED_SPEC_TEXT));
    expect(rows.slice(1).map((r) => r[11])).toEqual(picked);
    for (const r of rows.slice(1)) {
      expect(new Date(r[0]!).toISOString()).toBe(r[0]);
      expect(r[1]).toBe('ops@acme.example');
    }
    expect((await exportCsv(f, 'ERP sales orders')).rows).toHaveLength(1 + N + 2 - 2);
  });

  it('exports a whole flow with the step id first, every step in turn', async () => {
    const f = await seed();
    const { rows } = await exportCsv(f, undefined);
    expect(rows[0]!.join(',')).toBe(`_expOrImpId,${specHeader(OPEN_SPEC_TEXT)}`);
    const body = rows.slice(1);
    expect(body.map((r) => r[0])).toEqual([f.lookup.stepId, ...Array(N + 2).fill(f.erp.stepId)]);
    expect(body.slice(1).map((r) => r[10])).toEqual((await exportCsv(f, 'ERP sales orders')).rows.slice(1).map((r) => r[9]));
  });

  it('refuses bad input before answering a download (nothing to write)', async () => {
    const f = await seed();
    for (const [options, step] of [
      [{ startAtErrorId: 'zzz' }, 'ERP sales orders'],
      [{ startAtErrorId: f.errors[0]!.retryDataKey }, 'ERP sales orders'],
      [{ query: 'tag:NoSuchTag' }, 'ERP sales orders'],
      [{ query: 'bogusfield:1' }, 'ERP sales orders'],
    ] as const) {
      await failure(f.b.records.exportErrors(ERP_FLOW, step, options), InvalidInputError);
    }
    await failure(f.b.records.exportErrors(ERP_FLOW, 'No such step', {}), NotFoundError);
    await failure(f.b.records.exportErrors('No such flow', undefined, {}), NotFoundError);
  });

  it('respects a slow destination\'s backpressure and batches its writes', async () => {
    const f = await seed();
    const many = 5000;
    await f.b.ws.store.withTransaction(async (tx) => {
      for (let i = 0; i < many; i++) {
        await tx.errors.insertError({ step: f.erp.key, occurredAt: T0 + DAY + i, source: 'application', code: '500', message: `bulk ${i} ${'x'.repeat(80)}`, classification: 'value', classifiedBy: 'rule' });
      }
    });
    let pendingMax = 0;
    let writes = 0;
    let bytes = 0;
    const slow = new Writable({
      highWaterMark: 4096,
      write(chunk: Buffer, _enc, cb) {
        writes++;
        bytes += chunk.length;
        setTimeout(cb, 1);
      },
    });
    const watch = setInterval(() => (pendingMax = Math.max(pendingMax, slow.writableLength)), 0);
    const result = await saveDownload(await f.b.records.exportErrors(ERP_FLOW, 'ERP sales orders', {}), slow);
    clearInterval(watch);
    pendingMax = Math.max(pendingMax, slow.writableLength);
    await new Promise<void>((resolve) => slow.end(resolve));
    expect(result.rows).toBe(N + 2 + many);
    // batched: far fewer writes than rows, and never more than a batch waiting beyond the high-water mark
    expect(writes).toBeLessThan(result.rows / 20);
    expect(pendingMax).toBeLessThan(4096 + 64 * 1024);
    expect(bytes).toBeGreaterThan(many * 100);
  });
});

// ---- ids ------------------------------------------------------------------------------------------------

describe('keys', () => {
  it('the fixture\'s keys decode to their rows (sanity for the expectations above)', async () => {
    const f = await seed();
    const e = f.errors[0]!;
    expect(decodeId('retryData', e.retryDataKey)?.rowId).toBe(e.retryData);
    expect(decodeId('trace', e.reqAndResKey)?.rowId).toBe(e.trace);
    expect(decodeId('error', e.errorId)?.rowId).toBe(e.row);
  });
});

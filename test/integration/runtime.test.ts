import { afterEach, describe, expect, it } from 'vitest';
import type { JobDetail } from '../../src/backend/contract/index.js';
import type { LocalBackend } from '../../src/backend/local-backend.js';
import type { FlowStepError, Job } from '../../src/domain/api.js';
import { decodeId, definitionId } from '../../src/domain/ids.js';
import { MASK } from '../../src/domain/mask.js';
import { applyMapping } from '../../src/flows/template.js';
import { validateSalesOrder, type ShopOrder } from '../../src/mocks/systems.js';
import { DEMO_FLOWS_YAML } from '../../src/workspace/demo.js';
import { undeclaredKeys, validateAgainst } from '../helpers/spec.js';
import { runFlowToEnd } from '../helpers/jobs.js';
import { storeValue } from '../helpers/store-sql.js';
import { openBackend, tempHome, withTimeout, writeFlowFile } from '../helpers/workspace.js';

// The embedded runtime against the built-in mock systems (real HTTP on 127.0.0.1, a real SQLite
// file): every way the mocks fail must land as an open error classified the way the API does.

// The demo's flows, with the legacy archive timing out after 300 ms (the demo waits longer).
const FLOWS_YAML = withTimeout(DEMO_FLOWS_YAML, 'Legacy archive', 300);

const ERP_FLOW = 'Shop orders to ERP';
const CRM_FLOW = 'Shop customers to CRM';
const WAREHOUSE_FLOW = 'Orders to warehouse';

let backend: LocalBackend | undefined;
const cleanups: Array<() => void> = [];

afterEach(async () => {
  await backend?.close();
  backend = undefined;
  while (cleanups.length) cleanups.pop()!();
});

async function demoBackend(): Promise<LocalBackend> {
  const t = tempHome();
  cleanups.push(t.cleanup);
  writeFlowFile(t.home, 'flows.yaml', FLOWS_YAML);
  backend = await openBackend(t.home, { ...process.env, FLOWDECK_USER: 'runner@acme.example' });
  backend.ws.config.set('demo', true);
  backend.ws.config.set('secrets', { shopApiKey: 'shop_test_key_5f1e2d3c4b5a', erpToken: 'erp_test_token_0a9b8c7d6e5f4a3b' });
  await backend.runtime.start();
  return backend;
}

async function shopOrders(b: LocalBackend): Promise<ShopOrder[]> {
  const res = await fetch(`${b.runtime.mockSystems!.urls.shop}/orders?page=1&pageSize=200`, { headers: { 'x-api-key': 'any' } });
  const body = (await res.json()) as { orders: ShopOrder[]; total: number };
  expect(body.orders).toHaveLength(body.total);
  return body.orders;
}

/** Every open error of a step, walking the pages newest first; checks each page's shape on the way. */
async function allErrors(b: LocalBackend, flow: string, step: string): Promise<FlowStepError[]> {
  const out: FlowStepError[] = [];
  let before: string | undefined;
  for (;;) {
    const page = await b.listErrors(flow, step, { limit: 1000, ...(before ? { before } : {}) });
    expect(validateAgainst('FlowStepErrorsResponse', page)).toEqual([]);
    expect(undeclaredKeys('FlowStepErrorsResponse', page)).toEqual([]);
    for (const e of page.errors) {
      expect(validateAgainst('FlowStepError', e)).toEqual([]);
      expect(undeclaredKeys('FlowStepError', e)).toEqual([]);
    }
    out.push(...page.errors);
    if (!page.nextPageURL) break;
    before = page.errors.at(-1)!.errorId;
  }
  // newest first: error ids sort by time, then row id
  expect(out.map((e) => e.errorId)).toEqual(out.map((e) => e.errorId).sort().reverse());
  return out;
}

function jobOnly(job: JobDetail): Job {
  const { children: _children, note: _note, ...rest } = job;
  return rest;
}

function expectJobShape(job: Job): void {
  expect(validateAgainst('Job', job)).toEqual([]);
  expect(undeclaredKeys('Job', job)).toEqual([]);
}

/** Checks the flow job's counters against its children and the errors that carry its id. */
async function expectConsistentJob(b: LocalBackend, job: JobDetail, flow: string): Promise<void> {
  expect(job.type).toBe('flow');
  expect(job.status).toBe('completed');
  expectJobShape(jobOnly(job));
  for (const child of job.children) expectJobShape(child);
  expect(job.numSuccess! + job.numError!).toBe(job.numExport);
  expect(job.doneExporting).toBe(true);
  expect(Date.parse(job.endedAt!)).toBeGreaterThanOrEqual(Date.parse(job.startedAt!));

  const info = await b.getFlow(flow);
  expect(job.children.map((c) => c._expOrImpId)).toEqual(info.steps.map((s) => s._id));
  let open = 0;
  for (const [i, step] of info.steps.entries()) {
    const child = job.children[i]!;
    expect(child._flowJobId).toBe(job._id);
    expect(child._parentJobId).toBe(job._id);
    expect(child.status).toBe('completed');
    expect(child.type).toBe(step.type === 'import' ? 'import' : 'export');
    const errors = (await allErrors(b, flow, step._id)).filter((e) => e._flowJobId === job._id);
    expect(child.numOpenError).toBe(errors.length);
    if (step.type !== 'export') expect(child.numError).toBe(errors.length);
    open += errors.length;
  }
  expect(job.numOpenError).toBe(open);
  expect(job.children[0]!.numExport).toBe(job.numExport);

  // what the backend lists and shows is the same job
  expect(await b.getJob(job._id)).toEqual(job);
  const listed = await b.listJobs({ flowRef: flow });
  expect(listed[0]).toEqual(jobOnly(job));
  listed.forEach(expectJobShape);
}

describe('runtime: failures of the mock systems become classified open errors', () => {
  it('ERP rejections: 422 invalid value → value, missing email → missing, with body, snapshot and masked trace', async () => {
    const b = await demoBackend();
    b.runtime.mockSystems!.erp.setRateLimit(Infinity);
    b.runtime.mockSystems!.crm.setFailureRate(0);
    const orders = await shopOrders(b);

    // The ERP's own validator over what the import's mapping sends is the oracle.
    const mapping = b.ws.catalog().imports.get(definitionId('import', 'ERP sales orders'))!.def.mapping;
    const expected = new Map<string, ReturnType<typeof validateSalesOrder>>();
    for (const order of orders) {
      const mapped = applyMapping(mapping, order);
      expect(mapped.ok).toBe(true);
      const problems = validateSalesOrder(mapped.ok ? mapped.value : undefined);
      if (problems.length > 0) expected.set(order.id, problems);
    }
    const kinds = [...expected.values()].flat().map((p) => `${p.code}:${p.field}`);
    expect(kinds).toContain('invalid_email:email');
    expect(kinds).toContain('missing_required_field:email');

    const job = await runFlowToEnd(b, ERP_FLOW);
    expect(job.numExport).toBe(orders.length);
    expect(job.numError).toBe(expected.size);
    expect(job.numSuccess).toBe(orders.length - expected.size);
    expect(job.numPagesGenerated).toBe(Math.ceil(orders.length / 50));
    expect(b.runtime.mockSystems!.erp.created()).toBe(orders.length - expected.size);
    await expectConsistentJob(b, job, ERP_FLOW);

    expect(await allErrors(b, ERP_FLOW, 'CRM customer lookup')).toEqual([]);
    const errors = await allErrors(b, ERP_FLOW, 'ERP sales orders');
    expect(new Set(errors.map((e) => e.traceKey))).toEqual(new Set(expected.keys()));
    expect(errors).toHaveLength(expected.size);

    const byClass = { value: 0, missing: 0 };
    for (const e of errors) {
      const problems = expected.get(e.traceKey!)!;
      const classification = problems.some((p) => p.code === 'missing_required_field') ? 'missing' : 'value';
      byClass[classification]++;
      expect(e).toMatchObject({ source: 'application', code: '422', classification, classifiedBy: 'rule', _flowJobId: job._id });
      expect(e.message).toBe(JSON.stringify({ errors: problems }));
      expect(e.retryDataKey).toBeDefined();
      expect(e.reqAndResKey).toBeDefined();
      expect(e.retryAt).toBeUndefined();
      expect(e.tags).toEqual([]);
      // oIndex: the record's index in its page of 50
      expect(Number(e.oIndex)).toBe(orders.findIndex((o) => o.id === e.traceKey) % 50);
      expect(Date.parse(e.purgeAt!) - Date.parse(e.occurredAt)).toBe(30 * 24 * 3600 * 1000);
    }
    expect(byClass.value).toBeGreaterThan(0);
    expect(byClass.missing).toBeGreaterThan(0);

    const facets = await b.errorFacets(ERP_FLOW, 'ERP sales orders', 'classification');
    expect(Object.fromEntries(facets.map((f) => [f.value, f.count]))).toEqual(
      Object.fromEntries(Object.entries(byClass).filter(([, n]) => n > 0)),
    );
    expect(facets[0]!.count).toBeGreaterThanOrEqual(facets.at(-1)!.count);
    expect(await b.errorFacets(ERP_FLOW, 'ERP sales orders', 'source')).toEqual([{ value: 'application', count: errors.length }]);

    // The invalid-email error in depth: its snapshot is the enriched record, its trace is masked.
    const invalidEmail = errors.find((e) => expected.get(e.traceKey!)!.some((p) => p.code === 'invalid_email'))!;
    expect(invalidEmail.classification).toBe('value');
    const store = b.ws.store;
    const retry = (await store.records.getRetryData(decodeId('retryData', invalidEmail.retryDataKey!)!.rowId))!;
    const snapshot = JSON.parse(retry.data);
    expect(snapshot.id).toBe(invalidEmail.traceKey);
    expect(['gold', 'silver', 'bronze']).toContain(snapshot.customer.tier);
    expect(retry.stage).toBe('page_processor_import');
    expect(retry.pgExportId).toBe(definitionId('export', 'Shop orders'));
    expect(JSON.parse(retry.adaptorResponse!)).toEqual({ statusCode: 422 });

    const trace = (await store.records.getTrace(decodeId('trace', invalidEmail.reqAndResKey!)!.rowId))!;
    const request = JSON.parse(trace.request);
    const response = JSON.parse(trace.response);
    expect(trace.statusCode).toBe(422);
    expect(request.method).toBe('POST');
    expect(request.url).toBe(`${b.runtime.mockSystems!.urls.erp}/salesOrders`);
    expect(request.headers.authorization).toBe(MASK);
    expect(JSON.parse(request.body).orderNumber).toBe(invalidEmail.traceKey);
    expect(response.statusCode).toBe(422);
    expect(JSON.parse(response.body)).toEqual(JSON.parse(invalidEmail.message));

    const summary = await b.flowErrors(ERP_FLOW);
    expect(validateAgainst('FlowErrorsResponse', summary)).toEqual([]);
    expect(summary.flowErrors).toEqual([
      { _expOrImpId: definitionId('export', 'Shop orders'), numError: 0 },
      { _expOrImpId: definitionId('export', 'CRM customer lookup'), numError: 0 },
      { _expOrImpId: definitionId('import', 'ERP sales orders'), numError: errors.length, lastErrorAt: errors[0]!.occurredAt },
    ]);
  });

  it('ERP 429 → rate_limit and CRM 503 → intermittent, both due for retry after their back-off', async () => {
    const b = await demoBackend();
    // A limit of 0 answers every order 429: how many pass a real limit would depend on the machine's speed.
    b.runtime.mockSystems!.erp.setRateLimit(0);
    b.runtime.mockSystems!.crm.setFailureRate(0.3);
    const job = await runFlowToEnd(b, ERP_FLOW);
    await expectConsistentJob(b, job, ERP_FLOW);

    const erp = await allErrors(b, ERP_FLOW, 'ERP sales orders');
    const limited = erp.filter((e) => e.code === '429');
    expect(limited.length).toBeGreaterThan(0);
    // nothing gets past the limit, and nothing else fails at the ERP
    expect(erp.every((e) => e.code === '429')).toBe(true);
    for (const e of limited) {
      expect(e).toMatchObject({ classification: 'rate_limit', source: 'application' });
      expect(JSON.parse(e.message)).toEqual({ errors: [{ code: 'rate_limited', message: 'Too many requests, retry after 1 second' }] });
      expect(e.retryDataKey).toBeDefined();
      // ERP policy: intervalSeconds 2 with 20 % jitter; Retry-After (1 s) asks for less
      const wait = Date.parse(e.retryAt!) - Date.parse(e.occurredAt);
      expect(wait).toBeGreaterThanOrEqual(1600);
      expect(wait).toBeLessThanOrEqual(2000);
    }

    const crm = await allErrors(b, ERP_FLOW, 'CRM customer lookup');
    expect(crm.length).toBeGreaterThan(0);
    for (const e of crm) {
      expect(e).toMatchObject({ classification: 'intermittent', source: 'application', code: '503' });
      expect(JSON.parse(e.message).errors[0].code).toBe('service_unavailable');
      expect(e.retryDataKey).toBeDefined();
      // lookup policy: intervalSeconds 5 with 20 % jitter
      const wait = Date.parse(e.retryAt!) - Date.parse(e.occurredAt);
      expect(wait).toBeGreaterThanOrEqual(4000);
      expect(wait).toBeLessThanOrEqual(5000);
    }
    // a record stopped by the lookup never reached the ERP
    const crmKeys = new Set(crm.map((e) => e.traceKey));
    expect(erp.filter((e) => crmKeys.has(e.traceKey))).toEqual([]);
    expect(job.numError).toBe(crm.length + erp.length);

    const facets = Object.fromEntries((await b.errorFacets(ERP_FLOW, 'ERP sales orders', 'code')).map((f) => [f.value, f.count]));
    expect(facets['429']).toBe(limited.length);
  });

  it('CRM contacts: a missing required mapping field → missing from the mapping, before any HTTP', async () => {
    const b = await demoBackend();
    b.runtime.mockSystems!.crm.setFailureRate(0.3);
    const orders = await shopOrders(b);
    const noEmail = orders.filter((o) => !o.customer.email).map((o) => o.id);
    expect(noEmail.length).toBeGreaterThan(0);

    const job = await runFlowToEnd(b, CRM_FLOW);
    await expectConsistentJob(b, job, CRM_FLOW);
    const errors = await allErrors(b, CRM_FLOW, 'CRM contacts');
    const mapping = errors.filter((e) => e.source === 'mapping');
    expect(mapping.map((e) => e.traceKey).sort()).toEqual(noEmail.sort());
    for (const e of mapping) {
      expect(e).toMatchObject({
        classification: 'missing',
        code: 'missing_required_field',
        message: 'Mapping failed at email: customer.email is required but missing in the record',
      });
      expect(e.retryDataKey).toBeDefined();
      expect(e.reqAndResKey).toBeUndefined();
      expect(e.retryAt).toBeUndefined();
    }
    const unavailable = errors.filter((e) => e.source !== 'mapping');
    expect(unavailable.length).toBeGreaterThan(0);
    for (const e of unavailable) {
      expect(e).toMatchObject({ classification: 'intermittent', source: 'application', code: '503' });
      const wait = Date.parse(e.retryAt!) - Date.parse(e.occurredAt);
      expect(wait).toBeGreaterThanOrEqual(8000);
      expect(wait).toBeLessThanOrEqual(10_000);
    }
    const sources = Object.fromEntries((await b.errorFacets(CRM_FLOW, 'CRM contacts', 'source')).map((f) => [f.value, f.count]));
    expect(sources).toEqual({ mapping: mapping.length, application: unavailable.length });
  });

  it('a system that is down → ECONNREFUSED and one that is slow → ETIMEDOUT: connection, no snapshot', async () => {
    const b = await demoBackend();
    const job = await runFlowToEnd(b, WAREHOUSE_FLOW);
    await expectConsistentJob(b, job, WAREHOUSE_FLOW);
    expect(job.numExport).toBe(25);
    expect(job.numError).toBe(25);
    expect(job.numSuccess).toBe(0);

    const down = await allErrors(b, WAREHOUSE_FLOW, 'Warehouse shipments');
    expect(down).toHaveLength(25);
    const downOrigin = b.runtime.mockSystems!.urls.down;
    for (const e of down) {
      expect(e).toMatchObject({ classification: 'connection', source: 'connection', code: 'ECONNREFUSED' });
      expect(e.message).toContain('ECONNREFUSED');
      expect(e.message).toContain(downOrigin);
      expect(e.retryDataKey).toBeUndefined();
      expect(e.retryAt).toBeUndefined();
    }
    // proceedOnFailure: every record still went on to the legacy archive, which timed out
    const slow = await allErrors(b, WAREHOUSE_FLOW, 'Legacy order archive');
    expect(slow).toHaveLength(25);
    for (const e of slow) {
      expect(e).toMatchObject({
        classification: 'connection',
        source: 'connection',
        code: 'ETIMEDOUT',
        message: 'Request timed out after 300 ms waiting for a response',
      });
      expect(e.retryDataKey).toBeUndefined();
      expect(e.retryAt).toBeUndefined();
    }
    expect(new Set(slow.map((e) => e.traceKey))).toEqual(new Set(down.map((e) => e.traceKey)));
    expect(job.numOpenError).toBe(50);
    expect(Number(await storeValue(b.ws, 'SELECT count(*) FROM retry_data'))).toBe(0);
  });

  it('pages a listing with nextPageURL, newest first, without overlap', async () => {
    const b = await demoBackend();
    await runFlowToEnd(b, WAREHOUSE_FLOW);
    const all = await allErrors(b, WAREHOUSE_FLOW, 'Warehouse shipments');
    const seen: string[] = [];
    let before: string | undefined;
    for (let pages = 0; pages < 10; pages++) {
      const page = await b.listErrors(WAREHOUSE_FLOW, 'Warehouse shipments', { limit: 7, ...(before ? { before } : {}) });
      seen.push(...page.errors.map((e) => e.errorId));
      if (!page.nextPageURL) break;
      const url = new URL(page.nextPageURL, 'http://x');
      expect(url.pathname).toBe(`/v1/flows/${definitionId('flow', WAREHOUSE_FLOW)}/${definitionId('import', 'Warehouse shipments')}/errors`);
      expect(url.searchParams.get('pageSize')).toBe('7');
      before = url.searchParams.get('before')!;
      expect(before).toBe(page.errors.at(-1)!.errorId);
    }
    expect(seen).toEqual(all.map((e) => e.errorId));
    expect(seen).toHaveLength(25);
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalBackend } from '../../src/backend/local-backend.js';
import { classifyFailure } from '../../src/domain/classify.js';
import { ftsStepToken } from '../../src/store/sqlite/error-query.js';
import { idSeconds } from '../../src/domain/ids.js';
import { DEMO_FLOWS_YAML } from '../../src/workspace/demo.js';
import { seedDemoWorkspace } from '../../src/workspace/demo.js';
import { generateErrors, generateStepErrors } from '../../src/workspace/generate.js';
import { LocalBackend as Local } from '../../src/backend/local-backend.js';
import { Workspace } from '../../src/workspace/workspace.js';
import { tempHome, writeFlowFile, type TempHome } from '../helpers/workspace.js';
import { storeRows, storeValue } from '../helpers/store-sql.js';
import { testStore } from '../helpers/store.js';

// The generated workspace must look exactly like one the recorder filled: every invariant the
// store keeps for a recorded error holds for a generated one, and the classification of each
// generated failure is what the product's classifier says about its trace.

let tmp: TempHome;
let backend: LocalBackend;
const N = 3000;

beforeAll(async () => {
  tmp = tempHome('flowdeck-generate-');
  const ws = await seedDemoWorkspace(tmp.home, { ...process.env, FLOWDECK_USER: 'ana.lima@acme.example' });
  const progress: number[] = [];
  const result = await generateErrors(ws, N, { seed: 7, onProgress: (done) => progress.push(done) });
  expect(result.errors).toBe(N);
  expect(progress[progress.length - 1]).toBe(N);
  // A second call appends after the first, still in time order.
  await generateErrors(ws, 500, { seed: 8 });
  backend = new Local(ws);
});

afterAll(async () => {
  await backend?.close();
  tmp?.cleanup();
});

/** One number from the store (PostgreSQL's bigint counts and sums arrive as strings). */
const one = async (sql: string, ...params: unknown[]) => Number(await storeValue(backend.ws, sql, params));
const column = async (sql: string) => (await storeRows(backend.ws, sql)).map((r) => Object.values(r)[0]);

describe('generateErrors', () => {
  it('writes open errors whose ids ascend with their time, over the last 30 days', async () => {
    expect(await one('SELECT count(*) FROM errors WHERE resolved = false')).toBe(N + 500);
    expect(await one('SELECT count(*) FROM (SELECT occurred_at, lag(occurred_at) OVER (ORDER BY id) AS prev FROM errors) AS w WHERE occurred_at < prev')).toBe(0);
    const oldest = await one('SELECT min(occurred_at) FROM errors');
    expect(Date.now() - oldest).toBeLessThanOrEqual(30 * 24 * 3600 * 1000 + 60_000);
    expect(Date.now() - oldest).toBeGreaterThan(25 * 24 * 3600 * 1000);
  });

  it('keeps errors_fts and error_tags in sync with the errors, as insertError does', async () => {
    if (testStore() === 'sqlite') {
      // SQLite's FTS5 index (PostgreSQL searches the errors table itself)
      expect(await one('SELECT count(*) FROM errors_fts')).toBe(N + 500);
      // Each FTS row carries its step's token, as insertError writes it (searches are per step).
      for (const step of (await column('SELECT DISTINCT step FROM errors')) as number[]) {
        expect(await one(`SELECT count(*) FROM errors_fts WHERE errors_fts MATCH ?`, `step : "${ftsStepToken(step)}"`)).toBe(await one('SELECT count(*) FROM errors WHERE step = ?', step));
      }
    }
    const arrayLength = testStore() === 'postgres' ? 'jsonb_array_length' : 'json_array_length';
    expect(await one('SELECT count(*) FROM error_tags')).toBe(await one(`SELECT sum(${arrayLength}(tags)) FROM errors WHERE tags IS NOT NULL`));
    expect(await one('SELECT count(*) FROM error_tags t JOIN errors e ON e.id = t.error WHERE t.step <> e.step OR t.resolved <> e.resolved')).toBe(0);
    const tagged = await one('SELECT count(*) FROM errors WHERE tags IS NOT NULL') / (N + 500);
    const assigned = await one('SELECT count(*) FROM errors WHERE assignee IS NOT NULL AND assigned_by IS NOT NULL AND assignee_user IS NOT NULL') / (N + 500);
    expect(tagged).toBeGreaterThan(0.15);
    expect(tagged).toBeLessThan(0.25);
    expect(assigned).toBeGreaterThan(0.25);
    expect(assigned).toBeLessThan(0.35);
  });

  it('spreads over the demo steps with the variety of real failures', async () => {
    const steps = await column('SELECT DISTINCT step FROM errors');
    expect(steps.length).toBe(8);
    const codes = new Set(await column('SELECT DISTINCT code FROM errors'));
    for (const code of ['422', '429', '503', '409', '404', 'ECONNREFUSED', 'ETIMEDOUT', 'missing_required_field']) expect(codes).toContain(code);
    expect(await one('SELECT count(DISTINCT message) FROM errors')).toBeGreaterThan(N / 10);
    expect(await one('SELECT count(DISTINCT job) FROM errors')).toBeGreaterThan(30);
  });

  it('gives every non-connection error a snapshot and retryAt to the automatically retried', async () => {
    expect(await one(`SELECT count(*) FROM errors WHERE classification = 'connection' AND retry_data IS NOT NULL`)).toBe(0);
    expect(await one(`SELECT count(*) FROM errors WHERE classification <> 'connection' AND retry_data IS NULL`)).toBe(0);
    expect(await one(`SELECT count(*) FROM errors WHERE classification IN ('intermittent', 'rate_limit') AND retry_at IS NULL`)).toBe(0);
    expect(await one(`SELECT count(*) FROM errors WHERE classification NOT IN ('intermittent', 'rate_limit') AND retry_at IS NOT NULL`)).toBe(0);
    expect(await one('SELECT count(*) FROM errors e JOIN retry_data r ON r.id = e.retry_data WHERE r.step <> e.step OR r.created_at <> e.occurred_at')).toBe(0);
    expect(await one(`SELECT count(*) FROM errors WHERE source <> 'mapping' AND trace IS NULL`)).toBe(0);
  });

  it('stores the seconds of each retryDataKey and reqAndResKey on the error, as insertError does', async () => {
    const rows = (
      await storeRows(
        backend.ws,
        `SELECT e.trace, e.trace_sec, t.time, e.retry_data, e.retry_data_sec, r.created_at FROM errors e
        LEFT JOIN traces t ON t.id = e.trace LEFT JOIN retry_data r ON r.id = e.retry_data`,
      )
    ).map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, v === null ? null : Number(v)])) as { trace: number | null; trace_sec: number | null; time: number | null; retry_data: number | null; retry_data_sec: number | null; created_at: number | null });
    expect(rows).toHaveLength(N + 500);
    for (const r of rows) {
      expect(r.trace_sec).toBe(r.trace === null ? null : idSeconds(r.time!));
      expect(r.retry_data_sec).toBe(r.retry_data === null ? null : idSeconds(r.created_at!));
    }
  });

  it('classifies each failure as the classifier does from its stored response', async () => {
    const rows = await storeRows<{ code: string; classification: string; source: string; message: string; status: number; response: string }>(
      backend.ws,
      `SELECT e.code, e.classification, e.source, e.message, t.status_code AS status, t.response FROM errors e JOIN traces t ON t.id = e.trace
        WHERE t.status_code IS NOT NULL AND e.code <> 'parse_error'`,
    );
    expect(rows.length).toBeGreaterThan(N / 3);
    for (const r of rows) {
      const response = JSON.parse(r.response) as { body: string; headers: Record<string, string> };
      const c = classifyFailure({ kind: 'status', statusCode: r.status, body: response.body, ...(response.headers['retry-after'] ? { retryAfter: response.headers['retry-after'] } : {}) });
      expect({ code: r.code, classification: r.classification, source: r.source, message: r.message }).toEqual({
        code: c.code,
        classification: c.classification,
        source: c.source,
        message: c.message,
      });
    }
  });

  it('stores traces with secrets masked', async () => {
    expect(await one(`SELECT count(*) FROM traces WHERE request LIKE '%"authorization":"********"%'`)).toBeGreaterThan(0);
    expect(await one(`SELECT count(*) FROM traces WHERE request LIKE '%"authorization":"Bearer%'`)).toBe(0);
  });

  it('is listed, filtered and searched through the backend', async () => {
    const list = await backend.listErrors('Shop orders to ERP', 'ERP sales orders', { query: 'code:422', limit: 10 });
    expect(list.errors).toHaveLength(10);
    expect(list.errors.every((e) => e.code === '422' && e.retryDataKey && e.reqAndResKey && e._flowJobId)).toBe(true);
    const tagged = await backend.listErrors('Shop orders to ERP', 'ERP sales orders', { query: 'tag:"Needs data fix"', limit: 5 });
    expect(tagged.errors.length).toBeGreaterThan(0);
    expect(tagged.errors.every((e) => e.tags?.includes('Needs data fix'))).toBe(true);
    const searched = await backend.listErrors('Shop orders to ERP', 'ERP sales orders', { query: '"valid email"', limit: 5 });
    expect(searched.errors.length).toBeGreaterThan(0);
    const summary = await backend.flowErrors('Shop orders to ERP');
    expect(summary.flowErrors.reduce((s, e) => s + e.numError, 0)).toBeGreaterThan(N / 3);
  });
});

describe('generateStepErrors', () => {
  it('writes errors with a snapshot only, on the one step', async () => {
    const other = tempHome('flowdeck-generate-step-');
    try {
      writeFlowFile(other.home, 'demo.yaml', DEMO_FLOWS_YAML);
      const ws = await Workspace.open(other.home, { ...process.env });
      try {
        await generateStepErrors(ws, 'Shop orders to ERP', 'ERP sales orders', 1000);
        expect(Number(await storeValue(ws, 'SELECT count(*) FROM errors WHERE retry_data IS NOT NULL'))).toBe(1000);
        expect(Number(await storeValue(ws, 'SELECT count(DISTINCT step) FROM errors'))).toBe(1);
        const data = JSON.parse(await storeValue<string>(ws, 'SELECT data FROM retry_data LIMIT 1')) as { id: string; customer: { tier: string } };
        expect(data.id).toMatch(/^SO-\d+$/);
        expect(data.customer.tier).toBeTruthy();
      } finally {
        await ws.close();
      }
    } finally {
      other.cleanup();
    }
  });
});

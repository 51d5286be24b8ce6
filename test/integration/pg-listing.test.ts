import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseQuery } from '../../src/domain/query.js';
import { createRng } from '../../src/mocks/prng.js';
import type { CsvChunkQuery, QueryContext } from '../../src/store/contract/queries.js';
import type { ErrorRow } from '../../src/store/contract/rows.js';
import { SqliteCore } from '../../src/store/sqlite/core.js';
import { GroupsRepo } from '../../src/store/sqlite/groups-repo.js';
import { RecordsRepo } from '../../src/store/sqlite/records-repo.js';
import { csvIdSlot } from '../../src/store/sqlite/sqlite-store.js';
import { PgErrors } from '../../src/store/postgres/errors.js';
import { PgGroups } from '../../src/store/postgres/groups.js';
import { pgCsvRows } from '../../src/store/postgres/csv.js';
import { toErrorRow, ERROR_COLUMNS } from '../../src/store/postgres/error-columns.js';
import pg from 'pg';
import { migrate } from '../../src/store/postgres/migrations.js';
import { createPool } from '../../src/store/postgres/postgres-store.js';
import { PoolSession } from '../../src/store/postgres/session.js';
import { freshPgDatabase, pgTestUrl, PG_SKIP_MESSAGE } from '../helpers/postgres.js';

const PG_URL = pgTestUrl();

interface PgTestDb {
  pool: pg.Pool;
  session: PoolSession;
  drop(): Promise<void>;
}

/** A fresh database with the store's own migrations (the rows are then copied in with their ids). */
async function createListingDb(name: string): Promise<PgTestDb> {
  const db = await freshPgDatabase(`pgcore_listing_${name}`);
  const pool = createPool(db.url, { max: 4 });
  await migrate(pool);
  return {
    pool,
    session: new PoolSession(pool),
    async drop() {
      await pool.end();
      await db.drop();
    },
  };
}

/** Rows into a table in batches (columns named as in the rows). */
async function insertRows(pool: pg.Pool, table: string, rows: ReadonlyArray<Record<string, unknown>>): Promise<void> {
  if (rows.length === 0) return;
  const columns = Object.keys(rows[0]!);
  for (let at = 0; at < rows.length; at += 500) {
    const batch = rows.slice(at, at + 500);
    const params: unknown[] = [];
    const values = batch.map((r) => `(${columns.map((c) => { params.push(r[c]); return `$${params.length}`; }).join(', ')})`);
    await pool.query(`INSERT INTO ${table} (${columns.join(', ')}) VALUES ${values.join(', ')}`, params);
  }
}

// The PostgreSQL listing against the SQLite one: the same rows in both stores (written by SQLite,
// copied to PostgreSQL), then every query answered alike — pages both ways, ids, counts, groups and
// CSV rows. Needs a server: FLOWDECK_TEST_PG_URL=postgres://… (skipped without one).

const NOW = Date.UTC(2026, 0, 15, 12, 0, 0);
const OPERATOR = 'ana.lima@acme.example';
const EMAILS = ['ana.lima@acme.example', 'Ben.Okafor@acme.example', 'chen.wei@acme.example'];
const TAGS = [
  ['investigating', 'Investigating'],
  ['needs_review', 'Needs review'],
  ['wont_fix', "Won't fix"],
] as const;
const SOURCES = ['application', 'connection', 'mapping', 'lookup'];
const CODES = ['422', '429', '503', 'ECONNREFUSED', 'missing_required_field'];
const CLASSES = ['value', 'intermittent', 'connection', 'missing', 'parse'];
const MESSAGES = [
  (n: number) => `'user${n}@invalid' is not a valid email address`,
  () => 'Request timed out after 300 ms waiting for a response',
  () => 'CRM is temporarily unavailable, try again later',
  (n: number) => `ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:${40000 + (n % 10)}`,
  (n: number) => `Mapping failed at customer_email: field is required (record ${n})`,
  () => 'Too many requests, retry after 1 second',
  (n: number) => `Sales order SO-${10000 + n} already exists`,
];
const STEPS = [1, 2];

function likeRe(value: string): RegExp {
  const body = value.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${body}$`, 'i');
}

const ctx: QueryContext = {
  me: OPERATOR,
  now: NOW,
  tagCodes: (value) => TAGS.filter(([code, name]) => likeRe(value).test(code) || likeRe(value).test(name)).map(([code]) => code),
};

const QUERIES = [
  '',
  'code:429',
  'code:42*',
  '!code:429',
  'source:connection',
  'class:intermittent',
  'class:intermittent code:503',
  'assignee:none',
  'assignee:me',
  'assignee:ben.okafor@acme.example',
  '!assignee:me',
  'assignee:*okafor*',
  'tag:Investigating',
  'tag:needs_review',
  '!tag:Investigating',
  'tag:*',
  'tag:investigating tag:needs_review',
  'timed',
  'time',
  '"timed out"',
  '"out after"',
  '!timed',
  'msg:ECONNREF',
  'customer',
  'customer_email',
  'connect 127',
  'timed code:503',
  'tag:Investigating "timed out"',
  'since:2026-01-10',
  'until:2026-01-10',
  'since:2026-01-09 until:2026-01-11 code:422',
  'traceKey:SO-1000*',
  'traceKey:SO-10001',
  '!traceKey:SO-10001',
  'retryable:yes',
  'retryable:no',
  'data.customer.email:*@example.com',
  'data.customer.email:x1@example.com',
  '!data.customer.email:x1@example.com',
  'data.items[0].sku:A*',
  'data.qty:3',
  'data.qty:3*',
  'data.flag:1*',
  'data.flag:t*',
  '!data.flag:0*',
  'code:429 !source:connection assignee:none',
];

const tmp = mkdtempSync(join(tmpdir(), 'c2-pg-listing-'));
let core: SqliteCore;
let pgdb: PgTestDb;
let pgErrors: PgErrors;
let pgGroups: PgGroups;

function fillSqlite(): void {
  core = new SqliteCore(join(tmp, 'flowdeck.db'));
  core.db.exec(`INSERT INTO flows (id, name, file, definition) VALUES ('f1', 'Flow', 'f.yaml', '{}');
    INSERT INTO steps (id, flow_id, step_id, kind, name, position) VALUES (1, 'f1', 's1', 'import', 'One', 0), (2, 'f1', 's2', 'import', 'Two', 1);`);
  const rng = createRng(13);
  const start = NOW - 10 * 24 * 3600_000;
  core.transaction(() => {
    const users = EMAILS.map((u, i) => core.upsertUser(u, null, false, start + i));
    for (const [code, name] of TAGS) core.insertTag(code, name, start);
    const jobs = Array.from({ length: 5 }, (_, i) => core.insertJob({ type: 'flow', status: 'completed', flowId: 'f1', createdAt: start + i * 1000 }));
    for (let i = 0; i < 3000; i++) {
      const step = STEPS[rng.int(0, 1)]!;
      const occurredAt = start + i * 240_000;
      const r = rng.next();
      const tags = r < 0.15 ? [TAGS[rng.int(0, 2)]![0]] : r < 0.2 ? [TAGS[0][0], TAGS[1][0]] : [];
      const assigneeAt = rng.next() < 0.6 ? -1 : rng.int(0, EMAILS.length - 1);
      const retryData =
        rng.next() < 0.5
          ? core.insertRetryData({
              step,
              createdAt: occurredAt,
              stage: 'import',
              data: { customer: { email: `x${i % 7}@${i % 2 ? 'example.com' : 'other.org'}` }, items: [{ sku: `${'AB'[i % 2]}-${i % 5}` }], qty: i % 4, flag: i % 3 === 0 },
            })
          : undefined;
      core.insertError({
        step,
        occurredAt,
        source: SOURCES[rng.int(0, SOURCES.length - 1)]!,
        code: CODES[rng.int(0, CODES.length - 1)]!,
        message: MESSAGES[rng.int(0, MESSAGES.length - 1)]!(i),
        classification: CLASSES[rng.int(0, CLASSES.length - 1)]!,
        classifiedBy: 'rule',
        job: jobs[rng.int(0, jobs.length - 1)]!,
        traceKey: `SO-${10000 + i}`,
        tags,
        ...(retryData !== undefined ? { retryData } : {}),
        ...(assigneeAt >= 0 ? { assignee: EMAILS[assigneeAt]!, assignedBy: OPERATOR, assigneeUser: users[assigneeAt]! } : {}),
      });
    }
    core.db.exec(`UPDATE errors SET resolved = 1, resolved_at = ${NOW}, resolved_by = '${OPERATOR}' WHERE id % 3 = 0;
      UPDATE error_tags SET resolved = 1 WHERE error % 3 = 0;`);
  });
}

async function copyToPostgres(): Promise<void> {
  const all = (sql: string) => core.db.prepare(sql).all() as Array<Record<string, unknown>>;
  const flag = (r: Record<string, unknown>, ...columns: string[]) => ({ ...r, ...Object.fromEntries(columns.map((c) => [c, r[c] === null ? null : r[c] === 1])) });
  await insertRows(pgdb.pool, 'flows', all('SELECT * FROM flows').map((r) => flag(r, 'disabled_in_file', 'disabled_override', 'removed')));
  await insertRows(pgdb.pool, 'steps', all('SELECT * FROM steps'));
  await insertRows(pgdb.pool, 'users', all('SELECT id, email, name, synthetic = 1 AS synthetic, created_at FROM users').map((r) => ({ ...r, synthetic: r.synthetic === 1 })));
  await insertRows(pgdb.pool, 'jobs', all('SELECT id, type, status, flow_id, created_at, last_modified FROM jobs'));
  await insertRows(pgdb.pool, 'retry_data', all('SELECT id, step, created_at, updated_at, stage, data FROM retry_data'));
  await insertRows(pgdb.pool, 'error_sigs', all('SELECT * FROM error_sigs'));
  const errorColumns = `id, step, resolved, occurred_at, source, code, message, o_index, job, trace_key, classification, classified_by, trace,
    retry_data, purge_at, retry_at, tags, assignee, assigned_by, assignee_user, resolved_at, resolved_by, retry_data_sec, trace_sec, sig`;
  await insertRows(pgdb.pool, 'errors', all(`SELECT ${errorColumns} FROM errors`).map((r) => ({ ...r, resolved: r.resolved === 1 })));
  await insertRows(pgdb.pool, 'error_tags', all('SELECT * FROM error_tags').map((r) => ({ ...r, resolved: r.resolved === 1 })));
  await pgdb.pool.query('ANALYZE');
}

function sqliteCsv(q: CsvChunkQuery, chunk: number): unknown[][] {
  const { statement, params } = new RecordsRepo(core).csvChunkStatement(q, ctx);
  const out: unknown[][] = [];
  let next = 1;
  for (;;) {
    const rows = statement.all(...params, next, chunk) as unknown[][];
    out.push(...rows);
    if (rows.length < chunk) return out;
    next = (rows[rows.length - 1]![csvIdSlot(q)] as number) + 1;
  }
}

async function pgCsv(q: CsvChunkQuery, chunk: number): Promise<unknown[][]> {
  const out: unknown[][] = [];
  for await (const batch of pgCsvRows(pgdb.session, q, ctx, 1, chunk)) out.push(...batch);
  return out;
}

const sortGroups = <T extends { sig: number | null }>(g: T[]) => [...g].sort((a, b) => (a.sig ?? -1) - (b.sig ?? -1));

describe.skipIf(!PG_URL)(`PostgreSQL listing equals SQLite listing${PG_URL ? '' : ` (${PG_SKIP_MESSAGE})`}`, () => {
  beforeAll(async () => {
    fillSqlite();
    pgdb = await createListingDb('listing');
    await copyToPostgres();
    const rows = {
      insertError: () => Promise.reject(new Error('not in this test')),
      getError: async (id: number) => {
        const [r] = await pgdb.session.query(`SELECT ${ERROR_COLUMNS} FROM errors e WHERE e.id = $1`, [id]);
        return r ? toErrorRow(r) : undefined;
      },
      errorKeys: () => Promise.resolve([]),
    };
    pgErrors = new PgErrors(pgdb.session, rows);
    pgGroups = new PgGroups(pgdb.session);
  }, 60_000);

  afterAll(async () => {
    core?.close();
    await pgdb?.drop();
    rmSync(tmp, { recursive: true, force: true });
  });

  it('getError reads the same row as SQLite', async () => {
    for (const id of [1, 2, 3, 1500, 3000]) expect(await pgErrors.getError(id)).toEqual(core.getError(id));
  });

  for (const text of QUERIES) {
    it(`answers "${text}" as SQLite does`, async () => {
      const terms = parseQuery(text).terms;
      for (const step of STEPS) {
        for (const resolved of [false, true]) {
          const base = { step, resolved, terms };
          const firstPage: ErrorRow[] = core.listErrors({ ...base, limit: 25 }, ctx);
          expect(await pgErrors.listErrors({ ...base, limit: 25 }, ctx)).toEqual(firstPage);
          const ids = core.selectErrorIds(base, ctx);
          expect(await pgErrors.selectErrorIds(base, ctx)).toEqual(ids);
          expect(await pgErrors.countErrors(base, ctx)).toBe(core.countErrors(base, ctx));
          const middle = ids[Math.floor(ids.length / 2)];
          if (middle !== undefined) {
            expect(await pgErrors.listErrors({ ...base, limit: 10, beforeId: middle }, ctx)).toEqual(core.listErrors({ ...base, limit: 10, beforeId: middle }, ctx));
            expect(await pgErrors.listErrors({ ...base, limit: 10, fromId: middle }, ctx)).toEqual(core.listErrors({ ...base, limit: 10, fromId: middle }, ctx));
          }
          const groups = new GroupsRepo(core).countGroups(base, ctx);
          expect(sortGroups(await pgGroups.countGroups(base, ctx))).toEqual(sortGroups(groups));
        }
      }
    });
  }

  it('counts the open errors of a step and its facets as SQLite does', async () => {
    for (const step of STEPS) {
      expect(await pgErrors.stepErrorStats(step)).toEqual(core.stepErrorStats(step));
      for (const field of ['classification', 'code', 'source'] as const) {
        const byValue = (a: { value: string }, b: { value: string }) => a.value.localeCompare(b.value);
        expect((await pgErrors.stepErrorFacets(step, field)).sort(byValue)).toEqual(core.stepErrorFacets(step, field).sort(byValue));
      }
    }
  });

  it('describes a group as SQLite does', async () => {
    const [g] = new GroupsRepo(core).countGroups({ step: 1, resolved: false, terms: parseQuery('code:429 timed').terms }, ctx);
    const bare = { sig: g!.sig!, count: g!.count };
    const edges = new GroupsRepo(core).edges(1, false, bare)!;
    expect(await pgGroups.edges(1, false, bare)).toEqual(edges);
    expect(await pgGroups.detail({ sig: g!.sig!, ...edges })).toEqual(new GroupsRepo(core).detail({ sig: g!.sig!, ...edges }));
  });

  for (const text of ['', 'code:429', 'tag:Investigating', 'timed', 'data.customer.email:*@example.com']) {
    it(`exports the CSV rows of "${text}" as SQLite does`, async () => {
      const terms = parseQuery(text).terms;
      for (const resolved of [false, true]) {
        for (const stepColumn of [undefined, 's1']) {
          const q: CsvChunkQuery = { step: 1, resolved, terms, stepColumn };
          expect(await pgCsv(q, 97)).toEqual(sqliteCsv(q, 97));
        }
      }
    });
  }
});

// Every main listing's first page is answered through an index on ~50k errors with statistics,
// never by a sequential scan of errors.
describe.skipIf(!PG_URL)(`PostgreSQL listing plans use an index${PG_URL ? '' : ` (${PG_SKIP_MESSAGE})`}`, () => {
  let db: PgTestDb;
  let errors: PgErrors;
  let groups: PgGroups;
  const noRows = { insertError: () => Promise.reject(new Error('unused')), getError: () => Promise.resolve(undefined), errorKeys: () => Promise.resolve([]) };

  beforeAll(async () => {
    db = await createListingDb('plans');
    await db.pool.query(`INSERT INTO flows (id, name, file, definition) VALUES ('f1', 'Flow', 'f.yaml', '{}')`);
    await db.pool.query(`INSERT INTO steps (id, flow_id, step_id, kind, name, position) SELECT g, 'f1', 's' || g, 'import', 'Step ' || g, g FROM generate_series(1, 10) g`);
    await db.pool.query(`INSERT INTO users (id, email, created_at) VALUES (1, '${OPERATOR}', 0)`);
    await db.pool.query(`INSERT INTO jobs (id, type, status, created_at, last_modified) SELECT g, 'flow', 'completed', g, g FROM generate_series(1, 20) g`);
    // 50k errors over 10 steps (step 4 a tenth of them, step 10 a hundredth); a seventh resolved; varied codes, sources, classes, assignees, tags and messages.
    await db.pool.query(`
      INSERT INTO errors (id, step, resolved, occurred_at, source, code, message, job, trace_key, classification, classified_by,
        tags, assignee, assignee_user, sig)
      SELECT g, CASE WHEN g % 10 = 9 AND g % 100 <> 99 THEN 1 ELSE 1 + g % 10 END, g % 7 = 3, ${NOW}::bigint - (50000 - g)::bigint * 60000,
        (ARRAY['application','connection','mapping','lookup'])[1 + g % 4],
        (ARRAY['422','429','503','409','ECONNREFUSED','ETIMEDOUT','missing_required_field'])[1 + (g / 10) % 7],
        (ARRAY['Request timed out after 300 ms', 'CRM is temporarily unavailable', 'Sales order SO-' || g || ' already exists',
               'connect ECONNREFUSED 127.0.0.1:' || (40000 + g % 100), 'Mapping failed at email'])[1 + (g / 7) % 5],
        1 + g % 20, 'SO-' || g,
        (ARRAY['value','intermittent','connection','missing','parse','duplicate','governance'])[1 + (g / 3) % 7], 'rule',
        CASE WHEN g % 50 = 0 THEN '["investigating"]'::jsonb END,
        CASE WHEN g % 13 = 0 THEN '${OPERATOR}' END, CASE WHEN g % 13 = 0 THEN 1 END,
        (g / 10) % 7 * 10 + g % 4
      FROM generate_series(1, 50000) g`);
    await db.pool.query(`INSERT INTO error_tags (tag, step, resolved, error)
      SELECT 'investigating', step, resolved, id FROM errors WHERE tags IS NOT NULL`);
    await db.pool.query('VACUUM ANALYZE');
    errors = new PgErrors(db.session, noRows);
    groups = new PgGroups(db.session);
  }, 120_000);

  afterAll(async () => {
    await db?.drop();
  });

  const LISTINGS = ['', 'code:429', 'source:mapping', 'class:intermittent', 'assignee:me', 'assignee:none', 'tag:investigating', 'timed', '"timed out"', 'ECONNREF code:503', 'sig:000000000015', 'since:2026-01-14'];
  for (const [step, text] of [4, 10].flatMap((s) => LISTINGS.map((t) => [s, t] as const))) {
    it(`the first page of "${text}" on step ${step} walks an index`, async () => {
      const ctxWithTag: QueryContext = { ...ctx, tagCodes: (v) => (v === 'investigating' ? ['investigating'] : []) };
      const plan = (await errors.explainListErrors({ step, resolved: false, terms: parseQuery(text).terms, limit: 50 }, ctxWithTag)).join('\n');
      expect(plan).not.toMatch(/Seq Scan on errors/);
      expect(plan).toMatch(/Index|Bitmap/);
      // The page is the same whatever the plan: newest first, ids under the step's.
      const page = await errors.listErrors({ step, resolved: false, terms: parseQuery(text).terms, limit: 50 }, ctxWithTag);
      if (text === '') expect(page).toHaveLength(50);
      expect(page.map((e) => e.id)).toEqual([...page.map((e) => e.id)].sort((a, b) => b - a));
    });
  }

  it('an unfiltered group count reads an index, not the table', async () => {
    const plan = (await groups.explainCountGroups({ step: 4, resolved: false, terms: [] }, ctx)).join('\n');
    expect(plan).not.toMatch(/Seq Scan on errors/);
  });
});

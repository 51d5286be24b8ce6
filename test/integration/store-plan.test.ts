import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalBackend } from '../../src/backend/local-backend.js';
import { encodeId } from '../../src/domain/ids.js';
import { CLASSIFICATIONS } from '../../src/domain/filter-metadata.js';
import { queryFromOptions, type FilterOptions } from '../../src/cli/filters.js';
import { createRng } from '../../src/mocks/prng.js';
import type { QueryContext } from '../../src/store/error-query.js';
import type { ErrorListQuery, SqliteStore } from '../../src/store/sqlite-store.js';
import { DEMO_FLOWS_YAML, DEMO_TAGS, tagCode } from '../../src/workspace/demo.js';
import { openBackend, tempHome, writeFlowFile, type TempHome } from '../helpers/workspace.js';

// Every first page of a step's listing — unfiltered and under each filter — must be answered
// through an index (or the FTS / tag structures), never by scanning the errors table. Thousands of
// varied errors over several steps and ANALYZE statistics make the planner choose as it would on a
// real workspace. Each listing is also checked against a plain in-memory filter of what was inserted.

interface Model {
  id: number;
  step: number;
  resolved: boolean;
  occurredAt: number;
  source: string;
  classification: string;
  code: string;
  assignee: string | null;
  tags: string[];
  message: string;
  job: number;
}

const NOW = Date.UTC(2026, 0, 15, 12, 0, 0);
const OPERATOR = 'ana.lima@acme.example';
const EMAILS = ['ana.lima@acme.example', 'ben.okafor@acme.example', 'chen.wei@acme.example'];
const SOURCES = ['application', 'application', 'application', 'connection', 'connection', 'mapping', 'lookup'];
const CODES = ['422', '422', '429', '503', '409', 'ECONNREFUSED', 'ETIMEDOUT', 'missing_required_field'];
const MESSAGES = [
  (n: number) => `{"errors":[{"code":"invalid_email","field":"email","message":"'user${n}@invalid' is not a valid email address"}]}`,
  () => 'Request timed out after 300 ms waiting for a response',
  () => '{"errors":[{"code":"service_unavailable","message":"CRM is temporarily unavailable, try again later"}]}',
  (n: number) => `ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:${40000 + (n % 100)} (http://127.0.0.1)`,
  (n: number) => `Mapping failed at email: customer.email is required but missing in the record ${n}`,
  () => '{"errors":[{"code":"rate_limited","message":"Too many requests, retry after 1 second"}]}',
  (n: number) => `Sales order SO-${10000 + n} already exists`,
];

let tmp: TempHome;
let backend: LocalBackend;
let store: SqliteStore;
let ctx: QueryContext;
let mainStep: number;
let otherStep: number;
let jobId: number;
let jobHex: string;
const rows: Model[] = [];

beforeAll(() => {
  tmp = tempHome();
  writeFlowFile(tmp.home, 'demo.yaml', DEMO_FLOWS_YAML);
  backend = openBackend(tmp.home, { ...process.env, FLOWDECK_USER: OPERATOR });
  store = backend.ws.store;
  const steps = backend.ws.catalog().flows.size > 0 ? store.listFlows().flatMap((f) => store.steps(f.id)) : [];
  expect(steps.length).toBeGreaterThanOrEqual(6);
  const erp = store.steps(store.listFlows().find((f) => f.name === 'Shop orders to ERP')!.id);
  mainStep = erp.find((s) => s.name === 'ERP sales orders')!.key;
  otherStep = erp.find((s) => s.name === 'CRM customer lookup')!.key;

  const rng = createRng(7);
  const start = NOW - 7 * 24 * 3600_000;
  store.transaction(() => {
    for (const u of EMAILS) store.upsertUser(u, null, false, start);
    for (const name of DEMO_TAGS) store.insertTag(tagCode(name), name, start);
    const flowId = store.listFlows()[0]!.id;
    const jobs = Array.from({ length: 20 }, (_, i) => store.insertJob({ type: 'flow', status: 'completed', flowId, createdAt: start + i * 1000 }));
    jobId = jobs[7]!;
    jobHex = encodeId('job', jobId, store.getJob(jobId)!.createdAt);
    const tagCodes = DEMO_TAGS.map(tagCode);
    const total = 10_000;
    for (let i = 0; i < total; i++) {
      // Most errors on the step under test; the rest spread over every other step.
      const step = rng.next() < 0.6 ? mainStep : steps[rng.int(0, steps.length - 1)]!.key;
      const occurredAt = start + i * 60_000;
      const template = rng.int(0, MESSAGES.length - 1);
      const tags = rng.next() < 0.15 ? [tagCodes[rng.int(0, tagCodes.length - 1)]!] : rng.next() < 0.03 ? tagCodes.slice(0, 2) : [];
      const assignee = rng.next() < 0.7 ? null : EMAILS[rng.int(0, EMAILS.length - 1)]!;
      const row: Omit<Model, 'id'> = {
        step,
        resolved: false,
        occurredAt,
        source: SOURCES[rng.int(0, SOURCES.length - 1)]!,
        classification: CLASSIFICATIONS[Math.min(CLASSIFICATIONS.length - 1, Math.floor(rng.next() ** 2 * CLASSIFICATIONS.length))]!,
        code: CODES[rng.int(0, CODES.length - 1)]!,
        assignee,
        tags,
        message: MESSAGES[template]!(i),
        job: jobs[rng.int(0, jobs.length - 1)]!,
      };
      const id = store.insertError({
        step,
        occurredAt,
        source: row.source,
        code: row.code,
        message: row.message,
        classification: row.classification,
        classifiedBy: 'rule',
        job: row.job,
        traceKey: `SO-${10000 + i}`,
        tags,
        ...(assignee ? { assignee, assignedBy: OPERATOR } : {}),
      });
      rows.push({ id, ...row });
    }
    // A third of the step's errors resolved, as an operator would over time.
    const resolve = store.db.prepare('UPDATE errors SET resolved = 1, resolved_at = ?, resolved_by = ? WHERE id = ?');
    const resolveTags = store.db.prepare('UPDATE error_tags SET resolved = 1 WHERE error = ?');
    for (const row of rows) {
      if (row.id % 3 === 0) {
        resolve.run(NOW, OPERATOR, row.id);
        resolveTags.run(row.id);
        row.resolved = true;
      }
    }
  });
  store.db.exec('ANALYZE');
  const real = backend.queryContext();
  ctx = { me: real.me, now: NOW, tagCodes: real.tagCodes };
});

afterAll(async () => {
  await backend?.close();
  tmp?.cleanup();
});

interface Case {
  name: string;
  opts: FilterOptions;
  /** The same filter over the in-memory model. */
  matches: (r: Model) => boolean;
  /** For a selective filter: the structure that must drive the query (not just the step's index). */
  drives?: RegExp;
}

const words = (m: string) => m.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
const code = (name: string) => tagCode(name);

const CASES: Case[] = [
  { name: 'unfiltered', opts: {}, matches: () => true },
  { name: 'source', opts: { source: 'connection' }, matches: (r) => r.source === 'connection' },
  { name: 'rare source', opts: { source: 'lookup' }, matches: (r) => r.source === 'lookup', drives: /^SEARCH e USING INDEX ix_errors_source \(step=\? AND resolved=\? AND source=\?\)/ },
  { name: 'classification', opts: { classification: 'intermittent' }, matches: (r) => r.classification === 'intermittent' },
  {
    name: 'rare classification',
    opts: { classification: 'none' },
    matches: (r) => r.classification === 'none',
    drives: /^SEARCH e USING INDEX ix_errors_class \(step=\? AND resolved=\? AND classification=\?\)/,
  },
  { name: 'code', opts: { code: '429' }, matches: (r) => r.code === '429', drives: /^SEARCH e USING INDEX ix_errors_code \(step=\? AND resolved=\? AND code=\?\)/ },
  { name: 'code wildcard', opts: { code: 'E*' }, matches: (r) => r.code.startsWith('E') },
  { name: 'assignee none', opts: { assignee: 'none' }, matches: (r) => r.assignee === null },
  {
    name: 'assignee email',
    opts: { assignee: 'BEN.OKAFOR@acme.example' },
    matches: (r) => r.assignee === 'ben.okafor@acme.example',
    drives: /^SEARCH e USING INDEX ix_errors_assignee \(step=\? AND resolved=\? AND assignee=\?\)/,
  },
  { name: 'assignee me', opts: { assignee: 'me' }, matches: (r) => r.assignee === OPERATOR },
  {
    name: 'tag by name',
    opts: { tag: 'Needs data fix' },
    matches: (r) => r.tags.includes(code('Needs data fix')),
    drives: /^SEARCH d USING PRIMARY KEY \(tag=\? AND step=\? AND resolved=\?\)/,
  },
  { name: 'tag by code', opts: { tag: code('Known issue') }, matches: (r) => r.tags.includes(code('Known issue')) },
  {
    name: 'text word (prefix)',
    opts: { search: 'unavail' },
    matches: (r) => words(r.message).some((w) => w.startsWith('unavail')),
    drives: /^SCAN errors_fts VIRTUAL TABLE INDEX/,
  },
  { name: 'text phrase', opts: { search: 'timed out' }, matches: (r) => r.message.toLowerCase().includes('timed out') },
  {
    name: 'job',
    get opts() {
      return { job: jobHex };
    },
    matches: (r) => r.job === jobId,
    drives: /^SEARCH e USING INDEX ix_errors_job \(job=\? AND step=\? AND resolved=\?\)/,
  },
  { name: 'since', opts: { since: '2d' }, matches: (r) => r.occurredAt >= NOW - 2 * 86400_000 },
  {
    name: 'source + classification',
    opts: { source: 'application', classification: 'value' },
    matches: (r) => r.source === 'application' && r.classification === 'value',
  },
  {
    name: 'tag + text',
    opts: { tag: 'Investigating', search: 'already' },
    matches: (r) => r.tags.includes(code('Investigating')) && words(r.message).some((w) => w.startsWith('already')),
  },
  {
    name: 'text + code + assignee none',
    opts: { search: 'email', code: '422', assignee: 'none' },
    matches: (r) => words(r.message).some((w) => w.startsWith('email')) && r.code === '422' && r.assignee === null,
  },
  { name: 'negated source', opts: { query: '!source:connection' }, matches: (r) => r.source !== 'connection' },
  { name: 'negated tag', opts: { query: '-tag:Noise' }, matches: (r) => !r.tags.includes(code('Noise')) },
  { name: 'tag wildcard (several codes)', opts: { tag: '*i*' }, matches: (r) => r.tags.some((t) => DEMO_TAGS.filter((n) => /i/i.test(n) || /i/i.test(tagCode(n))).map(tagCode).includes(t)) },
];

function listing(c: Case, extra: Partial<ErrorListQuery> = {}): ErrorListQuery {
  return { step: mainStep, resolved: false, terms: queryFromOptions(c.opts).terms, limit: 100, ...extra };
}

/** Plan lines that walk a whole table (or index) of errors instead of searching it. */
function scans(plan: string[]): string[] {
  return plan.filter((line) => /\bSCAN (e|errors|d|error_tags|r|retry_data)\b/.test(line));
}

describe('error listings use indexes, never a scan of the errors table', () => {
  it('has a realistic store to plan against', () => {
    const open = rows.filter((r) => r.step === mainStep && !r.resolved).length;
    expect(open).toBeGreaterThan(3000);
    expect(store.db.prepare('SELECT count(*) FROM sqlite_stat1 WHERE tbl = ?').pluck().get('errors')).toBeGreaterThan(0);
  });

  it.each(CASES)('$name: first page', (c) => {
    const plan = store.explainListErrors(listing(c), ctx);
    if (process.env.SHOW_PLANS) console.log(`${c.name}\n  ${plan.join('\n  ')}`);
    expect(plan.length).toBeGreaterThan(0);
    expect(scans(plan), `${c.name}\n${plan.join('\n')}`).toEqual([]);
    expect(plan.join('\n'), `${c.name}\n${plan.join('\n')}`).not.toMatch(/USE TEMP B-TREE FOR ORDER BY/);
    if (c.drives) expect(plan[0], `${c.name}\n${plan.join('\n')}`).toMatch(c.drives);

    const expected = rows
      .filter((r) => r.step === mainStep && !r.resolved && c.matches(r))
      .sort((a, b) => b.id - a.id)
      .slice(0, 100)
      .map((r) => r.id);
    expect(expected.length, 'the case must select something').toBeGreaterThan(0);
    expect(store.listErrors(listing(c), ctx).map((r) => r.id)).toEqual(expected);
  });

  it.each(CASES)('$name: a later page (keyset cursor)', (c) => {
    const expected = rows
      .filter((r) => r.step === mainStep && !r.resolved && c.matches(r))
      .sort((a, b) => b.id - a.id);
    const cursor = expected[Math.min(expected.length - 1, 150)]!.id;
    const plan = store.explainListErrors(listing(c, { beforeId: cursor }), ctx);
    expect(scans(plan), `${c.name}\n${plan.join('\n')}`).toEqual([]);
    expect(store.listErrors(listing(c, { beforeId: cursor }), ctx).map((r) => r.id)).toEqual(
      expected.filter((r) => r.id < cursor).slice(0, 100).map((r) => r.id),
    );
  });

  it('another, smaller step is planned the same way', () => {
    for (const c of CASES) {
      const plan = store.explainListErrors(listing(c, { step: otherStep }), ctx);
      expect(scans(plan), `${c.name}\n${plan.join('\n')}`).toEqual([]);
    }
  });
});

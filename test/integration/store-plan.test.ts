import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalBackend } from '../../src/backend/local-backend.js';
import { encodeId } from '../../src/domain/ids.js';
import { CLASSIFICATIONS } from '../../src/domain/filter-metadata.js';
import { queryFromOptions, type FilterOptions } from '../../src/cli/filters.js';
import { createRng } from '../../src/mocks/prng.js';
import { compileErrorQuery, ftsStepToken, type QueryContext } from '../../src/store/sqlite/error-query.js';
import { MIGRATIONS } from '../../src/store/sqlite/migrations.js';
import { GroupsRepo } from '../../src/store/sqlite/groups-repo.js';
import { formatSignature, Signer } from '../../src/domain/signature.js';
import { ID_TIME_SKEW_MS, SqliteCore, type ErrorListQuery } from '../../src/store/sqlite/core.js';
import { DEMO_FLOWS_YAML, DEMO_TAGS, tagCode } from '../../src/workspace/demo.js';
import { openBackend, tempHome, writeFlowFile, type TempHome } from '../helpers/workspace.js';
import { sqliteCoreOf } from '../helpers/sqlite.js';

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
  /** The signature the store must have given the error (computed here by the same normaliser). */
  sig: number;
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
let store: SqliteCore;
let ctx: QueryContext;
let mainStep: number;
let otherStep: number;
let jobId: number;
let jobHex: string;
const rows: Model[] = [];
const signer = new Signer();
/** The most common signature among the main step's open errors. */
let groupSig = 0;

beforeAll(async () => {
  tmp = tempHome();
  writeFlowFile(tmp.home, 'demo.yaml', DEMO_FLOWS_YAML);
  backend = await openBackend(tmp.home, { ...process.env, FLOWDECK_USER: OPERATOR });
  store = sqliteCoreOf(backend.ws);
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
      const row: Omit<Model, 'id' | 'sig'> = {
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
      rows.push({ id, ...row, sig: signer.sign(row).sig });
    }
    // A word that only another step's messages have: a search for it on the main step must cost
    // nothing, because the search is limited to the step inside errors_fts.
    for (let i = 0; i < 300; i++) {
      const row: Omit<Model, 'id' | 'sig'> = {
        step: otherStep,
        resolved: false,
        occurredAt: start + (total + i) * 60_000,
        source: 'application',
        classification: 'value',
        code: '422',
        assignee: null,
        tags: [],
        message: `Record ${i} quarantined by the archive gateway`,
        job: jobs[0]!,
      };
      const id = store.insertError({ ...row, assignee: row.assignee ?? undefined, classifiedBy: 'rule', traceKey: `AR-${i}` });
      rows.push({ id, ...row, sig: signer.sign(row).sig });
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
  const bySig = new Map<number, number>();
  for (const r of rows) if (r.step === mainStep && !r.resolved) bySig.set(r.sig, (bySig.get(r.sig) ?? 0) + 1);
  groupSig = [...bySig].sort((a, b) => b[1] - a[1])[0]![0];
  const real = await backend.queryContext();
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
  /** A line the plan must also have (e.g. a term checked by probing its own index). */
  probes?: RegExp;
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
  {
    name: 'since',
    opts: { since: '2d' },
    matches: (r) => r.occurredAt >= NOW - 2 * 86400_000,
    // ids are time-ordered: the time becomes a row-id range of the walk
    drives: /^SEARCH e USING INDEX ix_errors_step \(step=\? AND resolved=\? AND rowid>\?\)/,
  },
  {
    name: 'until (the newest days skipped by a row-id bound, not walked)',
    opts: { until: '5d' },
    matches: (r) => r.occurredAt <= NOW - 5 * 86400_000,
    drives: /^SEARCH e USING INDEX ix_errors_step \(step=\? AND resolved=\? AND rowid<\?\)/,
  },
  {
    name: 'since + until',
    opts: { since: '4d', until: '3d' },
    matches: (r) => r.occurredAt >= NOW - 4 * 86400_000 && r.occurredAt <= NOW - 3 * 86400_000,
    drives: /^SEARCH e USING INDEX ix_errors_step \(step=\? AND resolved=\? AND rowid>\? AND rowid<\?\)/,
  },
  {
    name: 'code + until',
    opts: { code: '429', until: '3d' },
    matches: (r) => r.code === '429' && r.occurredAt <= NOW - 3 * 86400_000,
    drives: /^SEARCH e USING INDEX ix_errors_code \(step=\? AND resolved=\? AND code=\? AND rowid<\?\)/,
  },
  {
    name: 'text + until',
    opts: { search: 'email', until: '3d' },
    matches: (r) => words(r.message).some((w) => w.startsWith('email')) && r.occurredAt <= NOW - 3 * 86400_000,
    drives: /^SCAN errors_fts VIRTUAL TABLE INDEX \d+:M\d+</,
  },
  {
    name: 'tag + since',
    opts: { tag: 'Needs data fix', since: '5d' },
    matches: (r) => r.tags.includes(code('Needs data fix')) && r.occurredAt >= NOW - 5 * 86400_000,
    drives: /^SEARCH d USING PRIMARY KEY \(tag=\? AND step=\? AND resolved=\? AND error>\?\)/,
  },
  {
    name: 'source + classification',
    opts: { source: 'application', classification: 'value' },
    matches: (r) => r.source === 'application' && r.classification === 'value',
  },
  {
    // Two indexed terms: the sparser drives, the other is answered by its own index alone.
    name: 'rare source + common code (the rare one drives, the other is probed)',
    opts: { query: 'code:422 source:lookup' },
    matches: (r) => r.source === 'lookup' && r.code === '422',
    drives: /^SEARCH e USING INDEX ix_errors_source \(step=\? AND resolved=\? AND source=\?\)/,
    probes: /^SEARCH x EXISTS USING COVERING INDEX ix_errors_code \(step=\? AND resolved=\? AND code=\? AND rowid=\?\)/,
  },
  {
    name: 'the same two terms the other way round',
    opts: { query: 'source:lookup code:422' },
    matches: (r) => r.source === 'lookup' && r.code === '422',
    drives: /^SEARCH e USING INDEX ix_errors_source \(step=\? AND resolved=\? AND source=\?\)/,
    probes: /^SEARCH x EXISTS USING COVERING INDEX ix_errors_code /,
  },
  {
    name: 'three indexed terms, assignee none among them',
    opts: { source: 'connection', code: '503', assignee: 'none' },
    matches: (r) => r.source === 'connection' && r.code === '503' && r.assignee === null,
    probes: /^SEARCH x EXISTS USING COVERING INDEX ix_errors_(source|code|assignee) /,
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
  {
    name: 'sig (an error group): a seek of ix_errors_sig',
    get opts() {
      return { query: `sig:${formatSignature(groupSig)}` };
    },
    matches: (r) => r.sig === groupSig,
    drives: /^SEARCH e USING INDEX ix_errors_sig \(step=\? AND resolved=\? AND sig=\?\)/,
  },
  {
    name: 'sig + code (two indexed terms)',
    get opts() {
      return { query: `sig:${formatSignature(groupSig)} code:${rows.find((r) => r.sig === groupSig)!.code}` };
    },
    matches: (r) => r.sig === groupSig,
  },
  { name: 'negated sig', get opts() { return { query: `!sig:${formatSignature(groupSig)}` }; }, matches: (r) => r.sig !== groupSig },
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
  it('has a realistic store to plan against', async () => {
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
    if (c.probes) expect(plan.some((line) => c.probes!.test(line)), `${c.name}\n${plan.join('\n')}`).toBe(true);

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

  it('another, smaller step is planned the same way', async () => {
    for (const c of CASES) {
      const plan = store.explainListErrors(listing(c, { step: otherStep }), ctx);
      expect(scans(plan), `${c.name}\n${plan.join('\n')}`).toEqual([]);
    }
  });
});

describe('error groups are counted from ix_errors_sig, reading no error row', () => {
  const model = (step: number, resolved: boolean, f: (r: Model) => boolean = () => true) => {
    const out = new Map<number, { count: number; firstId: number; lastId: number }>();
    for (const r of rows) {
      if (r.step !== step || r.resolved !== resolved || !f(r)) continue;
      const g = out.get(r.sig) ?? { count: 0, firstId: r.id, lastId: r.id };
      g.count++;
      g.firstId = Math.min(g.firstId, r.id);
      g.lastId = Math.max(g.lastId, r.id);
      out.set(r.sig, g);
    }
    return [...out].map(([sig, g]) => ({ sig, ...g })).sort((a, b) => a.sig - b.sig);
  };
  const counted = (step: number, resolved: boolean, query = '') => {
    const repo = new GroupsRepo(store);
    return repo
      .countGroups({ step, resolved, terms: queryFromOptions({ query }).terms }, ctx)
      .map((g) => ({ sig: g.sig!, count: g.count, ...repo.edges(step, resolved, { ...g, sig: g.sig! }) }))
      .sort((a, b) => a.sig - b.sig);
  };

  it("a step's open and resolved groups: one pass over the covering index, no sort", async () => {
    for (const resolved of [false, true]) {
      const plan = new GroupsRepo(store).explainCountGroups({ step: mainStep, resolved, terms: [] }, ctx);
      expect(plan, plan.join('\n')).toEqual([expect.stringMatching(/^SEARCH e USING COVERING INDEX ix_errors_sig \(step=\? AND resolved=\?\)$/)]);
      expect(counted(mainStep, resolved)).toEqual(model(mainStep, resolved));
    }
    expect(counted(otherStep, false)).toEqual(model(otherStep, false));
  });

  it('a filtered set is grouped as its listing walks it', async () => {
    const plan = new GroupsRepo(store).explainCountGroups({ step: mainStep, resolved: false, terms: queryFromOptions({ code: '429' }).terms }, ctx);
    expect(scans(plan), plan.join('\n')).toEqual([]);
    expect(counted(mainStep, false, 'code:429')).toEqual(model(mainStep, false, (r) => r.code === '429'));
    expect(counted(mainStep, false, 'tag:"Needs data fix"')).toEqual(model(mainStep, false, (r) => r.tags.includes(code('Needs data fix'))));
    // Terms a signature decides are checked per group, exactly as per error.
    expect(counted(mainStep, false, 'source:connection !code:E*')).toEqual(model(mainStep, false, (r) => r.source === 'connection' && !r.code.startsWith('E')));
    expect(counted(mainStep, false, `sig:${formatSignature(groupSig)}`)).toEqual(model(mainStep, false, (r) => r.sig === groupSig));
    expect(counted(mainStep, false, 'since:3d assignee:none')).toEqual(model(mainStep, false, (r) => r.occurredAt >= NOW - 3 * 86400_000 && r.assignee === null));
  });
});

describe('text search is limited to the step inside errors_fts', () => {
  const search = (text: string, step: number) => compileErrorQuery(queryFromOptions({ search: text }).terms, ctx, { step }).driver;

  it('finds a word that only another step has nowhere in the listed step, inside FTS itself', async () => {
    const driver = search('quarantined', mainStep);
    expect(driver?.kind).toBe('text');
    const match = (driver as { match: string }).match;
    // FTS intersects the word with the step's token: no row reaches the join to be thrown away.
    expect(store.db.prepare('SELECT count(*) FROM errors_fts WHERE errors_fts MATCH ?').pluck().get(match)).toBe(0);
    expect(store.listErrors({ step: mainStep, resolved: false, terms: queryFromOptions({ search: 'quarantined' }).terms, limit: 100 }, ctx)).toEqual([]);
    const other = rows.filter((r) => r.step === otherStep && !r.resolved && r.message.includes('quarantined'));
    expect(other.length).toBeGreaterThan(100);
    const listed = store.listErrors({ step: otherStep, resolved: false, terms: queryFromOptions({ search: 'quarantined' }).terms, limit: 1000 }, ctx);
    expect(listed.map((r) => r.id)).toEqual(other.map((r) => r.id).sort((a, b) => b - a));
  });

  it('hands the join only the listed step’s rows', async () => {
    const match = (search('email', mainStep) as { match: string }).match;
    const ids = store.db.prepare('SELECT rowid FROM errors_fts WHERE errors_fts MATCH ?').pluck().all(match) as number[];
    expect(ids.length).toBe(rows.filter((r) => r.step === mainStep && words(r.message).some((w) => w.startsWith('email'))).length);
  });

  it('never matches the step tokens as message words', async () => {
    const token = ftsStepToken(mainStep);
    expect(store.listErrors({ step: mainStep, resolved: false, terms: queryFromOptions({ search: token }).terms, limit: 10 }, ctx)).toEqual([]);
    expect(store.listErrors({ step: mainStep, resolved: false, terms: queryFromOptions({ query: `msg:${token}` }).terms, limit: 10 }, ctx)).toEqual([]);
  });
});

describe('since/until become row-id bounds, exactly', () => {
  // Ids follow time only up to the writers' skew: a writer takes its time, then may wait for the
  // write lock (busy_timeout, 10 s) before its row gets an id. Rows whose times lag their ids by up
  // to WRITER_LAG_MS (so out of order with their neighbours), some deleted (gaps in the ids), must
  // still list exactly.
  const WRITER_LAG_MS = 55_000;
  let dir: TempHome;
  let s: SqliteCore;
  let step: number;
  const model: Array<{ id: number; at: number }> = [];
  const T0 = Date.UTC(2026, 0, 1);

  beforeAll(async () => {
    dir = tempHome('flowdeck-idtime-');
    s = new SqliteCore(`${dir.home}/flowdeck.db`);
    s.db.prepare(`INSERT INTO flows (id, name, file, definition) VALUES ('f', 'F', 'f.yaml', '{}')`).run();
    step = Number(s.db.prepare(`INSERT INTO steps (flow_id, step_id, kind, name, position) VALUES ('f', 's', 'import', 'S', 0)`).run().lastInsertRowid);
    const rng = createRng(11);
    s.transaction(() => {
      for (let i = 0; i < 3000; i++) {
        const at = T0 + i * 10_000 - Math.round(rng.next() * WRITER_LAG_MS);
        const id = s.insertError({ step, occurredAt: at, source: 'application', code: '422', message: `m ${i}`, classification: 'value', classifiedBy: 'rule' });
        model.push({ id, at });
      }
    });
    const gone = model.filter((r) => r.id % 7 === 0 || (r.id > 1000 && r.id < 1400));
    const del = s.db.prepare('DELETE FROM errors WHERE id = ?');
    for (const r of gone) del.run(r.id);
    model.splice(0, model.length, ...model.filter((r) => !gone.includes(r)));
    s.db.exec('ANALYZE');
  });

  afterAll(async () => {
    s?.close();
    dir?.cleanup();
  });

  const qctx: QueryContext = { me: OPERATOR, now: T0, tagCodes: () => [] };
  const list = (query: string, extra: Partial<ErrorListQuery> = {}) =>
    s.listErrors({ step, resolved: false, terms: queryFromOptions({ query }).terms, limit: 100_000, ...extra }, qctx).map((r) => r.id);
  const iso = (ms: number) => new Date(ms).toISOString();

  it('firstErrorIdAt finds the first row at or after a time by binary search, over gaps', async () => {
    const sorted = [...model].sort((a, b) => a.id - b.id);
    expect(WRITER_LAG_MS).toBeLessThan(ID_TIME_SKEW_MS);
    expect(sorted.filter((r, i) => i > 0 && r.at < sorted[i - 1]!.at).length, 'rows out of time order').toBeGreaterThan(500);
    for (const r of sorted.filter((_, i) => i % 97 === 0)) {
      const first = s.firstErrorIdAt(r.at + ID_TIME_SKEW_MS);
      // every row from `first` on is at or after the time, less the skew
      expect(sorted.filter((x) => x.id >= first).every((x) => x.at >= r.at)).toBe(true);
    }
    expect(s.firstErrorIdAt(T0 - 3_600_000)).toBeLessThanOrEqual(sorted[0]!.id);
    expect(s.firstErrorIdAt(T0 + 3000 * 10_000 + 3_600_000)).toBe(sorted[sorted.length - 1]!.id + 1);
  });

  it('lists since, until and both exactly as a filter of occurredAt would', async () => {
    const rng = createRng(5);
    for (let k = 0; k < 40; k++) {
      const a = T0 + rng.int(-60_000, 3000 * 10_000 + 60_000);
      const b = a + rng.int(0, 5_000_000);
      const newest = (f: (r: { at: number }) => boolean) => model.filter(f).map((r) => r.id).sort((x, y) => y - x);
      expect(list(`since:${iso(a)}`)).toEqual(newest((r) => r.at >= a));
      expect(list(`until:${iso(a)}`)).toEqual(newest((r) => r.at <= a));
      expect(list(`since:${iso(a)} until:${iso(b)}`)).toEqual(newest((r) => r.at >= a && r.at <= b));
      // a keyset cursor inside the window, and the ascending walk CSV exports use
      const window = newest((r) => r.at >= a && r.at <= b);
      if (window.length > 2) {
        const cursor = window[Math.floor(window.length / 2)]!;
        expect(list(`since:${iso(a)} until:${iso(b)}`, { beforeId: cursor })).toEqual(window.filter((id) => id < cursor));
        expect(list(`since:${iso(a)} until:${iso(b)}`, { fromId: cursor })).toEqual(window.filter((id) => id >= cursor).reverse());
      }
    }
  });
});

describe('migration 5 rebuilds errors_fts with the step token', () => {
  it('keeps every message searchable and makes each row findable by its step', async () => {
    const index = MIGRATIONS.findIndex((m) => /CREATE VIRTUAL TABLE errors_fts USING fts5 \(message, step,/.test(m));
    expect(index).toBeGreaterThan(0);
    const db = new SqliteCore(':memory:').db; // fully migrated; take it back to the schema before
    db.exec(`DROP TABLE errors_fts; CREATE VIRTUAL TABLE errors_fts USING fts5 (message, content = '', contentless_delete = 1);`);
    db.prepare(`INSERT INTO flows (id, name, file, definition) VALUES ('f', 'F', 'f.yaml', '{}')`).run();
    for (const k of [1, 2]) db.prepare(`INSERT INTO steps (id, flow_id, step_id, kind, name, position) VALUES (?, 'f', ?, 'import', ?, ?)`).run(k, `s${k}`, `S${k}`, k);
    const insert = db.prepare(`INSERT INTO errors (step, occurred_at, source, code, message) VALUES (?, ?, 'application', '422', ?)`);
    const insertFts = db.prepare('INSERT INTO errors_fts (rowid, message) VALUES (?, ?)');
    for (let i = 0; i < 50; i++) {
      const message = i % 2 ? `Request ${i} timed out` : `Invalid email ${i}`;
      insertFts.run(insert.run(1 + (i % 3 === 0 ? 1 : 0), T(i), message).lastInsertRowid, message);
    }
    db.exec(MIGRATIONS[index]!);
    const count = (match: string) => db.prepare('SELECT count(*) FROM errors_fts WHERE errors_fts MATCH ?').pluck().get(match);
    for (const k of [1, 2]) {
      expect(count(`step : "${ftsStepToken(k)}"`)).toBe(db.prepare('SELECT count(*) FROM errors WHERE step = ?').pluck().get(k));
      const driver = compileErrorQuery(queryFromOptions({ search: 'timed' }).terms, ctx, { step: k }).driver as { match: string };
      expect(count(driver.match)).toBe(db.prepare(`SELECT count(*) FROM errors WHERE step = ? AND message LIKE '%timed%'`).pluck().get(k));
    }
    db.close();
  });
});

function T(i: number): number {
  return NOW - 1000 * (100 - i);
}

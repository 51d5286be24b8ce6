import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { LocalBackend } from '../../src/backend/local-backend.js';
import type { TriageService } from '../../src/backend/triage.js';
import { ConflictError, InvalidInputError, NotFoundError } from '../../src/domain/errors.js';
import { decodeId, encodeId } from '../../src/domain/ids.js';
import { MASK } from '../../src/domain/mask.js';
import type { StepRow } from '../../src/store/contract/rows.js';
import { DEMO_TAGS, seedDemoWorkspace, tagCode } from '../../src/workspace/demo.js';
import { undeclaredKeys, validateAgainst } from '../helpers/spec.js';
import { runFlowToEnd } from '../helpers/jobs.js';
import { tempHome, type TempHome } from '../helpers/workspace.js';
import { sqliteCoreOf } from '../helpers/sqlite.js';
import { storeExec, storeRows, storeValue } from '../helpers/store-sql.js';
import { testStore } from '../helpers/store.js';

// The triage mutations over a real SQLite workspace: the demo's flows, users and tag catalog, with
// errors inserted through the store (each with its request trace and retry-data snapshot) so that
// counts are exact. Every mutation is checked in the rows it leaves, in the API shape it returns,
// in its one audit row, and — for bad input or a failure mid-way — in a store left unchanged.

const OPERATOR = 'ops.lead@acme.example';
const FLOW = 'Shop orders to ERP';
const STEP = 'ERP sales orders';
const OTHER_STEP = 'CRM customer lookup';
const INVESTIGATING = tagCode('Investigating');
const NOISE = tagCode('Noise');
const KNOWN = tagCode('Known issue');

let tmp: TempHome;
let backend: LocalBackend;
let triage: TriageService;
let step: StepRow;
let other: StepRow;

const store = () => backend.ws.store;
const rowId = (errorId: string) => decodeId('error', errorId)!.rowId;
const rowOf = async (errorId: string) => (await store().errors.getError(rowId(errorId)))!;
/** A count from the store (PostgreSQL's bigint arrives as a string). */
const count = async (sql: string, params: unknown[] = []) => Number(await storeValue(backend.ws, sql, params));

/** Inserts `n` open errors on a step, oldest first; returns their errorIds, newest first. */
async function insertErrors(target: StepRow, n: number, opts: { code?: (i: number) => string; tags?: (i: number) => string[] | undefined; sharedRetryData?: number } = {}): Promise<string[]> {
  const base = Date.now() - 60_000;
  const ids: string[] = [];
  await store().withTransaction(async (tx) => {
    for (let i = 0; i < n; i++) {
      const at = base + i;
      const trace = await tx.records.insertTrace({
        step: target.key,
        time: at,
        stage: 'import',
        method: 'POST',
        statusCode: 422,
        request: { method: 'POST', url: 'http://127.0.0.1/salesOrders', headers: {} },
        response: { statusCode: 422, body: '{"errors":[]}' },
      });
      const retryData = opts.sharedRetryData ?? await tx.records.insertRetryData({ step: target.key, createdAt: at, stage: 'import', data: { id: `SO-${i}` } });
      const id = await tx.errors.insertError({
        step: target.key,
        occurredAt: at,
        source: 'application',
        code: opts.code?.(i) ?? (i % 2 === 0 ? '422' : '429'),
        message: i % 2 === 0 ? `{"errors":[{"code":"invalid_email","message":"record ${i} has no valid email"}]}` : `rate limited record ${i}`,
        classification: i % 2 === 0 ? 'value' : 'rate_limit',
        classifiedBy: 'rule',
        trace,
        retryData,
        retryAt: i % 2 === 1 ? at + 600_000 : undefined,
        tags: opts.tags?.(i),
      });
      ids.push(encodeId('error', id, at));
    }
  });
  return ids.reverse();
}

/** Everything a triage action may touch, for "the store is unchanged". */
async function snapshot() {
  const all = (sql: string) => storeRows(backend.ws, sql);
  return {
    errors: await all('SELECT * FROM errors ORDER BY id'),
    errorTags: await all('SELECT * FROM error_tags ORDER BY error, tag'),
    // SQLite's FTS5 index (PostgreSQL searches the errors table itself)
    fts: testStore() === 'sqlite' ? await all(`SELECT rowid FROM errors_fts WHERE errors_fts MATCH 'record' ORDER BY rowid`) : [],
    traces: await all('SELECT id FROM traces ORDER BY id'),
    retryData: await all('SELECT id FROM retry_data ORDER BY id'),
    users: await all('SELECT * FROM users ORDER BY id'),
    tags: await all('SELECT * FROM tags ORDER BY code'),
    audit: await all('SELECT * FROM audit ORDER BY id'),
  };
}

async function auditRows(action: string) {
  return (await storeRows<{ actor: string; flow_id: string; step_id: string; count: number; detail: string }>(backend.ws, 'SELECT * FROM audit WHERE action = ? ORDER BY id', [action])).map((r) => ({
    ...r,
    count: Number(r.count),
    detail: JSON.parse(r.detail) as { errorIds: string[] } & Record<string, unknown>,
  }));
}

/** errors.tags and error_tags say the same thing for every error (state included). */
async function expectTagIndexInSync(): Promise<void> {
  const elements = testStore() === 'postgres' ? 'jsonb_array_elements_text(e.tags)' : 'json_each(e.tags)';
  const tag = testStore() === 'postgres' ? 't' : 't.value';
  const key = (r: Record<string, unknown>) => `${Number(r.error)} ${String(r.tag)}`;
  const ordered = (rows: Array<Record<string, unknown>>) => rows.map((r) => ({ tag: r.tag, step: Number(r.step), resolved: Boolean(r.resolved), error: Number(r.error) })).sort((x, y) => (key(x) < key(y) ? -1 : key(x) > key(y) ? 1 : 0));
  const fromColumn = await storeRows(backend.ws, `SELECT ${tag} AS tag, e.step, e.resolved, e.id AS error FROM errors e, ${elements} t`);
  const fromTable = await storeRows(backend.ws, 'SELECT tag, step, resolved, error FROM error_tags');
  expect(ordered(fromTable)).toEqual(ordered(fromColumn));
}

function expectShape(schema: string, value: unknown): void {
  expect(validateAgainst(schema, value)).toEqual([]);
  expect(undeclaredKeys(schema, value)).toEqual([]);
}

async function expectUnchanged(action: () => Promise<unknown>, kind: new (...args: never[]) => Error, message?: RegExp): Promise<Error> {
  const before = await snapshot();
  const error = await action().then(
    () => undefined,
    (e: unknown) => e as Error,
  );
  expect(error, 'expected the action to fail').toBeInstanceOf(kind);
  if (message) expect(error!.message).toMatch(message);
  expect(await snapshot()).toEqual(before);
  return error!;
}

beforeEach(async () => {
  tmp = tempHome();
  backend = new LocalBackend(await seedDemoWorkspace(tmp.home, { ...process.env, FLOWDECK_USER: OPERATOR }));
  triage = backend.triage;
  const flow = await backend.resolveFlow(FLOW);
  step = await backend.resolveStep(flow, STEP);
  other = await backend.resolveStep(flow, OTHER_STEP);
});

afterEach(async () => {
  await backend.close();
  tmp.cleanup();
});

describe('assign and unassign', () => {
  it('assigns a known user by email: assignee, assignedBy the operator, _assignedToUserId; one audit row', async () => {
    const ids = await insertErrors(step, 6);
    const response = await triage.assign(FLOW, STEP, { errorIds: [ids[0]!, ids[3]!] }, 'ANA.LIMA@acme.example');
    expectShape('FlowStepAffectedErrorsResponse', response);
    expect(response.errorsToReturn).toEqual([ids[0], ids[3]]);

    const ana = (await store().triage.users()).find((u) => u.email === 'ana.lima@acme.example')!;
    const listed = (await backend.listErrors(FLOW, STEP, { limit: 10 })).errors;
    for (const e of listed) {
      if (e.errorId === ids[0] || e.errorId === ids[3]) {
        // the known user's stored email, whatever case was typed
        expect(e).toMatchObject({ assignedTo: 'ana.lima@acme.example', assignedBy: OPERATOR, _assignedToUserId: encodeId('user', ana.id, ana.createdAt) });
      } else {
        expect(e.assignedTo).toBeUndefined();
      }
    }
    const audit = (await auditRows('assign'));
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ actor: OPERATOR, flow_id: step.flowId, step_id: step.stepId, count: 2 });
    expect(audit[0]!.detail.errorIds).toEqual([ids[0], ids[3]]);
    expect((await store().triage.users()).filter((u) => u.synthetic)).toEqual([]);
  });

  it('stores an unknown email verbatim behind a synthetic user', async () => {
    const ids = await insertErrors(step, 2);
    await triage.assign(FLOW, STEP, { errorIds: [ids[1]!] }, 'Contractor@Partner.example');
    const row = await rowOf(ids[1]!);
    expect(row.assignee).toBe('Contractor@Partner.example');
    const users = await triage.listUsers();
    const synthetic = users.find((u) => u.email === 'Contractor@Partner.example')!;
    expect(synthetic).toMatchObject({ synthetic: true });
    expect(synthetic.name).toBeUndefined();
    expect(row.assigneeUser).toBe(decodeId('user', synthetic._id)!.rowId);
    expect(users.filter((u) => !u.synthetic).map((u) => u.email)).toEqual(['ana.lima@acme.example', 'ben.okafor@acme.example', 'chen.wei@acme.example']);
    // assigning the same address again reuses its user
    await triage.assign(FLOW, STEP, { errorIds: [ids[0]!] }, 'contractor@partner.example');
    expect((await triage.listUsers()).filter((u) => u.synthetic)).toHaveLength(1);
  });

  it('--all walks batches of 1000 in one transaction and leaves other steps alone', async () => {
    const ids = await insertErrors(step, 2500);
    const elsewhere = await insertErrors(other, 3);
    const response = await triage.assign(FLOW, STEP, { all: true }, 'ben.okafor@acme.example');
    expect(response.errorsToReturn).toHaveLength(2500);
    expect(new Set(response.errorsToReturn)).toEqual(new Set(ids));
    expect(await count(`SELECT count(*) AS n FROM errors WHERE step = ? AND assignee = 'ben.okafor@acme.example'`, [step.key])).toBe(2500);
    for (const id of elsewhere) expect((await rowOf(id)).assignee).toBeNull();
    expect((await auditRows('assign'))).toHaveLength(1);
    expect((await auditRows('assign'))[0]!.count).toBe(2500);
  });

  it('a failure in a later batch rolls back the earlier ones', async () => {
    const ids = await insertErrors(step, 2500);
    // The oldest error is in the last batch (selections are newest first): a trigger fails its update.
    const last = rowId(ids[ids.length - 1]!);
    if (testStore() === 'postgres') {
      await storeExec(backend.ws, `CREATE FUNCTION boom() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'disk on fire'; END $$`);
      await storeExec(backend.ws, `CREATE TRIGGER boom BEFORE UPDATE OF assignee ON errors FOR EACH ROW WHEN (NEW.id = ${last}) EXECUTE FUNCTION boom()`);
    } else {
      await storeExec(backend.ws, `CREATE TRIGGER boom BEFORE UPDATE OF assignee ON errors WHEN NEW.id = ${last} BEGIN SELECT RAISE(ABORT, 'disk on fire'); END`);
    }
    const before = await snapshot();
    await expect(triage.assign(FLOW, STEP, { all: true }, 'ana.lima@acme.example')).rejects.toThrow(/disk on fire/);
    expect(await snapshot()).toEqual(before);
  });

  it('refuses bad input and changes nothing', async () => {
    const ids = await insertErrors(step, 3);
    const elsewhere = await insertErrors(other, 1);
    await expectUnchanged(() => triage.assign(FLOW, STEP, { errorIds: [ids[0]!] }, 'not an email'), InvalidInputError, /not an email address/);
    await expectUnchanged(() => triage.assign(FLOW, STEP, { errorIds: [ids[0]!] }, 'ana@'), InvalidInputError);
    await expectUnchanged(() => triage.assign(FLOW, STEP, {}, 'ana.lima@acme.example'), InvalidInputError, /say which errors/);
    await expectUnchanged(() => triage.assign('No such flow', STEP, { all: true }, 'ana.lima@acme.example'), NotFoundError, /flow not found/);
    await expectUnchanged(() => triage.assign(FLOW, 'No such step', { all: true }, 'ana.lima@acme.example'), NotFoundError, /step/);
    // one good id and one unknown: nothing happens, not half of it
    const unknown = encodeId('error', 999_999, Date.now());
    await expectUnchanged(() => triage.assign(FLOW, STEP, { errorIds: [ids[0]!, unknown] }, 'ana.lima@acme.example'), NotFoundError, new RegExp(unknown));
    // an id of another step, and a forged id whose time does not match its row
    await expectUnchanged(() => triage.assign(FLOW, STEP, { errorIds: [elsewhere[0]!] }, 'ana.lima@acme.example'), NotFoundError);
    const forged = encodeId('error', rowId(ids[0]!), Date.now() + 86_400_000);
    await expectUnchanged(() => triage.assign(FLOW, STEP, { errorIds: [forged] }, 'ana.lima@acme.example'), NotFoundError);
    await expectUnchanged(() => triage.assign(FLOW, STEP, { errorIds: ['nonsense'] }, 'ana.lima@acme.example'), NotFoundError);
    // a resolved error cannot be assigned
    await triage.resolve(FLOW, STEP, { errorIds: [ids[2]!] });
    await expectUnchanged(() => triage.assign(FLOW, STEP, { errorIds: [ids[2]!] }, 'ana.lima@acme.example'), InvalidInputError, /resolved, not open/);
  });

  it('unassign answers only the ids that were assigned', async () => {
    const ids = await insertErrors(step, 4);
    await triage.assign(FLOW, STEP, { errorIds: [ids[0]!, ids[2]!] }, 'chen.wei@acme.example');
    const response = await triage.unassign(FLOW, STEP, { all: true });
    expectShape('FlowStepErrorsUnassignResponse', response);
    expect(response.errorsToReturn).toEqual([ids[0], ids[2]]);
    for (const id of ids) expect(await rowOf(id)).toMatchObject({ assignee: null, assignedBy: null, assigneeUser: null });
    expect((await triage.unassign(FLOW, STEP, { all: true })).errorsToReturn).toEqual([]);
    expect((await auditRows('unassign')).map((a) => a.count)).toEqual([2, 0]);
  });

  it('a dry run answers exactly what would change and changes nothing', async () => {
    const ids = await insertErrors(step, 5);
    const before = await snapshot();
    const dry = await triage.assign(FLOW, STEP, { query: 'code:422' }, 'ana.lima@acme.example', { dryRun: true });
    const codes = await Promise.all([ids[0]!, ids[2]!, ids[4]!].map(async (id) => [id, (await rowOf(id)).code] as const));
    expect(dry.errorsToReturn).toEqual(codes.filter(([, code]) => code === '422').map(([id]) => id));
    expect(await snapshot()).toEqual(before);
    const real = await triage.assign(FLOW, STEP, { query: 'code:422' }, 'ana.lima@acme.example');
    expect(real).toEqual(dry);
  });
});

describe('tags', () => {
  it('add and remove merge per error, in order; set replaces; names and codes both work', async () => {
    const ids = await insertErrors(step, 3, { tags: (i) => (i === 0 ? [KNOWN] : undefined) });
    const oldest = ids[2]!;
    let response = await triage.setTags(FLOW, STEP, { all: true }, { add: ['investigating', NOISE] });
    expectShape('FlowStepTagsResponse', response);
    expect(response.errorsToReturn).toEqual({ errors: ids, resolved: [] });
    expect((await rowOf(oldest)).tags).toEqual([KNOWN, INVESTIGATING, NOISE]);
    expect((await rowOf(ids[0]!)).tags).toEqual([INVESTIGATING, NOISE]);

    response = await triage.setTags(FLOW, STEP, { errorIds: [oldest] }, { remove: ['Known issue'], add: ['Waiting on target'] });
    expect((await rowOf(oldest)).tags).toEqual([INVESTIGATING, NOISE, tagCode('Waiting on target')]);

    await triage.setTags(FLOW, STEP, { errorIds: [ids[0]!] }, { set: ['Noise'] });
    expect((await rowOf(ids[0]!)).tags).toEqual([NOISE]);
    await triage.setTags(FLOW, STEP, { errorIds: [ids[0]!] }, { remove: ['Noise'] });
    expect((await rowOf(ids[0]!)).tags).toEqual([]);
    expect(await storeRows(backend.ws, 'SELECT tags FROM errors WHERE id = ?', [rowId(ids[0]!)])).toEqual([{ tags: null }]);
    await expectTagIndexInSync();

    // the listing shows names, and the tag filter (driven by error_tags) finds exactly them
    const listed = await backend.listErrors(FLOW, STEP, { query: 'tag:Investigating' });
    expect(listed.errors.map((e) => e.errorId)).toEqual([ids[1], ids[2]]);
    expect(listed.errors[1]!.tags).toEqual(['Investigating', 'Noise', 'Waiting on target']);
    expect((await auditRows('tag'))).toHaveLength(4);
  });

  it('set [] clears; tags of 2,500 errors stay in sync with error_tags', async () => {
    await insertErrors(step, 2500, { tags: (i) => (i % 3 === 0 ? [KNOWN, NOISE] : undefined) });
    await triage.setTags(FLOW, STEP, { all: true }, { set: [INVESTIGATING, KNOWN] });
    await expectTagIndexInSync();
    expect((await triage.listTags()).find((t) => t.tagId === INVESTIGATING)).toMatchObject({ numOpenError: 2500, numResolved: 0 });
    await triage.setTags(FLOW, STEP, { query: 'code:422' }, { remove: [KNOWN] });
    await expectTagIndexInSync();
    await triage.setTags(FLOW, STEP, { all: true }, { set: [] });
    expect(await count('SELECT count(*) AS n FROM error_tags')).toBe(0);
    expect(await count('SELECT count(*) AS n FROM errors WHERE tags IS NOT NULL')).toBe(0);
  });

  it('retags resolved errors too, and says which list each id is on', async () => {
    const ids = await insertErrors(step, 3);
    await triage.resolve(FLOW, STEP, { errorIds: [ids[1]!] });
    const response = await triage.setTags(FLOW, STEP, { errorIds: ids }, { add: ['Noise'] });
    expect(response.errorsToReturn).toEqual({ errors: [ids[0], ids[2]], resolved: [ids[1]] });
    await expectTagIndexInSync();
    // --all/filters reach one state: resolved ones with `resolved: true`
    const onlyResolved = await triage.setTags(FLOW, STEP, { all: true, resolved: true }, { add: ['Known issue'] });
    expect(onlyResolved.errorsToReturn).toEqual({ errors: [], resolved: [ids[1]] });
    expect((await rowOf(ids[0]!)).tags).toEqual([NOISE]);
    expect((await rowOf(ids[1]!)).tags).toEqual([NOISE, KNOWN]);
    await expectTagIndexInSync();
  });

  it('an unknown tag is refused by name and changes nothing', async () => {
    const ids = await insertErrors(step, 2);
    await expectUnchanged(() => triage.setTags(FLOW, STEP, { errorIds: ids }, { add: ['Noise', 'Urgent!'] }), InvalidInputError, /unknown tag "Urgent!"/);
    await expectUnchanged(() => triage.setTags(FLOW, STEP, { errorIds: ids }, { set: ['Noise'], add: ['Noise'] }), InvalidInputError);
    await expectUnchanged(() => triage.setTags(FLOW, STEP, { errorIds: ids }, {}), InvalidInputError);
    await expectUnchanged(() => triage.setTags(FLOW, STEP, { errorIds: [ids[0]!, encodeId('error', 424_242, Date.now())] }, { add: ['Noise'] }), NotFoundError);
  });

  it('the catalog: create with a derived or given code, refuse duplicates, delete from every error', async () => {
    const created = await triage.createTag('  Needs   review ');
    expect(created).toMatchObject({ tagId: tagCode('Needs review'), tag: 'Needs review', numOpenError: 0 });
    expect(await triage.createTag('Escalated', 'esc22')).toMatchObject({ tagId: 'ESC22', tag: 'Escalated' });
    await expectUnchanged(() => triage.createTag('needs REVIEW'), ConflictError, /already exists/);
    await expectUnchanged(() => triage.createTag('Other', 'ESC22'), ConflictError, /already used by "Escalated"/);
    await expectUnchanged(() => triage.createTag('Bad code', 'AB1'), InvalidInputError, /5 characters/);
    await expectUnchanged(() => triage.createTag('a,b'), InvalidInputError, /comma/);
    await expectUnchanged(() => triage.createTag('   '), InvalidInputError);
    expect((await triage.listTags()).map((t) => t.tag)).toEqual([...DEMO_TAGS, 'Needs review', 'Escalated'].sort((a, b) => a.localeCompare(b, 'en', { sensitivity: 'base' })));

    const ids = await insertErrors(step, 4, { tags: (i) => (i < 2 ? [NOISE] : [KNOWN]) });
    await triage.setTags(FLOW, STEP, { all: true }, { add: ['ESC22'] });
    await triage.resolve(FLOW, STEP, { errorIds: [ids[0]!] });
    const before = await snapshot();
    const dry = await triage.deleteTag('escalated', { dryRun: true });
    expect(await snapshot()).toEqual(before);
    const deleted = await triage.deleteTag('escalated');
    expect(deleted).toEqual(dry);
    expect(deleted).toMatchObject({ tagId: 'ESC22', numOpenError: 3, numResolved: 1, numErrorsUntagged: 4 });
    expect(await Promise.all(ids.map(async (id) => (await rowOf(id)).tags))).toEqual([[KNOWN], [KNOWN], [NOISE], [NOISE]]);
    await expectTagIndexInSync();
    expect((await triage.listTags()).some((t) => t.tagId === 'ESC22')).toBe(false);
    await expectUnchanged(() => triage.deleteTag('Escalated'), NotFoundError);
    expect((await auditRows('tag_delete'))).toMatchObject([{ count: 4 }]);
  });
});

describe('selection by retryDataKeys', () => {
  /** The retryDataKey of an inserted error (each has a snapshot of its own). */
  const keyOf = async (errorId: string) => {
    const row = await rowOf(errorId);
    return encodeId('retryData', row.retryData!, row.occurredAt);
  };

  it('a malformed retryDataKey is refused by name and changes nothing, never dropped', async () => {
    const ids = await insertErrors(step, 3);
    await expectUnchanged(async () => triage.resolve(FLOW, STEP, { retryDataKeys: [await keyOf(ids[0]!), 'abc'] }), InvalidInputError, /^"abc" is not a retryDataKey$/);
    // an errorId is not a retryDataKey either: its kind byte says so
    await expectUnchanged(() => triage.assign(FLOW, STEP, { retryDataKeys: [ids[1]!] }, 'ana.lima@acme.example'), InvalidInputError, new RegExp(`"${ids[1]}" is not a retryDataKey`));
    await expectUnchanged(() => backend.retries.retry(FLOW, STEP, { retryDataKeys: ['abc'] }), InvalidInputError, /"abc" is not a retryDataKey/);
    await expectUnchanged(async () => backend.retries.preview(FLOW, STEP, { retryDataKeys: [await keyOf(ids[2]!), 'abc'] }), InvalidInputError, /"abc" is not a retryDataKey/);
    // a well-formed key of no error selects nothing, as before
    expect((await triage.resolve(FLOW, STEP, { retryDataKeys: [encodeId('retryData', 999_999, Date.now())] })).errorsToReturn).toEqual([]);
    for (const id of ids) expect((await rowOf(id)).resolved).toBe(false);
  });

  it('errorIds and retryDataKeys together select both; with --all they are refused', async () => {
    const ids = await insertErrors(step, 4);
    const assigned = await triage.assign(FLOW, STEP, { errorIds: [ids[0]!], retryDataKeys: [await keyOf(ids[2]!), await keyOf(ids[0]!)] }, 'ana.lima@acme.example');
    expect(assigned.errorsToReturn).toEqual([ids[0], ids[2]]);
    await expectUnchanged(async () => triage.assign(FLOW, STEP, { errorIds: [ids[1]!], retryDataKeys: [await keyOf(ids[3]!)], all: true }, 'ana.lima@acme.example'), InvalidInputError, /not both/);
    // tags: errorIds in either state, keys in the one asked for (open here)
    await triage.resolve(FLOW, STEP, { errorIds: [ids[1]!] });
    const tagged = await triage.setTags(FLOW, STEP, { errorIds: [ids[1]!], retryDataKeys: [await keyOf(ids[3]!)] }, { add: ['Noise'] });
    expect(tagged.errorsToReturn).toEqual({ errors: [ids[3]], resolved: [ids[1]] });
  });

  it('a retry preview names the records and errors a retry would take, and queues nothing', async () => {
    const ids = await insertErrors(step, 3);
    const jobs = () => count('SELECT count(*) FROM jobs');
    const before = { store: await snapshot(), jobs: await jobs() };
    const preview = await backend.retries.preview(FLOW, STEP, { errorIds: [ids[2]!], retryDataKeys: [await keyOf(ids[0]!)] });
    expect(preview).toEqual({ count: 2, retryDataKeys: [await keyOf(ids[0]!), await keyOf(ids[2]!)], errorsToReturn: [ids[0], ids[2]], alreadyQueued: 0 });
        const codes = await Promise.all(ids.map(async (id) => [id, (await rowOf(id)).code] as const));
    expect((await backend.retries.preview(FLOW, STEP, { query: 'code:422' })).errorsToReturn).toEqual(codes.filter(([, code]) => code === '422').map(([id]) => id));
    expect({ store: await snapshot(), jobs: await jobs() }).toEqual(before);
  });
  it('a retry preview leaves out the records another unfinished retry job has queued, as the retry does', async () => {
    const ids = await insertErrors(step, 4);
    // two errors of one record share its snapshot: one record, two errors
    const shared = await store().records.insertRetryData({ step: step.key, createdAt: Date.now(), stage: 'import', data: { id: 'SO-shared' } });
    const pair = await insertErrors(step, 2, { sharedRetryData: shared });
    const busy = (await backend.runtime.retries().queue(step.flowId, step.key, [(await rowOf(ids[1]!)).retryData!, shared], OPERATOR, {}))!;
    const jobs = () => count('SELECT count(*) FROM jobs');
    const before = { store: await snapshot(), jobs: await jobs() };

    const all = await backend.retries.preview(FLOW, STEP, { all: true });
    const heldBy = [(await backend.listJobs({ type: 'retry' }))[0]!._id];
    expect(all).toEqual({ count: 3, retryDataKeys: await Promise.all([ids[0], ids[2], ids[3]].map((id) => keyOf(id!))), errorsToReturn: [ids[0], ids[2], ids[3]], alreadyQueued: 2, heldBy });
    // only queued records: the retry refuses, and the preview says why
    const queued = await backend.retries.preview(FLOW, STEP, { errorIds: [pair[1]!, ids[1]!] });
    expect(queued).toEqual({ count: 0, retryDataKeys: [], errorsToReturn: [], alreadyQueued: 2, heldBy });
    await expectUnchanged(() => backend.retries.retry(FLOW, STEP, { errorIds: [pair[1]!, ids[1]!] }), ConflictError, /already being retried by another job/);
    expect({ store: await snapshot(), jobs: await jobs() }).toEqual(before);

    // a finished job's leftover pending items hold nothing
    await store().jobs.updateJob(busy, { status: 'failed', endedAt: Date.now() }, Date.now());
    expect(await backend.retries.preview(FLOW, STEP, { all: true })).toMatchObject({ count: 5, errorsToReturn: [...pair, ...ids], alreadyQueued: 0 });
  });

  it('a retry preview of thousands of errors reads them in batches, not one by one', async () => {
    const ids = await insertErrors(step, 3000);
    // the port, and on SQLite the core under every transaction's port too
    const spies = [vi.spyOn(store().errors, 'getError'), ...(testStore() === 'sqlite' ? [vi.spyOn(sqliteCoreOf(backend.ws), 'getError')] : [])];
    const preview = await backend.retries.preview(FLOW, STEP, { all: true });
    for (const getError of spies) expect(getError).not.toHaveBeenCalled();
    expect(preview.count).toBe(3000);
    expect(preview.errorsToReturn).toEqual(ids);
    expect(preview.retryDataKeys).toEqual(await Promise.all(ids.map((id) => keyOf(id))));
  });
});

describe('resolve, reopen, resolved list and delete', () => {
  it('resolve moves open errors to resolved: resolvedAt/By, no retryAt, tag rows follow; one audit row', async () => {
    const ids = await insertErrors(step, 4, { tags: () => [NOISE] });
    const t0 = Date.now();
    const response = await triage.resolve(FLOW, STEP, { errorIds: [ids[0]!, ids[1]!] });
    expect(response.errorsToReturn).toEqual([ids[0], ids[1]]);
    for (const id of [ids[0]!, ids[1]!]) {
      const row = await rowOf(id);
      expect(row).toMatchObject({ resolved: true, resolvedBy: OPERATOR, retryAt: null });
      expect(row.resolvedAt).toBeGreaterThanOrEqual(t0);
    }
    expect((await rowOf(ids[2]!)).resolved).toBe(false);
    await expectTagIndexInSync();
    expect((await backend.listErrors(FLOW, STEP)).errors.map((e) => e.errorId)).toEqual([ids[2], ids[3]]);
    // the tag filter on the open list no longer finds them
    expect((await backend.listErrors(FLOW, STEP, { query: 'tag:Noise' })).errors).toHaveLength(2);
    expect((await auditRows('resolve'))).toMatchObject([{ count: 2, detail: { errorIds: [ids[0], ids[1]] } }]);
    // resolving them again: they are not open
    await expectUnchanged(() => triage.resolve(FLOW, STEP, { errorIds: [ids[0]!] }), InvalidInputError, /resolved, not open/);
  });

  it('lists resolved errors in the API shape, newest first, with nextPageURL paging', async () => {
    const ids = await insertErrors(step, 7);
    await triage.resolve(FLOW, STEP, { all: true });
    const first = await triage.listResolved(FLOW, STEP, { limit: 3 });
    expectShape('FlowStepResolvedResponse', first);
    for (const e of first.resolved) {
      expect(validateAgainst('FlowStepError', e)).toEqual([]);
      expect(e.resolvedBy).toBe(OPERATOR);
      expect(Date.parse(e.resolvedAt!)).not.toBeNaN();
      expect(e.retryAt).toBeUndefined();
    }
    expect(first.resolved.map((e) => e.errorId)).toEqual(ids.slice(0, 3));
    expect(first.nextPageURL).toBe(`/v1/flows/${step.flowId}/${step.stepId}/resolved?pageSize=3&before=${ids[2]}`);
    const second = await triage.listResolved(FLOW, STEP, { limit: 3, before: ids[2]! });
    expect(second.resolved.map((e) => e.errorId)).toEqual(ids.slice(3, 6));
    const last = await triage.listResolved(FLOW, STEP, { limit: 3, before: ids[5]! });
    expect(last.resolved.map((e) => e.errorId)).toEqual([ids[6]]);
    expect(last).not.toHaveProperty('nextPageURL');
    const filtered = await triage.listResolved(FLOW, STEP, { query: 'code:429', limit: 100 });
    expect(filtered.resolved.every((e) => e.code === '429')).toBe(true);
    expect(filtered.resolved).toHaveLength(3);
    await expect(triage.listResolved(FLOW, STEP, { limit: 0 })).rejects.toBeInstanceOf(InvalidInputError);
  });

  it('reopen moves resolved errors back and clears resolvedAt/By', async () => {
    const ids = await insertErrors(step, 3, { tags: () => [KNOWN] });
    await triage.resolve(FLOW, STEP, { all: true });
    const response = await triage.reopen(FLOW, STEP, { errorIds: [ids[1]!] });
    expect(response.errorsToReturn).toEqual([ids[1]]);
    expect(await rowOf(ids[1]!)).toMatchObject({ resolved: false, resolvedAt: null, resolvedBy: null });
    await expectTagIndexInSync();
    expect((await backend.listErrors(FLOW, STEP)).errors.map((e) => e.errorId)).toEqual([ids[1]]);
    await expectUnchanged(() => triage.reopen(FLOW, STEP, { errorIds: [ids[1]!] }), InvalidInputError, /open, not resolved/);
    expect((await triage.reopen(FLOW, STEP, { all: true })).errorsToReturn).toEqual([ids[0], ids[2]]);
  });

  it('reopen refuses a superseded error only when it is named by errorId; keys and filters skip it silently', async () => {
    const ids = await insertErrors(step, 2);
    // a record that failed again on retry: the older error superseded by the newer one
    const shared = await store().records.insertRetryData({ step: step.key, createdAt: Date.now(), stage: 'import', data: { id: 'SO-again' } });
    const [newer, older] = await insertErrors(step, 2, { sharedRetryData: shared });
    await triage.resolve(FLOW, STEP, { all: true });
    await storeExec(backend.ws, `UPDATE errors SET resolved_by = 'superseded' WHERE id = ?`, [rowId(older!)]);
    const key = encodeId('retryData', shared, (await rowOf(newer!)).occurredAt);

    await expectUnchanged(() => triage.reopen(FLOW, STEP, { errorIds: [older!] }), InvalidInputError, new RegExp(`^error ${older} was superseded`));
    await expectUnchanged(() => triage.reopen(FLOW, STEP, { errorIds: [ids[0]!, older!], retryDataKeys: [key] }), InvalidInputError, new RegExp(`^error ${older} was superseded`));
    // an errorId and a key: the key's superseded error is skipped, as with the key alone
    const mixed = await triage.reopen(FLOW, STEP, { errorIds: [ids[0]!], retryDataKeys: [key] });
    expect(mixed.errorsToReturn).toEqual([newer, ids[0]]);
    expect(await rowOf(older!)).toMatchObject({ resolved: true, resolvedBy: 'superseded' });
    expect((await triage.reopen(FLOW, STEP, { all: true })).errorsToReturn).toEqual([ids[1]]);
    expect((await rowOf(older!)).resolved).toBe(true);
  });

  it('delete removes resolved errors with their search rows, tag rows, traces and unshared snapshots', async () => {
    const ids = await insertErrors(step, 4, { tags: () => [NOISE] });
    // two errors of one record (a retry that failed again) share its snapshot
    const shared = await store().records.insertRetryData({ step: step.key, createdAt: Date.now(), stage: 'import', data: { id: 'SO-shared' } });
    const pair = await insertErrors(step, 2, { sharedRetryData: shared });
    await triage.resolve(FLOW, STEP, { errorIds: [ids[0]!, ids[1]!, pair[0]!] });
    const gone = await Promise.all([ids[0]!, ids[1]!, pair[0]!].map(rowOf));

    await expectUnchanged(() => triage.deleteResolved(FLOW, STEP, { errorIds: [ids[0]!, ids[2]!] }), InvalidInputError, /open, not resolved/);
    const response = await triage.deleteResolved(FLOW, STEP, { all: true });
    expect(response.errorsToReturn).toEqual([pair[0], ids[0], ids[1]]);
    for (const row of gone) {
      expect(await store().errors.getError(row.id)).toBeUndefined();
      expect(await store().records.getTrace(row.trace!)).toBeUndefined();
      expect(await count('SELECT count(*) AS n FROM error_tags WHERE error = ?', [row.id])).toBe(0);
    }
    expect(await store().records.getRetryData(gone[0]!.retryData!)).toBeUndefined();
    expect(await store().records.getRetryData(shared)).toBeDefined(); // still the open twin's
    if (testStore() === 'sqlite') {
      // SQLite's FTS5 rows went with them (PostgreSQL searches the errors table itself)
      const searchable = (await storeRows<{ rowid: number }>(backend.ws, `SELECT rowid FROM errors_fts WHERE errors_fts MATCH 'record'`)).map((r) => r.rowid);
      expect(searchable.sort((a, b) => a - b)).toEqual([ids[2]!, ids[3]!, pair[1]!].map(rowId).sort((a, b) => a - b));
    }
    expect((await backend.listErrors(FLOW, STEP, { query: 'record' })).errors).toHaveLength(3);
    expect((await triage.listResolved(FLOW, STEP)).resolved).toEqual([]);
    await expectTagIndexInSync();
    await expectUnchanged(() => triage.getError(ids[0]!), NotFoundError);
    expect((await auditRows('delete_resolved'))).toMatchObject([{ count: 3, detail: { errorIds: [pair[0], ids[0], ids[1]] } }]);

    // the last error of the shared snapshot takes it with it
    await triage.resolve(FLOW, STEP, { errorIds: [pair[1]!] });
    await triage.deleteResolved(FLOW, STEP, { errorIds: [pair[1]!] });
    expect(await store().records.getRetryData(shared)).toBeUndefined();
  });

  it('resolve --all of 2,500 errors, then a dry-run delete changes nothing', async () => {
    await insertErrors(step, 2500, { tags: (i) => (i % 2 ? [NOISE] : undefined) });
    const resolved = await triage.resolve(FLOW, STEP, { all: true });
    expect(resolved.errorsToReturn).toHaveLength(2500);
    expect((await store().errors.stepErrorStats(step.key)).open).toBe(0);
    await expectTagIndexInSync();
    const before = await snapshot();
    expect((await triage.deleteResolved(FLOW, STEP, { all: true }, { dryRun: true })).errorsToReturn).toHaveLength(2500);
    expect(await snapshot()).toEqual(before);
  });
});

describe('getError, users, config', () => {
  it('getError returns the open shape, then the resolved one', async () => {
    const [id] = await insertErrors(step, 1, { tags: () => [INVESTIGATING] });
    const open = await triage.getError(id!);
    expect(open).toMatchObject({ flowId: step.flowId, flowName: FLOW, stepId: step.stepId, stepName: STEP, resolved: false });
    expectShape('FlowStepError', open.error);
    expect(open.error).toMatchObject({ errorId: id, code: '422', tags: ['Investigating'] });
    expect(open.error).not.toHaveProperty('resolvedAt');
    await triage.resolve(FLOW, STEP, { errorIds: [id!] });
    const resolved = await triage.getError(id!);
    expect(resolved.resolved).toBe(true);
    expect(resolved.error).toMatchObject({ errorId: id, resolvedBy: OPERATOR });
    await expect(triage.getError('0123456789abcdef01234567')).rejects.toBeInstanceOf(NotFoundError);
    await expect(triage.getError(encodeId('error', rowId(id!), Date.now() + 3_600_000))).rejects.toBeInstanceOf(NotFoundError);
  });

  it('config: dotted keys, secrets always masked, user.email checked', async () => {
    expect(await triage.getConfig('demo')).toBe(MASK);
    expect(await triage.getConfig('secrets.erpToken')).toBe(MASK);
    const all = (await triage.getConfig()) as { secrets: Record<string, string> };
    expect(Object.values(all.secrets)).toEqual([MASK, MASK]);
    expect(JSON.stringify(all)).not.toContain(backend.ws.config.get('secrets')!.erpToken);
    await triage.setConfig('user.email', 'night.shift@acme.example');
    expect(await triage.getConfig('user')).toEqual({ email: 'night.shift@acme.example' });
    await expect(triage.setConfig('user.email', 'nope')).rejects.toBeInstanceOf(InvalidInputError);
    await expect(triage.setConfig('secrets', 'flat')).rejects.toBeInstanceOf(InvalidInputError);
    await expect(triage.setConfig('bad key!', 'x')).rejects.toBeInstanceOf(InvalidInputError);
    await expect(triage.getConfig('no.such.key')).rejects.toBeInstanceOf(InvalidInputError);
    await expect(triage.getConfig('secrets.noSuchToken')).rejects.toBeInstanceOf(NotFoundError);
    await triage.setConfig('secrets.crmToken', 'crm_s3cr3t_value');
    expect(await triage.getConfig('secrets.crmToken')).toBe(MASK);
    // the audit keeps which key changed, never a secret's value
    const audit = (await storeRows<{ detail: string }>(backend.ws, `SELECT detail FROM audit WHERE action = 'config_set' ORDER BY id`)).map((r) => r.detail);
    expect(audit.map((d) => JSON.parse(d))).toEqual([{ key: 'user.email', value: 'night.shift@acme.example' }, { key: 'secrets.crmToken', value: MASK }]);
  });
});

describe('config keys', () => {
  it('set takes only the keys flowdeck reads, refusing any other with the list of them; get the same', async () => {
    const before = JSON.stringify(backend.ws.config.store);
    const unknown = /^unknown config key "(usr\.email|foo\.bar|secrets|user\.name)" \(known keys: user\.email, secrets\.<name>\)$/;
    await expectUnchanged(() => triage.setConfig('usr.email', 'ana.lima@acme.example'), InvalidInputError, unknown);
    await expectUnchanged(() => triage.setConfig('foo.bar', 1), InvalidInputError, unknown);
    await expectUnchanged(() => triage.setConfig('secrets', 'flat'), InvalidInputError, unknown);
    await expectUnchanged(() => triage.setConfig('user.name', 'Ana'), InvalidInputError, unknown);
    // the demo marker is read, but set by hand it would let `demo --reset` wipe a real workspace
    await expectUnchanged(() => triage.setConfig('demo', false), InvalidInputError, /written by flowdeck demo only/);
    expect(JSON.stringify(backend.ws.config.store)).toBe(before);
    await expect(triage.getConfig('foo.bar')).rejects.toThrow(/^unknown config key "foo\.bar" \(known keys: user\.email, secrets\.<name>, demo\)$/);
    expect(await triage.getConfig('demo')).toBe(MASK);

    // a {{config.path}} a connection uses becomes a known key
    writeFileSync(
      join(backend.ws.flowsDir, 'partner.yaml'),
      'connections:\n  - name: Partner\n    http:\n      baseURI: "{{config.partner.baseUrl}}"\n      auth: { type: bearer, token: "{{ config.secrets.partnerToken }}" }\n',
    );
    await backend.ws.reloadCatalog();
    await expect(triage.setConfig('partner.url', 'x')).rejects.toThrow('unknown config key "partner.url" (known keys: user.email, secrets.<name>, partner.baseUrl)');
    await triage.setConfig('partner.baseUrl', 'http://127.0.0.1:9');
    await triage.setConfig('secrets.partnerToken', 'p_s3cr3t');
    expect(await triage.getConfig('partner')).toEqual({ baseUrl: MASK });
  });

  it('a value a connection references is a secret: masked in the audit and by get, whole config included; only user.email is shown', async () => {
    writeFileSync(
      join(backend.ws.flowsDir, 'partner.yaml'),
      'connections:\n  - name: Partner\n    http:\n      baseURI: "http://127.0.0.1:9"\n      auth: { type: bearer, token: "{{config.partner.token}}" }\n',
    );
    await backend.ws.reloadCatalog();
    await triage.setConfig('partner.token', 'p_t0ken_value');
    await triage.setConfig('user.email', 'night.shift@acme.example');
    const audit = (await storeRows<{ detail: string }>(backend.ws, `SELECT detail FROM audit WHERE action = 'config_set' ORDER BY id`)).map((r) => r.detail);
    expect(audit.map((d) => JSON.parse(d))).toEqual([{ key: 'partner.token', value: MASK }, { key: 'user.email', value: 'night.shift@acme.example' }]);
    expect(await triage.getConfig('partner.token')).toBe(MASK);
    expect(await triage.getConfig('partner')).toEqual({ token: MASK });
    const all = (await triage.getConfig()) as Record<string, unknown>;
    expect(JSON.stringify(all)).not.toContain('p_t0ken_value');
    expect(all).toMatchObject({ user: { email: 'night.shift@acme.example' }, partner: { token: MASK }, demo: MASK });
    expect(backend.ws.config.get('partner.token')).toBe('p_t0ken_value');
  });

  it('get shows a key that is stored but no longer referenced (masked); refuses only a key neither known nor stored', async () => {
    const file = join(backend.ws.flowsDir, 'partner.yaml');
    writeFileSync(file, 'connections:\n  - name: Partner\n    http:\n      baseURI: "http://127.0.0.1:9"\n      auth: { type: bearer, token: "{{config.partner.token}}" }\n');
    await backend.ws.reloadCatalog();
    await triage.setConfig('partner.token', 'p_t0ken_value');
    rmSync(file);
    await backend.ws.reloadCatalog();
    expect(await triage.getConfig('partner.token')).toBe(MASK);
    expect(await triage.getConfig('partner')).toEqual({ token: MASK });
    await expect(triage.getConfig('partner.other')).rejects.toThrow(/^unknown config key "partner\.other" \(known keys: user\.email, secrets\.<name>, demo\)$/);
    // no longer referenced, it is no longer settable either
    await expectUnchanged(() => triage.setConfig('partner.token', 'x'), InvalidInputError, /^unknown config key "partner\.token"/);
    expect(backend.ws.config.get('partner.token')).toBe('p_t0ken_value');
    await expect(triage.getConfig('secrets.noSuchToken')).rejects.toBeInstanceOf(NotFoundError);
  });
});

describe('on errors the runtime recorded', () => {
  it('resolves the ERP 422s by query and deletes them with their traces', async () => {
    await runFlowToEnd(backend, FLOW);
    const invalid = (await backend.listErrors(FLOW, STEP, { query: 'code:422', limit: 1000 })).errors;
    expect(invalid.length).toBeGreaterThan(0);
    const open = (await store().errors.stepErrorStats(step.key)).open;
    const resolved = await triage.resolve(FLOW, STEP, { query: 'code:422' });
    expect(resolved.errorsToReturn).toEqual(invalid.map((e) => e.errorId));
    expect((await store().errors.stepErrorStats(step.key)).open).toBe(open - invalid.length);
    const traces = invalid.map((e) => decodeId('trace', e.reqAndResKey!)!.rowId);
    const deleted = await triage.deleteResolved(FLOW, STEP, { all: true });
    expect(deleted.errorsToReturn).toEqual(resolved.errorsToReturn);
    for (const t of traces) expect(await store().records.getTrace(t)).toBeUndefined();
  });
});

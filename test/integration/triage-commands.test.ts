import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { FlowStepError, FlowStepErrorsResponse, FlowStepResolvedResponse } from '../../src/domain/api.js';
import { commandEnv, runInProcess, type InProcessResult } from '../helpers/in-process.js';
import { undeclaredKeys, validateAgainst } from '../helpers/spec.js';
import { copyHome, tempHome, type TempHome } from '../helpers/workspace.js';
import { homeRows, homeValue } from '../helpers/store-sql.js';

// The triage commands as an operator runs them, in this process (the same output and exit codes as
// bin/flowdeck.js, without starting one per command; test/e2e/triage-cli.test.ts asks on a real
// terminal) over a demo workspace, seeded once and copied fresh for every test. --json output is
// checked against the API's schemas; bad input must give exit 1 or 2, one `flowdeck:` line and a
// store left exactly as it was; bulk and destructive actions must confirm with the count, refuse
// without a terminal, and --dry-run must change nothing. FLOWDECK_WORKER=off: no background worker
// runs the demo's automatic retries (due seconds after seeding) into the store between two looks
// at it; a waiting retry runs its job itself.

const ERP = ['Shop orders to ERP', 'ERP sales orders'];
const CRM = ['Shop customers to CRM', 'CRM contacts'];
const OPERATOR = 'night.shift@acme.example';

let seed: TempHome;
let copy: TempHome | undefined;
let home: string;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  seed = tempHome('flowdeck-triage-seed-');
  const demo = await runInProcess(commandEnv({ FLOWDECK_HOME: seed.home, FLOWDECK_USER: OPERATOR, FLOWDECK_WORKER: 'off' }), ['demo', '--no-tui']);
  if (demo.code !== 0) throw new Error(`demo failed: ${demo.stderr}`);
}, 90_000);

afterAll(() => seed?.cleanup());

beforeEach(() => {
  copy = copyHome(seed.home, 'flowdeck-triage-');
  home = copy.home;
  env = commandEnv({ FLOWDECK_HOME: home, FLOWDECK_USER: OPERATOR, FLOWDECK_WORKER: 'off' });
});

afterEach(() => copy?.cleanup());

const run = (args: string[]) => runInProcess(env, args);

/** Exit 0 with nothing on stderr; the parsed stdout. */
async function json<T>(args: string[]): Promise<T> {
  const result = await run([...args, '--json']);
  expect(result.stderr, `flowdeck ${args.join(' ')}`).toBe('');
  expect(result.code).toBe(0);
  return JSON.parse(result.stdout) as T;
}

function expectShape(schema: string, value: unknown): void {
  expect(validateAgainst(schema, value)).toEqual([]);
  expect(undeclaredKeys(schema, value)).toEqual([]);
}

async function openErrors(flowStep: string[], ...filters: string[]): Promise<FlowStepError[]> {
  const page = await json<FlowStepErrorsResponse>(['errors', 'list', ...flowStep, '--limit', '1000', ...filters]);
  expectShape('FlowStepErrorsResponse', page);
  return page.errors;
}

/** The rows a triage command may touch, read straight from the workspace's store. */
async function snapshot() {
  const all = (sql: string) => homeRows(home, sql);
  // PostgreSQL's bigint ids and counts arrive as strings
  const ids = async (sql: string) => (await homeRows<{ id: unknown }>(home, sql)).map((r) => ({ ...r, id: Number(r.id) }));
  return {
    errors: await all('SELECT * FROM errors ORDER BY id'),
    errorTags: await all('SELECT * FROM error_tags ORDER BY error, tag'),
    traces: await ids('SELECT id FROM traces ORDER BY id'),
    retryData: await ids('SELECT id, data FROM retry_data ORDER BY id'),
    users: await all('SELECT * FROM users ORDER BY id'),
    tags: await all('SELECT * FROM tags ORDER BY code'),
    audit: await all('SELECT * FROM audit ORDER BY id'),
  };
}

/** Exit `code`, nothing on stdout, exactly one `flowdeck:` line on stderr; returns that line. */
function expectOneLineFailure(result: InProcessResult, code: 1 | 2): string {
  expect(result.code, result.stderr).toBe(code);
  expect(result.stdout).toBe('');
  const lines = result.stderr.split('\n').filter((l) => l !== '');
  expect(lines, result.stderr).toHaveLength(1);
  expect(lines[0]!.startsWith('flowdeck: ')).toBe(true);
  return lines[0]!;
}

async function expectRefused(args: string[], code: 1 | 2, message: RegExp): Promise<void> {
  const before = await snapshot();
  const line = expectOneLineFailure(await run(args), code);
  expect(line).toMatch(message);
  expect(await snapshot()).toEqual(before);
}

describe('errors assign / unassign', () => {
  it('assigns by id; --json prints FlowStepAffectedErrorsResponse; the listing shows the assignee', async () => {
    const [first, second] = await openErrors(ERP, '--code', '422');
    const human = await run(['errors', 'assign', ...ERP, first!.errorId, '--to', 'ana.lima@acme.example']);
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout).toBe('Assigned 1 error to ana.lima@acme.example.\n');

    const response = await json<{ errorsToReturn: string[] }>(['errors', 'assign', ...ERP, second!.errorId, '--to', 'new.contractor@partner.example']);
    expectShape('FlowStepAffectedErrorsResponse', response);
    expect(response).toEqual({ errorsToReturn: [second!.errorId] });

    const mine = await openErrors(ERP, '--assignee', 'ana.lima@acme.example');
    expect(mine.map((e) => e.errorId)).toEqual([first!.errorId]);
    expect(mine[0]).toMatchObject({ assignedTo: 'ana.lima@acme.example', assignedBy: OPERATOR });
    expect(mine[0]!._assignedToUserId).toMatch(/^[0-9a-f]{24}$/);
    const users = await json<Array<{ email: string; synthetic: boolean }>>(['users', 'list']);
    expect(users.find((u) => u.email === 'new.contractor@partner.example')).toMatchObject({ synthetic: true });

    const unassigned = await json<{ errorsToReturn: string[] }>(['errors', 'unassign', ...ERP, first!.errorId, second!.errorId]);
    expectShape('FlowStepErrorsUnassignResponse', unassigned);
    expect(unassigned.errorsToReturn.sort()).toEqual([first!.errorId, second!.errorId].sort());
    const again = await json<{ errorsToReturn: string[] }>(['errors', 'unassign', ...ERP, first!.errorId]);
    expect(again).toEqual({ errorsToReturn: [] });
  });

  it('--all without --yes and without a terminal is refused with the count; --dry-run changes nothing; --yes assigns them all', async () => {
    const all = await openErrors(CRM);
    await expectRefused(['errors', 'assign', ...CRM, '--all', '--to', 'ben.okafor@acme.example'], 2, new RegExp(`Assign ${all.length} errors to ben\\.okafor@acme\\.example: confirm with --yes`));

    let before = await snapshot();
    const dry = await run(['errors', 'assign', ...CRM, '--all', '--to', 'ben.okafor@acme.example', '--dry-run']);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toMatch(new RegExp(`^Would assign ${all.length} errors to ben\\.okafor@acme\\.example \\(dry run, nothing changed\\): ${all[0]!.errorId}, `));
    const dryJson = await json<{ errorsToReturn: string[] }>(['errors', 'assign', ...CRM, '--all', '--to', 'ben.okafor@acme.example', '--dry-run']);
    expectShape('FlowStepAffectedErrorsResponse', dryJson);
    expect(dryJson.errorsToReturn).toEqual(all.map((e) => e.errorId));
    expect(await snapshot()).toEqual(before);

    const done = await run(['errors', 'assign', ...CRM, '--all', '--to', 'ben.okafor@acme.example', '--yes']);
    expect(done.stdout).toBe(`Assigned ${all.length} errors to ben.okafor@acme.example.\n`);
    expect((await openErrors(CRM, '--assignee', 'none'))).toEqual([]);

    // filters select too: only the intermittent ones are unassigned
    before = await snapshot();
    const intermittent = await openErrors(CRM, '--classification', 'intermittent');
    const un = await json<{ errorsToReturn: string[] }>(['errors', 'unassign', ...CRM, '--classification', 'intermittent', '--yes']);
    expect(un.errorsToReturn).toEqual(intermittent.map((e) => e.errorId));
    expect((await openErrors(CRM, '--assignee', 'none')).map((e) => e.errorId)).toEqual(intermittent.map((e) => e.errorId));
    expect(await snapshot()).not.toEqual(before);
  });

  it('bad input: one line, exit 1 or 2, the store unchanged', async () => {
    const [first] = await openErrors(ERP);
    const id = first!.errorId;
    await expectRefused(['errors', 'assign', ...ERP, id, '--to', 'ana.lima'], 2, /"ana\.lima" is not an email address/);
    await expectRefused(['errors', 'assign', ...ERP, '--to', 'ana.lima@acme.example'], 2, /say which errors/);
    await expectRefused(['errors', 'assign', 'No such flow', ERP[1]!, id, '--to', 'ana.lima@acme.example'], 1, /flow not found: No such flow/);
    await expectRefused(['errors', 'assign', ERP[0]!, 'No such step', id, '--to', 'ana.lima@acme.example'], 1, /step of flow "Shop orders to ERP" not found/);
    await expectRefused(['errors', 'assign', ...ERP, id, '01234567e000000000000fff', '--to', 'ana.lima@acme.example'], 1, /not found: 01234567e000000000000fff/);
    // 24 hex, but its kind byte (89) is no error's: not an id at all
    await expectRefused(['errors', 'assign', ...ERP, id, '0123456789e0000000000fff', '--to', 'ana.lima@acme.example'], 2, /"0123456789e0000000000fff" is neither an errorId nor a retryDataKey/);
    await expectRefused(['errors', 'assign', ...CRM, id, '--to', 'ana.lima@acme.example'], 1, /not found/);
    await expectRefused(['errors', 'assign', ...ERP, id], 2, /--to/);
    await expectRefused(['errors', 'tag', ...ERP, id, '--add', 'Investigating,Urgent'], 1, /unknown tag "Urgent"/);
    await expectRefused(['errors', 'tag', ...ERP, id], 2, /--set A,B, --add A, --remove B or --clear/);
    await expectRefused(['errors', 'resolve', ...ERP, '--query', 'tag:Nope', '--yes'], 1, /unknown tag "Nope"/);
    await expectRefused(['errors', 'reopen', ...ERP, id], 2, /is open, not resolved/);
    await expectRefused(['resolved', 'delete', ...ERP, id, '--yes'], 2, /is open, not resolved/);
    await expectRefused(['errors', 'show', 'abc'], 1, /error not found: abc/);
  });
});

describe('errorIds and retryDataKeys as arguments', () => {
  /** Open ERP errors with a snapshot, newest first. */
  const withKeys = async () => (await openErrors(ERP)).filter((e) => e.retryDataKey) as Array<FlowStepError & { retryDataKey: string }>;
  const jobCount = async () => Number(await homeValue(home, 'SELECT count(*) FROM jobs'));

  it('mix on a bulk command, each taken for what it is; an argument that is neither is refused by name', async () => {
    const [a, b] = await withKeys();
    const assigned = await run(['errors', 'assign', ...ERP, a!.errorId, b!.retryDataKey, '--to', 'ana.lima@acme.example']);
    expect(assigned.stdout, assigned.stderr).toBe('Assigned 2 errors to ana.lima@acme.example.\n');
    expect((await openErrors(ERP, '--assignee', 'ana.lima@acme.example')).map((e) => e.errorId)).toEqual([a!.errorId, b!.errorId]);
    const neither = /^flowdeck: "abc" is neither an errorId nor a retryDataKey$/;
    await expectRefused(['errors', 'resolve', ...ERP, a!.errorId, 'abc', '--yes'], 2, neither);
    await expectRefused(['errors', 'retry', ...ERP, b!.retryDataKey, 'abc'], 2, neither);
    await expectRefused(['errors', 'tag', ...ERP, 'abc', '--add', 'Noise'], 2, neither);
  });

  it('retry --dry-run --json prints the records and errors a retry would take, and queues nothing', async () => {
    const [a, b] = await withKeys();
    const before = { store: await snapshot(), jobs: await jobCount() };
    const mixed = await json<unknown>(['errors', 'retry', ...ERP, b!.retryDataKey, a!.errorId, '--dry-run']);
    expect(mixed).toEqual({ count: 2, retryDataKeys: [a!.retryDataKey, b!.retryDataKey], errorsToReturn: [a!.errorId, b!.errorId], alreadyQueued: 0 });
    const text = await run(['errors', 'retry', ...ERP, b!.retryDataKey, a!.errorId, '--dry-run']);
    expect(text.stdout).toBe(`Would retry 2 records (dry run, nothing changed): ${a!.retryDataKey}, ${b!.retryDataKey}\n`);
    const invalid = (await withKeys()).filter((e) => e.code === '422');
    const byFilter = await json<{ count: number; retryDataKeys: string[]; errorsToReturn: string[] }>(['errors', 'retry', ...ERP, '--code', '422', '--dry-run']);
    expect(byFilter).toEqual({ count: invalid.length, retryDataKeys: invalid.map((e) => e.retryDataKey), errorsToReturn: invalid.map((e) => e.errorId), alreadyQueued: 0 });
    expect({ store: await snapshot(), jobs: await jobCount() }).toEqual(before);
  });

  it('retry --dry-run leaves out records another unfinished retry job has queued and says how many, as the retry does', async () => {
    const [a, b] = await withKeys();
    // queued, not run: no worker picks the job up
    const queued = await run(['errors', 'retry', ...ERP, b!.retryDataKey]);
    expect(queued.stdout, queued.stderr).toMatch(/^Queued retry job /);
    const before = { store: await snapshot(), jobs: await jobCount() };
    const text = await run(['errors', 'retry', ...ERP, a!.errorId, b!.retryDataKey, '--dry-run']);
    expect(text.stdout, text.stderr).toBe(`Would retry 1 record, 1 already queued by another retry job (dry run, nothing changed): ${a!.retryDataKey}\n`);
    const holder = /^Queued retry job (\S+) /.exec(queued.stdout)![1]!;
    const dry = await json<unknown>(['errors', 'retry', ...ERP, a!.errorId, b!.retryDataKey, '--dry-run']);
    expect(dry).toEqual({ count: 1, retryDataKeys: [a!.retryDataKey], errorsToReturn: [a!.errorId], alreadyQueued: 1, heldBy: [holder] });
    const none = await json<unknown>(['errors', 'retry', ...ERP, b!.retryDataKey, '--dry-run']);
    expect(none).toEqual({ count: 0, retryDataKeys: [], errorsToReturn: [], alreadyQueued: 1, heldBy: [holder] });
    // what the dry run said: the retry itself refuses
    // …naming the job that holds the record, and how to run or cancel it
    await expectRefused(['errors', 'retry', ...ERP, b!.retryDataKey], 1, new RegExp(`already being retried by another job \\(${holder}\\): run it with "flowdeck jobs wait ${holder}" \\(or "flowdeck worker"\\), or cancel it with "flowdeck jobs cancel ${holder}"$`));
    expect({ store: await snapshot(), jobs: await jobCount() }).toEqual(before);
  });
});

describe('errors tag', () => {
  it('--add, --remove, --set and --clear; --json prints FlowStepTagsResponse; the tag filter finds them', async () => {
    const errors = await openErrors(ERP, '--code', '422');
    const ids = errors.slice(0, 3).map((e) => e.errorId);
    const added = await json<{ errorsToReturn: { errors: string[]; resolved: string[] } }>(['errors', 'tag', ...ERP, ...ids, '--add', 'Investigating,noise']);
    expectShape('FlowStepTagsResponse', added);
    expect(added.errorsToReturn.errors.sort()).toEqual([...ids].sort());
    expect(added.errorsToReturn.resolved).toEqual([]);

    const human = await run(['errors', 'tag', ...ERP, ids[0]!, '--remove', 'Noise']);
    expect(human.stdout).toBe('Retagged 1 error (-Noise).\n');
    const tagged = await openErrors(ERP, '--tag', 'Investigating');
    expect(tagged.map((e) => e.errorId).sort()).toEqual([...ids].sort());
    expect(tagged.find((e) => e.errorId === ids[0])!.tags).toEqual(['Investigating']);
    expect(tagged.find((e) => e.errorId === ids[1])!.tags).toEqual(['Investigating', 'Noise']);

    await run(['errors', 'tag', ...ERP, ids[1]!, '--set', 'Known issue,Needs data fix']);
    expect((await openErrors(ERP, '--tag', 'Known issue')).map((e) => e.tags)).toEqual([['Known issue', 'Needs data fix']]);
    await run(['errors', 'tag', ...ERP, ids[1]!, '--clear']);
    expect((await openErrors(ERP, '--tag', 'Known issue'))).toEqual([]);

    // a bulk retag asks first (no terminal here: refused), --yes does it
    const all = await openErrors(ERP);
    await expectRefused(['errors', 'tag', ...ERP, '--all', '--add', 'Noise'], 2, new RegExp(`Retag ${all.length} errors \\(\\+Noise\\): confirm with --yes`));
    await run(['errors', 'tag', ...ERP, '--all', '--add', 'Noise', '--yes']);
    expect(await openErrors(ERP, '--tag', 'Noise')).toHaveLength(all.length);
  });
});

describe('errors resolve / reopen and resolved list / delete', () => {
  it('resolve asks even for one id; --yes resolves; --json prints nothing (204) and the summary goes to stderr', async () => {
    const [a, b, c] = await openErrors(ERP, '--code', '422');
    await expectRefused(['errors', 'resolve', ...ERP, a!.errorId], 2, /Resolve 1 error: confirm with --yes/);

    const human = await run(['errors', 'resolve', ...ERP, a!.errorId, '--yes']);
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout).toBe('Resolved 1 error.\n');

    const quiet = await run(['errors', 'resolve', ...ERP, b!.errorId, c!.errorId, '--yes', '--json']);
    expect(quiet.code, quiet.stderr).toBe(0);
    expect(quiet.stdout).toBe('');
    expect(quiet.stderr).toBe('Resolved 2 errors.\n');

    const open = await openErrors(ERP);
    for (const e of [a, b, c]) expect(open.some((o) => o.errorId === e!.errorId)).toBe(false);

    const resolved = await json<FlowStepResolvedResponse>(['resolved', 'list', ...ERP]);
    expectShape('FlowStepResolvedResponse', resolved);
    expect(resolved.resolved.map((e) => e.errorId)).toEqual([a, b, c].map((e) => e!.errorId));
    for (const e of resolved.resolved) {
      expect(validateAgainst('FlowStepError', e)).toEqual([]);
      expect(e.resolvedBy).toBe(OPERATOR);
    }

    const table = await run(['resolved', 'list', ...ERP]);
    const lines = table.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^RESOLVED AT\s+RESOLVED BY\s+ERROR ID\s+AGE\s+CODE\s+SOURCE\s+CLASS\s+MESSAGE/);
    expect(lines).toHaveLength(4);
    expect(lines[1]).toContain(OPERATOR);
    expect(lines[1]).toContain(a!.errorId);

    const paged = await json<FlowStepResolvedResponse>(['resolved', 'list', ...ERP, '--limit', '2']);
    expect(paged.resolved).toHaveLength(2);
    const rest = await json<FlowStepResolvedResponse>(['resolved', 'list', ...ERP, '--page', paged.nextPageURL!]);
    expect(rest.resolved.map((e) => e.errorId)).toEqual([c!.errorId]);

    const reopened = await json<{ errorsToReturn: string[] }>(['errors', 'reopen', ...ERP, b!.errorId]);
    expectShape('FlowStepAffectedErrorsResponse', reopened);
    expect(reopened.errorsToReturn).toEqual([b!.errorId]);
    expect((await openErrors(ERP)).some((o) => o.errorId === b!.errorId)).toBe(true);
    const shown = await json<FlowStepError & { resolvedAt?: string }>(['errors', 'show', b!.errorId]);
    expect(shown).not.toHaveProperty('resolvedAt');
  });

  it('reopen refuses a superseded error named by errorId, and skips one a retryDataKey reaches even beside an errorId', async () => {
    const [unfixed, other] = await openErrors(ERP, '--code', '422', '--classification', 'value');
    const key = unfixed!.retryDataKey!;
    // the ERP still rejects it: a new error with the same key supersedes the old one
    const retried = await run(['errors', 'retry', ...ERP, key, '--wait']);
    expect(retried.stdout, retried.stderr).toMatch(/0 resolved, 1 still failing/);
    const [newer] = await openErrors(ERP, '--query', `rdk:${key}`);
    expect(newer!.errorId).not.toBe(unfixed!.errorId);
    expect((await run(['errors', 'resolve', ...ERP, newer!.errorId, other!.errorId, '--yes'])).code).toBe(0);

    await expectRefused(['errors', 'reopen', ...ERP, unfixed!.errorId], 2, new RegExp(`^flowdeck: error ${unfixed!.errorId} was superseded`));
    const reopened = await json<{ errorsToReturn: string[] }>(['errors', 'reopen', ...ERP, other!.errorId, key]);
    expect(reopened.errorsToReturn.sort()).toEqual([newer!.errorId, other!.errorId].sort());
    const resolved = await json<FlowStepResolvedResponse>(['resolved', 'list', ...ERP, '--limit', '1000']);
    expect(resolved.resolved.find((e) => e.errorId === unfixed!.errorId)).toMatchObject({ resolvedBy: 'superseded' });
  });

  it('resolve by filters: --dry-run lists and changes nothing; then resolve and delete them for good', async () => {
    const targets = await openErrors(CRM, '--classification', 'missing');
    expect(targets.length).toBeGreaterThan(0);
    const n = targets.length;
    const noun = n === 1 ? 'error' : 'errors';
    const before = await snapshot();
    const dry = await run(['errors', 'resolve', ...CRM, '--classification', 'missing', '--dry-run']);
    expect(dry.stdout).toMatch(new RegExp(`^Would resolve ${n} ${noun} \\(dry run, nothing changed\\): ${targets[0]!.errorId}`));
    const dryJson = await json<{ errorsToReturn: string[] }>(['errors', 'resolve', ...CRM, '--classification', 'missing', '--dry-run']);
    expectShape('FlowStepAffectedErrorsResponse', dryJson);
    expect(dryJson.errorsToReturn).toEqual(targets.map((e) => e.errorId));
    expect(await snapshot()).toEqual(before);
    await expectRefused(['errors', 'resolve', ...CRM, '--classification', 'missing'], 2, new RegExp(`Resolve ${n} ${noun}: confirm with --yes`));

    const done = await run(['errors', 'resolve', ...CRM, '--classification', 'missing', '--yes']);
    expect(done.stdout).toBe(`Resolved ${n} ${noun}.\n`);
    expect(await openErrors(CRM, '--classification', 'missing')).toEqual([]);

    await expectRefused(['resolved', 'delete', ...CRM, '--all'], 2, new RegExp(`Permanently delete ${n} ${noun}: confirm with --yes`));
    const beforeDelete = await snapshot();
    const dryDelete = await run(['resolved', 'delete', ...CRM, '--all', '--dry-run']);
    expect(dryDelete.stdout).toMatch(new RegExp(`^Would permanently delete ${n} ${noun}`));
    expect(await snapshot()).toEqual(beforeDelete);

    const deleted = await run(['resolved', 'delete', ...CRM, '--all', '--yes', '--json']);
    expect(deleted.code, deleted.stderr).toBe(0);
    expect(deleted.stdout).toBe('');
    expect(deleted.stderr).toBe(`Deleted ${n} ${noun}.\n`);
    expect((await json<FlowStepResolvedResponse>(['resolved', 'list', ...CRM])).resolved).toEqual([]);
    expect(expectOneLineFailure(await run(['errors', 'show', targets[0]!.errorId]), 1)).toMatch(/error not found/);
    const after = await snapshot();
    expect(after.errors).toHaveLength(beforeDelete.errors.length - n);
    // their request traces and snapshots went with them (row ids are the ids' last 14 hex digits)
    const rowOf = (key: string) => parseInt(key.slice(10), 16);
    const traces = targets.flatMap((e) => (e.reqAndResKey ? [rowOf(e.reqAndResKey)] : []));
    const snapshots = new Set(targets.flatMap((e) => (e.retryDataKey ? [rowOf(e.retryDataKey)] : [])));
    expect(snapshots.size).toBeGreaterThan(0);
    expect(after.traces).toEqual((beforeDelete.traces as Array<{ id: number }>).filter((t) => !traces.includes(t.id)));
    expect(after.retryData).toEqual((beforeDelete.retryData as Array<{ id: number }>).filter((r) => !snapshots.has(r.id)));
    const deletes = (after.audit as Array<{ action: string; count: number; detail: string }>).filter((a) => a.action === 'delete_resolved');
    expect(deletes).toHaveLength(1);
    expect(Number(deletes[0]!.count)).toBe(n);
    expect(JSON.parse(deletes[0]!.detail).errorIds).toEqual(targets.map((e) => e.errorId));
  });
});

describe('errors show', () => {
  it('shows every field with the JSON message pretty-printed; --json prints the FlowStepError', async () => {
    const [e] = await openErrors(ERP, '--code', '422');
    await run(['errors', 'assign', ...ERP, e!.errorId, '--to', 'chen.wei@acme.example']);
    const human = await run(['errors', 'show', e!.errorId]);
    expect(human.code, human.stderr).toBe(0);
    for (const label of ['Error:', 'State:', 'Flow:', 'Step:', 'Occurred:', 'Source:', 'Code:', 'Class:', 'Trace key:', 'Retry data:', 'Request:', 'Tags:', 'Assignee:', 'Message:']) {
      expect(human.stdout).toContain(label);
    }
    expect(human.stdout).toContain(`Error:       ${e!.errorId}`);
    expect(human.stdout).toContain('State:       open');
    expect(human.stdout).toContain('Step:        ERP sales orders');
    expect(human.stdout).toContain(`Assignee:    chen.wei@acme.example (by ${OPERATOR})`);
    // the 422 body is JSON: printed indented, one key per line
    expect(human.stdout).toMatch(/Message:\n {2}\{\n {4}"errors": \[/);

    const shown = await json<FlowStepError>(['errors', 'show', e!.errorId]);
    expectShape('FlowStepError', shown);
    expect(shown).toEqual({ ...e, assignedTo: 'chen.wei@acme.example', assignedBy: OPERATOR, _assignedToUserId: shown._assignedToUserId });
  });
});

describe('tags, users, config', () => {
  it('tags create, list and delete (which asks when errors carry the tag)', async () => {
    const created = await run(['tags', 'create', 'Escalated', '--code', 'ESC22']);
    expect(created.stdout).toBe('Created tag "Escalated" (code ESC22).\n');
    await expectRefused(['tags', 'create', 'escalated'], 1, /tag "Escalated" already exists \(code ESC22\)/);
    await expectRefused(['tags', 'create', 'Other', '--code', 'x'], 2, /5 characters/);

    const [e] = await openErrors(ERP);
    await run(['errors', 'tag', ...ERP, e!.errorId, '--add', 'ESC22']);
    const tags = await json<Array<{ tagId: string; tag: string; numOpenError: number }>>(['tags', 'list']);
    expect(tags.find((t) => t.tagId === 'ESC22')).toMatchObject({ tag: 'Escalated', numOpenError: 1 });
    const table = await run(['tags', 'list']);
    expect(table.stdout.split('\n')[0]).toMatch(/^CODE\s+TAG\s+OPEN\s+RESOLVED$/);
    expect(table.stdout).toMatch(/ESC22\s+Escalated\s+1\s+0/);

    await expectRefused(['tags', 'delete', 'Escalated'], 2, /Delete tag "Escalated" \(removing it from 1 error\): confirm with --yes/);
    const deleted = await run(['tags', 'delete', 'Escalated', '--yes']);
    expect(deleted.stdout).toBe('Deleted tag "Escalated" (ESC22), removed from 1 error.\n');
    const shown = await json<FlowStepError>(['errors', 'show', e!.errorId]);
    expect(shown.tags).toEqual([]);
    await expectRefused(['tags', 'delete', 'Escalated', '--yes'], 1, /tag not found: Escalated/);
  });

  it('users list; config get masks secrets and config set checks user.email and takes only known keys', async () => {
    const users = await json<Array<{ _id: string; email: string; name?: string; synthetic: boolean }>>(['users', 'list']);
    expect(users.map((u) => u.email)).toEqual(['ana.lima@acme.example', 'ben.okafor@acme.example', 'chen.wei@acme.example']);
    expect(users[0]).toMatchObject({ name: 'Ana Lima', synthetic: false });

    const config = JSON.parse(readFileSync(join(home, 'config.json'), 'utf8')) as { secrets: Record<string, string> };
    const everything = await run(['config', 'get']);
    const token = await run(['config', 'get', 'secrets.erpToken']);
    expect(token.stdout).toBe('********\n');
    for (const secret of Object.values(config.secrets)) {
      expect(everything.stdout).not.toContain(secret);
      expect(token.stdout).not.toContain(secret);
    }
    expect(JSON.parse(everything.stdout)).toMatchObject({ demo: '********', secrets: { erpToken: '********', shopApiKey: '********' } });

    await expectRefused(['config', 'set', 'user.email', 'nobody'], 2, /user\.email must be an email address/);
    const set = await run(['config', 'set', 'user.email', 'me@acme.example']);
    expect(set.stdout).toBe('Set user.email = "me@acme.example".\n');
    expect((await run(['config', 'get', 'user.email'])).stdout).toBe('me@acme.example\n');
    expect(expectOneLineFailure(await run(['config', 'get', 'no.such.key']), 2)).toBe('flowdeck: unknown config key "no.such.key" (known keys: user.email, secrets.<name>, demo)');
    expectOneLineFailure(await run(['config', 'get', 'secrets.noSuchToken']), 1);
    const file = readFileSync(join(home, 'config.json'), 'utf8');
    await expectRefused(['config', 'set', 'usr.email', 'me@acme.example'], 2, /^flowdeck: unknown config key "usr\.email" \(known keys: user\.email, secrets\.<name>\)$/);
    await expectRefused(['config', 'set', 'demo', 'false', '--type', 'boolean'], 2, /written by flowdeck demo only/);
    expect(readFileSync(join(home, 'config.json'), 'utf8')).toBe(file);

    // without FLOWDECK_USER, the configured email is the operator recorded on changes
    const [e] = await openErrors(ERP);
    const withoutUser = await runInProcess({ ...env, FLOWDECK_USER: '' }, ['errors', 'assign', ...ERP, e!.errorId, '--to', 'me']);
    expect(withoutUser.stdout).toBe('Assigned 1 error to you.\n');
    const shown = await json<FlowStepError>(['errors', 'show', e!.errorId]);
    expect(shown).toMatchObject({ assignedTo: 'me@acme.example', assignedBy: 'me@acme.example' });
  });

  it("config set/get mask a connection's {{config.path}} value, audit included; get still shows it once no flow file uses it", async () => {
    const flowFile = join(home, 'flows', 'partner.yaml');
    writeFileSync(flowFile, 'connections:\n  - name: Partner\n    http:\n      baseURI: "http://127.0.0.1:9"\n      auth: { type: bearer, token: "{{config.partner.token}}" }\n');
    const set = await run(['config', 'set', 'partner.token', 'p_t0ken_value']);
    expect(set.stdout, set.stderr).toBe('Set partner.token.\n');
    expect((await run(['config', 'get', 'partner.token'])).stdout).toBe('********\n');
    const everything = await run(['config', 'get']);
    expect(JSON.parse(everything.stdout)).toMatchObject({ partner: { token: '********' } });
    const audit = (await homeRows<{ detail: string }>(home, `SELECT detail FROM audit WHERE action = 'config_set'`)).map((r) => r.detail);
    expect(audit.map((d) => JSON.parse(d))).toEqual([{ key: 'partner.token', value: '********' }]);
    expect(readFileSync(join(home, 'config.json'), 'utf8')).toContain('p_t0ken_value');

    rmSync(flowFile);
    expect((await run(['config', 'get', 'partner.token'])).stdout).toBe('********\n');
    expect(JSON.parse((await run(['config', 'get', 'partner'])).stdout)).toEqual({ token: '********' });
    expect(expectOneLineFailure(await run(['config', 'get', 'partner.other']), 2)).toBe('flowdeck: unknown config key "partner.other" (known keys: user.email, secrets.<name>, demo)');
  });
});

import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type {
  ExecutionLogDataResponse,
  ExecutionLogMetadataResponse,
  ExecutionLogsResponse,
  FlowJobLogChildrenResponse,
  FlowJobsSearchResponse,
  FlowStepError,
  FlowStepErrorsResponse,
  FlowStepRequestResponse,
  FlowStepRequestsDeleteResponse,
  FlowStepRequestsListResponse,
  FlowStepRetryData,
  Job,
} from '../../src/domain/api.js';
import { commandEnv, runInProcess, type InProcessResult } from '../helpers/in-process.js';
import { undeclaredKeys, validateAgainst } from '../helpers/spec.js';
import { tempHome, type TempHome } from '../helpers/workspace.js';
import { homeRows } from '../helpers/store-sql.js';

// The retry-data, requests, logs, export, flows enable/disable and jobs search commands as a user
// runs them, in this process (the output and exit codes of bin/flowdeck.js without starting one;
// test/e2e/bin-smoke.test.ts runs each family through the executable) over a seeded demo
// workspace; --json checked against the API's schemas; every bad input one `flowdeck:` line, exit 1
// (not found) or 2 (bad input), store unchanged.

const FLOW = 'Shop orders to ERP';
const STEP = 'ERP sales orders';

const OPEN_HEADER = [
  'occurredAt', 'source', 'code', 'message', 'traceKey', 'exportDataURI', 'importDataURI', 'oIndex', 'retryDataKey', 'errorId',
  'legacyId', 'reqAndResKey', 'purgeAt', 'tags', 'assignedTo', 'assignedBy', '_assignedToUserId',
].join(',');

let tmp: TempHome;
let env: NodeJS.ProcessEnv;
let errors: FlowStepError[];
let jobId: string;

beforeAll(async () => {
  tmp = tempHome();
  env = commandEnv({ FLOWDECK_HOME: tmp.home, FLOWDECK_USER: 'e2e@acme.example' });
  const demo = await runInProcess(env, ['demo', '--no-tui']);
  expect(demo.code, demo.stderr).toBe(0);
  errors = (JSON.parse((await runInProcess(env, ['errors', 'list', FLOW, STEP, '--limit', '1000', '--json'])).stdout) as FlowStepErrorsResponse).errors;
  const jobs = JSON.parse((await runInProcess(env, ['jobs', 'list', '--flow', FLOW, '--json'])).stdout) as Job[];
  jobId = jobs.find((j) => j.type === 'flow')!._id;
}, 90_000);

afterAll(() => tmp?.cleanup());

/** Runs a command with `input` as its stdin, for the commands that read a body from it. */
const runWithInput = (args: string[], input: string, extraEnv: Record<string, string> = {}): Promise<InProcessResult> => runInProcess({ ...env, ...extraEnv }, args, { stdin: input });

function ok(result: InProcessResult): string {
  expect(result.code, result.stderr).toBe(0);
  return result.stdout;
}

function parse<T>(result: InProcessResult, schema?: string): T {
  expect(result.stderr).toBe('');
  const value = JSON.parse(ok(result)) as T;
  if (schema) {
    expect(validateAgainst(schema, value)).toEqual([]);
    expect(undeclaredKeys(schema, value)).toEqual([]);
  }
  return value;
}

function oneLineFailure(result: InProcessResult, code: 1 | 2): string {
  expect(result.code, result.stderr).toBe(code);
  expect(result.stdout).toBe('');
  const lines = result.stderr.split('\n').filter((l) => l !== '');
  expect(lines, result.stderr).toHaveLength(1);
  expect(lines[0]!.startsWith('flowdeck: ')).toBe(true);
  return lines[0]!;
}

/** Open errors of the ERP step that have a snapshot and a trace, picked by position so tests do not share one. */
function withSnapshot(n: number): FlowStepError {
  return errors.filter((e) => e.retryDataKey && e.reqAndResKey)[n]!;
}

/** The stored snapshots, read straight from the workspace (fast, and independent of the commands under test). */
async function storedSnapshots(): Promise<string> {
  return JSON.stringify(await homeRows(tmp.home, 'SELECT id, data, updated_at, trace_key FROM retry_data ORDER BY id'));
}

async function getEnvelope(key: string): Promise<FlowStepRetryData> {
  return parse<FlowStepRetryData>(await runInProcess(env, ['retry-data', 'get', FLOW, STEP, key, '--json']), 'FlowStepRetryData');
}

describe('retry-data', () => {
  it('get prints the FlowStepRetryData envelope; unknown keys and connection errors exit 1', async () => {
    const e = withSnapshot(0);
    const envelope = await getEnvelope(e.retryDataKey!);
    expect(envelope.retryDataKey).toBe(e.retryDataKey);
    expect(envelope.stage).toBe('page_processor_import');
    expect(await getEnvelope(e.errorId)).toEqual(envelope);
    const unknown = await runInProcess(env, ['retry-data', 'get', FLOW, STEP, `${e.retryDataKey!.slice(0, 23)}f`]);
    expect(oneLineFailure(unknown, 1)).toMatch(/No retry data found for the given retryDataKey/);
    const warehouse = JSON.parse(ok(await runInProcess(env, ['errors', 'list', 'Orders to warehouse', 'Warehouse shipments', '--limit', '1', '--json']))) as FlowStepErrorsResponse;
    const conn = warehouse.errors[0]!;
    expect(conn.retryDataKey).toBeUndefined();
    oneLineFailure(await runInProcess(env, ['retry-data', 'get', 'Orders to warehouse', 'Warehouse shipments', conn.errorId]), 1);
    oneLineFailure(await runInProcess(env, ['retry-data', 'get', 'No such flow', STEP, e.retryDataKey!]), 1);
  }, 90_000);

  it('put reads the envelope from stdin or a file; malformed or mismatched input exits 2 and changes nothing', async () => {
    const e = withSnapshot(1);
    const before = await getEnvelope(e.retryDataKey!);
    const stored = await storedSnapshots();

    const malformed = await runWithInput(['retry-data', 'put', FLOW, STEP, e.retryDataKey!, '-'], '{"retryDataKey": ');
    expect(oneLineFailure(malformed, 2)).toMatch(/^flowdeck: invalid JSON in stdin: /);
    const file = join(tmp.home, 'envelope.json');
    writeFileSync(file, '{ not json');
    expect(oneLineFailure(await runInProcess(env, ['retry-data', 'put', FLOW, STEP, e.retryDataKey!, file]), 2)).toBe(
      `flowdeck: invalid JSON in ${file}: ${(() => {
        try {
          JSON.parse('{ not json');
        } catch (err) {
          return (err as Error).message;
        }
        return '';
      })()}`,
    );
    writeFileSync(file, JSON.stringify({ ...before, stage: 'page_generator' }));
    expect(oneLineFailure(await runInProcess(env, ['retry-data', 'put', FLOW, STEP, e.retryDataKey!, file]), 2)).toMatch(/stage "page_generator" does not match/);
    writeFileSync(file, JSON.stringify({ ...before, pgExportId: '000000000000000000000000' }));
    expect(oneLineFailure(await runInProcess(env, ['retry-data', 'put', FLOW, STEP, e.retryDataKey!, file]), 2)).toMatch(/pgExportId/);
    writeFileSync(file, JSON.stringify({ ...before, retryDataKey: withSnapshot(2).retryDataKey }));
    expect(oneLineFailure(await runInProcess(env, ['retry-data', 'put', FLOW, STEP, e.retryDataKey!, file]), 2)).toMatch(/retryDataKey/);
    oneLineFailure(await runInProcess(env, ['retry-data', 'put', FLOW, STEP, e.retryDataKey!, join(tmp.home, 'missing.json')]), 2);
    expect(await storedSnapshots()).toBe(stored);
    expect(await getEnvelope(e.retryDataKey!)).toEqual(before);

    const fixed = { ...before, data: { ...(before.data as object), note: 'fixed by e2e' } };
    const saved = parse<FlowStepRetryData>(await runWithInput(['retry-data', 'put', FLOW, STEP, e.retryDataKey!, '--json'], JSON.stringify(fixed)), 'FlowStepRetryData');
    expect(saved).toEqual(fixed);
    expect(await getEnvelope(e.retryDataKey!)).toEqual(fixed);
    // editing never resolves: the error is still open
    const still = JSON.parse(ok(await runInProcess(env, ['errors', 'list', FLOW, STEP, '--limit', '1000', '--json']))) as FlowStepErrorsResponse;
    expect(still.errors.some((x) => x.errorId === e.errorId)).toBe(true);
  }, 90_000);

  it('edit runs $EDITOR on the envelope, shows the diff and saves; no change says so; a bad edit exits 2', async () => {
    const e = withSnapshot(3);
    const before = await getEnvelope(e.retryDataKey!);
    const script = join(tmp.home, 'fake-editor.sh');
    // the editor variable carries arguments, as git allows: "sh script --flag"
    writeFileSync(script, '#!/bin/sh\n# $1 is --mode, $2 the file\nif [ "$1" = "--break" ]; then printf "{ broken" > "$2"; else sed -i "s/\\"stage\\"/\\"note\\": \\"edited\\",\\n  \\"stage\\"/" "$2"; fi\n');
    chmodSync(script, 0o755);

    const unchanged = await runWithInput(['retry-data', 'edit', FLOW, STEP, e.retryDataKey!, '--yes'], '', { EDITOR: 'true', VISUAL: '' });
    expect(unchanged.code, unchanged.stderr).toBe(0);
    expect(unchanged.stderr).toBe('No changes.\n');

    const broken = await runWithInput(['retry-data', 'edit', FLOW, STEP, e.retryDataKey!, '--yes'], '', { EDITOR: `${script} --break`, VISUAL: '' });
    expect(oneLineFailure(broken, 2)).toMatch(/^flowdeck: invalid JSON in \/.*\.json: /);

    // an unknown field is refused (and the edit is kept for the user)
    const field = await runWithInput(['retry-data', 'edit', FLOW, STEP, e.retryDataKey!, '--yes'], '', { VISUAL: `${script} --field`, EDITOR: 'false' });
    expect(oneLineFailure(field, 2)).toMatch(/unknown field "note" \(your edit is kept in .*\)/);
    expect(await getEnvelope(e.retryDataKey!)).toEqual(before);

    // a data edit: diff on stderr, saved after --yes
    const dataScript = join(tmp.home, 'data-editor.sh');
    writeFileSync(dataScript, '#!/bin/sh\nsed -i "s/\\"data\\": {/\\"data\\": {\\n    \\"note\\": \\"edited\\",/" "$1"\n');
    chmodSync(dataScript, 0o755);
    const saved = await runWithInput(['retry-data', 'edit', FLOW, STEP, e.retryDataKey!, '--yes'], '', { EDITOR: dataScript, VISUAL: '' });
    expect(saved.code, saved.stderr).toBe(0);
    expect(saved.stderr).toContain(`--- a/${e.retryDataKey}.json`);
    expect(saved.stderr).toContain('+    "note": "edited",');
    expect(saved.stdout).toMatch(/^Saved retry data /);
    expect((await getEnvelope(e.retryDataKey!)).data).toEqual({ note: 'edited', ...(before.data as object) });
  }, 90_000);

  it('patch --dry-run shows diffs and the count; without --yes and no terminal it refuses; --yes applies', async () => {
    const before = JSON.parse(ok(await runInProcess(env, ['errors', 'list', FLOW, STEP, '--code', '422', '--limit', '1000', '--json']))) as FlowStepErrorsResponse;
    const keys = [...new Set(before.errors.map((e) => e.retryDataKey).filter(Boolean))] as string[];
    expect(keys.length).toBeGreaterThan(1);
    const stored = await storedSnapshots();

    const dry = await runInProcess(env, ['retry-data', 'patch', FLOW, STEP, '--code', '422', '--set', 'data.customer.email=fixed@example.com', '--dry-run']);
    const out = ok(dry);
    expect(out).toContain('+      "email": "fixed@example.com"');
    expect(out).toMatch(new RegExp(`Would change ${keys.length} snapshots \\(${before.errors.length} errors\\)`));
    expect(await storedSnapshots()).toBe(stored);

    const refused = await runInProcess(env, ['retry-data', 'patch', FLOW, STEP, '--code', '422', '--set', 'data.customer.email=fixed@example.com']);
    expect(oneLineFailure(refused, 2)).toMatch(/Patch \d+ retry-data snapshots of \d+ errors: confirm with --yes/);
    expect(await storedSnapshots()).toBe(stored);

    const applied = JSON.parse(
      ok(await runInProcess(env, ['retry-data', 'patch', FLOW, STEP, '--code', '422', '--set', 'data.customer.email=fixed@example.com', '--unset', 'data.customer.fax', '--yes', '--json'])),
    ) as { changed: Array<{ retryDataKey: string }>; dryRun: boolean };
    expect(applied.dryRun).toBe(false);
    expect(applied.changed.map((c) => c.retryDataKey).sort()).toEqual([...keys].sort());
    for (const key of keys.slice(0, 3)) expect(((await getEnvelope(key)).data as { customer: { email: string } }).customer.email).toBe('fixed@example.com');
    expect(ok(await runInProcess(env, ['retry-data', 'patch', FLOW, STEP, '--code', '422', '--set', 'data.customer.email=fixed@example.com', '--yes']))).toMatch(
      /^Nothing to change: \d+ snapshots already as asked/,
    );
  }, 90_000);

  it('patch takes an RFC 6902 file; bad patches and flags exit 2', async () => {
    const e = withSnapshot(4);
    const file = join(tmp.home, 'fix.json');
    writeFileSync(file, JSON.stringify([{ op: 'add', path: '/data/patched', value: true }]));
    ok(await runInProcess(env, ['retry-data', 'patch', FLOW, STEP, e.retryDataKey!, '--patch', file, '--yes']));
    expect((await getEnvelope(e.retryDataKey!)).data).toMatchObject({ patched: true });
    writeFileSync(file, JSON.stringify([{ op: 'add', path: '/stage', value: 'x' }]));
    expect(oneLineFailure(await runInProcess(env, ['retry-data', 'patch', FLOW, STEP, e.retryDataKey!, '--patch', file, '--yes']), 2)).toMatch(/must be \/data or below it/);
    writeFileSync(file, '[{');
    expect(oneLineFailure(await runInProcess(env, ['retry-data', 'patch', FLOW, STEP, e.retryDataKey!, '--patch', file, '--yes']), 2)).toMatch(/invalid JSON in/);
    expect(oneLineFailure(await runInProcess(env, ['retry-data', 'patch', FLOW, STEP, e.retryDataKey!, '--set', 'data.x', '--yes']), 2)).toMatch(/--set takes path=value/);
    expect(oneLineFailure(await runInProcess(env, ['retry-data', 'patch', FLOW, STEP, '--set', 'data.x=1', '--yes']), 2)).toMatch(/say which errors/);
    expect(oneLineFailure(await runInProcess(env, ['retry-data', 'patch', FLOW, STEP, e.retryDataKey!, '--yes']), 2)).toMatch(/say what to change/);
  }, 90_000);

  it('patch takes errorIds and retryDataKeys mixed; an argument that is neither exits 2', async () => {
    const [a, b] = [withSnapshot(5), withSnapshot(6)];
    const stored = await storedSnapshots();
    const dry = parse<{ changed: Array<{ retryDataKey: string }> }>(
      await runInProcess(env, ['retry-data', 'patch', FLOW, STEP, a.errorId, b.retryDataKey!, '--set', 'data.mixed=true', '--dry-run', '--json']),
    );
    expect(dry.changed.map((c) => c.retryDataKey).sort()).toEqual([a.retryDataKey, b.retryDataKey].sort());
    expect(oneLineFailure(await runInProcess(env, ['retry-data', 'patch', FLOW, STEP, a.errorId, 'abc', '--set', 'data.mixed=true', '--yes']), 2)).toBe(
      'flowdeck: "abc" is neither an errorId nor a retryDataKey',
    );
    expect(await storedSnapshots()).toBe(stored);
  }, 90_000);
});

describe('requests', () => {
  it('list, show and delete request traces', async () => {
    const list = parse<FlowStepRequestsListResponse>(await runInProcess(env, ['requests', 'list', FLOW, STEP, '--limit', '5', '--json']), 'FlowStepRequestsListResponse');
    expect(list.requests).toHaveLength(5);
    expect(list.nextPageURL).toMatch(/^\/v1\/flows\/[0-9a-f]{24}\/[0-9a-f]{24}\/requests\?/);
    const next = parse<FlowStepRequestsListResponse>(await runInProcess(env, ['requests', 'list', FLOW, STEP, '--page', list.nextPageURL!, '--json']), 'FlowStepRequestsListResponse');
    expect(next.requests[0]!.time).toBeLessThanOrEqual(list.requests[4]!.time);
    expect(next.requests.map((r) => r.key)).not.toContain(list.requests[4]!.key);

    // a status the demo recorded (at real time a loaded machine may send too slowly for a 429)
    const status = list.requests.find((r) => r.statusCode)!.statusCode;
    const human = ok(await runInProcess(env, ['requests', 'list', FLOW, STEP, '--status-code', status, '--limit', '3']));
    expect(human.split('\n')[0]).toMatch(/^KEY\s+TIME\s+METHOD\s+STATUS\s+STAGE$/);

    const e = withSnapshot(5);
    const shown = parse<FlowStepRequestResponse>(await runInProcess(env, ['requests', 'show', FLOW, STEP, e.reqAndResKey!, '--json']), 'FlowStepRequestResponse');
    expect(shown.key).toBe(e.reqAndResKey);
    expect(shown.request.headers?.authorization).toBe('********');
    expect(ok(await runInProcess(env, ['requests', 'show', FLOW, STEP, e.reqAndResKey!]))).toMatch(/^Trace: {4}[0-9a-f]{24} at /);

    const unknown = `${e.reqAndResKey!.slice(0, 10)}ffffffffffffff`;
    expect(oneLineFailure(await runInProcess(env, ['requests', 'delete', FLOW, STEP, e.reqAndResKey!, unknown, '--yes']), 1)).toMatch(/not found: .*\(nothing deleted\)/);
    parse<FlowStepRequestResponse>(await runInProcess(env, ['requests', 'show', FLOW, STEP, e.reqAndResKey!, '--json']));
    oneLineFailure(await runInProcess(env, ['requests', 'delete', FLOW, STEP, e.reqAndResKey!]), 2);
    const deleted = parse<FlowStepRequestsDeleteResponse>(await runInProcess(env, ['requests', 'delete', FLOW, STEP, e.reqAndResKey!, '--yes', '--json']), 'FlowStepRequestsDeleteResponse');
    expect(deleted).toEqual({ deleted: [e.reqAndResKey], errors: [] });
    expect(oneLineFailure(await runInProcess(env, ['requests', 'show', FLOW, STEP, e.reqAndResKey!]), 1)).toMatch(/request trace not found/);
  }, 90_000);

  it('bad flag values exit 2', async () => {
    for (const args of [
      ['--status-code', 'abc'],
      ['--time-lte', 'yesterday-ish'],
      ['--limit', '0'],
      ['--page', '/v1/flows/x/y/requests?pageSize=5'],
    ]) {
      oneLineFailure(await runInProcess(env, ['requests', 'list', FLOW, STEP, ...args]), 2);
    }
  }, 90_000);
});

describe('logs', () => {
  it('list, trace, data and children print the API shapes', async () => {
    const logs = parse<ExecutionLogsResponse>(await runInProcess(env, ['logs', 'list', FLOW, jobId, '--limit', '5', '--status', 'error', '--json']), 'ExecutionLogsResponse');
    expect(logs.logs).toHaveLength(5);
    expect(logs.logs.every((l) => l.status === 'error')).toBe(true);
    expect(logs.prevPageUrl).toBeNull();
    const next = parse<ExecutionLogsResponse>(await runInProcess(env, ['logs', 'list', FLOW, jobId, '--page', logs.nextPageUrl!, '--json']), 'ExecutionLogsResponse');
    expect(next.logs.every((l) => l.status === 'error')).toBe(true);
    expect(next.prevPageUrl).not.toBeNull();

    const failed = logs.logs[0]!;
    const trace = parse<ExecutionLogMetadataResponse>(await runInProcess(env, ['logs', 'trace', FLOW, jobId, failed.recordId, '--json']), 'ExecutionLogMetadataResponse');
    expect(trace.traceView).toBe(true);
    expect(trace.traceKey).toBe(failed.traceKey);
    expect(trace.steps.length).toBeGreaterThanOrEqual(2);
    expect(trace.steps[trace.steps.length - 1]).toMatchObject({ recordId: failed.recordId, status: 'error' });
    const table = ok(await runInProcess(env, ['logs', 'trace', FLOW, jobId, failed.recordId]));
    expect(table).toMatch(new RegExp(`^traceKey ${failed.traceKey} across \\d+ entries`));
    expect(table).toContain('Shop orders');

    const data = parse<ExecutionLogDataResponse>(await runInProcess(env, ['logs', 'data', FLOW, jobId, failed.recordId, '--stage', 'apiCall', '--json']), 'ExecutionLogDataResponse');
    expect(data.logs).toHaveLength(1);
    expect(data.logs[0]!.log).toHaveProperty('request');
    expect(data.logs[0]!.log).toHaveProperty('response');
    const children = parse<FlowJobLogChildrenResponse>(await runInProcess(env, ['logs', 'children', FLOW, jobId, STEP, failed.recordId, '--json']), 'FlowJobLogChildrenResponse');
    expect(children).toEqual({ children: [], nextPageUrl: null, prevPageUrl: null });
  }, 90_000);

  it('unknown jobs and records exit 1; bad flags exit 2', async () => {
    oneLineFailure(await runInProcess(env, ['logs', 'list', FLOW, '000000001000000000000999']), 1);
    oneLineFailure(await runInProcess(env, ['logs', 'list', 'Orders to warehouse', jobId]), 1);
    oneLineFailure(await runInProcess(env, ['logs', 'trace', FLOW, jobId, 'no-such-record']), 1);
    oneLineFailure(await runInProcess(env, ['logs', 'list', FLOW, jobId, '--status', 'bogus']), 2);
    oneLineFailure(await runInProcess(env, ['logs', 'data', FLOW, jobId, 'x', '--stage', 'bogus']), 2);
    oneLineFailure(await runInProcess(env, ['logs', 'list', FLOW, jobId, '--page', '/v1/flows/x/jobs/y/logs?next=zzz']), 2);
  }, 90_000);
});

describe('errors export', () => {
  it('streams the spec header and one row per open error to stdout', async () => {
    const csv = ok(await runInProcess(env, ['errors', 'export', FLOW, STEP]));
    const lines = csv.trimEnd().split('\n');
    expect(lines[0]).toBe(OPEN_HEADER);
    const count = (await runInProcess(env, ['errors', 'list', FLOW, STEP, '--limit', '1000', '--json'])).stdout;
    const open = (JSON.parse(count) as FlowStepErrorsResponse).errors;
    // messages in the demo are single-line JSON, so a line is a row
    expect(lines).toHaveLength(1 + open.length);
    const ids = lines.slice(1).map((l) => l.match(/,([0-9a-f]{8}e0[0-9a-f]{14}),/)![1]!);
    expect(ids).toEqual(open.map((e) => e.errorId).sort());
  }, 90_000);

  it('-o writes a file with a final line on stderr; --resolved and a whole flow change the header', async () => {
    const file = join(tmp.home, 'open.csv');
    const r = await runInProcess(env, ['errors', 'export', FLOW, STEP, '-o', file, '--code', '429']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('');
    const rows = readFileSync(file, 'utf8').trimEnd().split('\n');
    expect(r.stderr).toBe(`Wrote ${rows.length - 1} row${rows.length === 2 ? '' : 's'} to ${file}\n`);
    expect(rows.slice(1).every((l) => l.split(',')[2] === '429')).toBe(true);
    expect(ok(await runInProcess(env, ['errors', 'export', FLOW, STEP, '--resolved'])).split('\n')[0]).toBe(`resolvedAt,resolvedBy,${OPEN_HEADER}`);
    expect(ok(await runInProcess(env, ['errors', 'export', FLOW])).split('\n')[0]).toBe(`_expOrImpId,${OPEN_HEADER}`);
  }, 90_000);

  it('--start-at resumes; bad input exits without creating the file', async () => {
    const all = ok(await runInProcess(env, ['errors', 'export', FLOW, STEP])).trimEnd().split('\n');
    const start = all[11]!.match(/,([0-9a-f]{8}e0[0-9a-f]{14}),/)![1]!;
    const resumed = ok(await runInProcess(env, ['errors', 'export', FLOW, STEP, '--start-at', start])).trimEnd().split('\n');
    expect(resumed).toEqual([all[0], ...all.slice(11)]);
    const file = join(tmp.home, 'never.csv');
    oneLineFailure(await runInProcess(env, ['errors', 'export', FLOW, 'No such step', '-o', file]), 1);
    oneLineFailure(await runInProcess(env, ['errors', 'export', FLOW, STEP, '-o', file, '--start-at', 'zzz']), 2);
    oneLineFailure(await runInProcess(env, ['errors', 'export', FLOW, STEP, '-o', file, '--tag', 'NoSuchTag']), 1);
    expect(existsSync(file)).toBe(false);
    // an existing file is neither truncated nor removed by a rejected export
    const kept = join(tmp.home, 'kept.csv');
    writeFileSync(kept, 'previous export\n');
    oneLineFailure(await runInProcess(env, ['errors', 'export', FLOW, STEP, '-o', kept, '--start-at', 'zzz']), 2);
    expect(readFileSync(kept, 'utf8')).toBe('previous export\n');
  }, 90_000);
});

describe('flows enable/disable and jobs search', () => {
  it('disables and enables a flow', async () => {
    expect(ok(await runInProcess(env, ['flows', 'disable', 'Shop customers to CRM']))).toBe('Flow "Shop customers to CRM" disabled.\n');
    expect(ok(await runInProcess(env, ['flows', 'disable', 'Shop customers to CRM']))).toBe('Flow "Shop customers to CRM" is already disabled.\n');
    expect(ok(await runInProcess(env, ['flows', 'list']))).toMatch(/Shop customers to CRM\s+[0-9a-f]{24}\s+disabled/);
    const enabled = JSON.parse(ok(await runInProcess(env, ['flows', 'enable', 'Shop customers to CRM', '--json']))) as { disabled: boolean };
    expect(enabled.disabled).toBe(false);
    oneLineFailure(await runInProcess(env, ['flows', 'enable', 'No such flow']), 1);
  }, 90_000);

  it('jobs search finds the run by trace key prefix', async () => {
    const traceKey = withSnapshot(0).traceKey!;
    const found = parse<FlowJobsSearchResponse>(await runInProcess(env, ['jobs', 'search', FLOW, '--trace-key', traceKey, '--json']), 'FlowJobsSearchResponse');
    expect(found.runs.map((r) => r._id)).toContain(jobId);
    expect(parse<FlowJobsSearchResponse>(await runInProcess(env, ['jobs', 'search', FLOW, '--trace-key', 'NOPE-', '--json'])).runs).toEqual([]);
    expect(ok(await runInProcess(env, ['jobs', 'search', FLOW, '--trace-key', traceKey])).split('\n')[0]).toMatch(/^JOB ID\s+TYPE\s+STATUS/);
    oneLineFailure(await runInProcess(env, ['jobs', 'search', FLOW]), 2);
  }, 90_000);
});

import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
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
import { REPO_ROOT, runCli, type CliResult } from '../helpers/cli.js';
import { undeclaredKeys, validateAgainst } from '../helpers/spec.js';
import { tempHome, type TempHome } from '../helpers/workspace.js';

// The retry-data, requests, logs, export, flows enable/disable and jobs search commands as a user
// runs them: the real executable over a seeded demo workspace; --json checked against the API's
// schemas; every bad input one `flowdeck:` line, exit 1 (not found) or 2 (bad input), store unchanged.

const FLOW = 'Shop orders to ERP';
const STEP = 'ERP sales orders';

const OPEN_HEADER = [
  'occurredAt', 'source', 'code', 'message', 'traceKey', 'exportDataURI', 'importDataURI', 'oIndex', 'retryDataKey', 'errorId',
  'legacyId', 'reqAndResKey', 'purgeAt', 'tags', 'assignedTo', 'assignedBy', '_assignedToUserId',
].join(',');

let tmp: TempHome;
let env: Record<string, string>;
let errors: FlowStepError[];
let jobId: string;

beforeAll(async () => {
  tmp = tempHome();
  env = { FLOWDECK_HOME: tmp.home, FLOWDECK_USER: 'e2e@acme.example' };
  const demo = await runCli(['demo', '--no-tui'], env);
  expect(demo.code, demo.stderr).toBe(0);
  errors = (JSON.parse((await runCli(['errors', 'list', FLOW, STEP, '--limit', '1000', '--json'], env)).stdout) as FlowStepErrorsResponse).errors;
  const jobs = JSON.parse((await runCli(['jobs', 'list', '--flow', FLOW, '--json'], env)).stdout) as Job[];
  jobId = jobs.find((j) => j.type === 'flow')!._id;
}, 90_000);

afterAll(() => tmp?.cleanup());

/** Runs the executable synchronously with stdin, for the commands that read a body from it. */
function runWithInput(args: string[], input: string, extraEnv: Record<string, string> = {}): CliResult {
  const { FLOWDECK_DEBUG: _debug, ...base } = process.env;
  const r = spawnSync(process.execPath, ['bin/flowdeck.js', ...args], { cwd: REPO_ROOT, env: { ...base, NO_COLOR: '1', ...env, ...extraEnv }, input, encoding: 'utf8' });
  return { code: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

function ok(result: CliResult): string {
  expect(result.code, result.stderr).toBe(0);
  return result.stdout;
}

function parse<T>(result: CliResult, schema?: string): T {
  expect(result.stderr).toBe('');
  const value = JSON.parse(ok(result)) as T;
  if (schema) {
    expect(validateAgainst(schema, value)).toEqual([]);
    expect(undeclaredKeys(schema, value)).toEqual([]);
  }
  return value;
}

function oneLineFailure(result: CliResult, code: 1 | 2): string {
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
function storedSnapshots(): string {
  const db = new Database(join(tmp.home, 'flowdeck.db'), { readonly: true, fileMustExist: true });
  try {
    return JSON.stringify(db.prepare('SELECT id, data, updated_at, trace_key FROM retry_data ORDER BY id').all());
  } finally {
    db.close();
  }
}

async function getEnvelope(key: string): Promise<FlowStepRetryData> {
  return parse<FlowStepRetryData>(await runCli(['retry-data', 'get', FLOW, STEP, key, '--json'], env), 'FlowStepRetryData');
}

describe('retry-data', () => {
  it('get prints the FlowStepRetryData envelope; unknown keys and connection errors exit 1', async () => {
    const e = withSnapshot(0);
    const envelope = await getEnvelope(e.retryDataKey!);
    expect(envelope.retryDataKey).toBe(e.retryDataKey);
    expect(envelope.stage).toBe('page_processor_import');
    expect(await getEnvelope(e.errorId)).toEqual(envelope);
    const unknown = await runCli(['retry-data', 'get', FLOW, STEP, `${e.retryDataKey!.slice(0, 23)}f`], env);
    expect(oneLineFailure(unknown, 1)).toMatch(/No retry data found for the given retryDataKey/);
    const warehouse = JSON.parse(ok(await runCli(['errors', 'list', 'Orders to warehouse', 'Warehouse shipments', '--limit', '1', '--json'], env))) as FlowStepErrorsResponse;
    const conn = warehouse.errors[0]!;
    expect(conn.retryDataKey).toBeUndefined();
    oneLineFailure(await runCli(['retry-data', 'get', 'Orders to warehouse', 'Warehouse shipments', conn.errorId], env), 1);
    oneLineFailure(await runCli(['retry-data', 'get', 'No such flow', STEP, e.retryDataKey!], env), 1);
  }, 90_000);

  it('put reads the envelope from stdin or a file; malformed or mismatched input exits 2 and changes nothing', async () => {
    const e = withSnapshot(1);
    const before = await getEnvelope(e.retryDataKey!);
    const stored = storedSnapshots();

    const malformed = runWithInput(['retry-data', 'put', FLOW, STEP, e.retryDataKey!, '-'], '{"retryDataKey": ');
    expect(oneLineFailure(malformed, 2)).toMatch(/^flowdeck: invalid JSON in stdin: /);
    const file = join(tmp.home, 'envelope.json');
    writeFileSync(file, '{ not json');
    expect(oneLineFailure(await runCli(['retry-data', 'put', FLOW, STEP, e.retryDataKey!, file], env), 2)).toBe(
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
    expect(oneLineFailure(await runCli(['retry-data', 'put', FLOW, STEP, e.retryDataKey!, file], env), 2)).toMatch(/stage "page_generator" does not match/);
    writeFileSync(file, JSON.stringify({ ...before, pgExportId: '000000000000000000000000' }));
    expect(oneLineFailure(await runCli(['retry-data', 'put', FLOW, STEP, e.retryDataKey!, file], env), 2)).toMatch(/pgExportId/);
    writeFileSync(file, JSON.stringify({ ...before, retryDataKey: withSnapshot(2).retryDataKey }));
    expect(oneLineFailure(await runCli(['retry-data', 'put', FLOW, STEP, e.retryDataKey!, file], env), 2)).toMatch(/retryDataKey/);
    oneLineFailure(await runCli(['retry-data', 'put', FLOW, STEP, e.retryDataKey!, join(tmp.home, 'missing.json')], env), 2);
    expect(storedSnapshots()).toBe(stored);
    expect(await getEnvelope(e.retryDataKey!)).toEqual(before);

    const fixed = { ...before, data: { ...(before.data as object), note: 'fixed by e2e' } };
    const saved = parse<FlowStepRetryData>(runWithInput(['retry-data', 'put', FLOW, STEP, e.retryDataKey!, '--json'], JSON.stringify(fixed)), 'FlowStepRetryData');
    expect(saved).toEqual(fixed);
    expect(await getEnvelope(e.retryDataKey!)).toEqual(fixed);
    // editing never resolves: the error is still open
    const still = JSON.parse(ok(await runCli(['errors', 'list', FLOW, STEP, '--limit', '1000', '--json'], env))) as FlowStepErrorsResponse;
    expect(still.errors.some((x) => x.errorId === e.errorId)).toBe(true);
  }, 90_000);

  it('edit runs $EDITOR on the envelope, shows the diff and saves; no change says so; a bad edit exits 2', async () => {
    const e = withSnapshot(3);
    const before = await getEnvelope(e.retryDataKey!);
    const script = join(tmp.home, 'fake-editor.sh');
    // the editor variable carries arguments, as git allows: "sh script --flag"
    writeFileSync(script, '#!/bin/sh\n# $1 is --mode, $2 the file\nif [ "$1" = "--break" ]; then printf "{ broken" > "$2"; else sed -i "s/\\"stage\\"/\\"note\\": \\"edited\\",\\n  \\"stage\\"/" "$2"; fi\n');
    chmodSync(script, 0o755);

    const unchanged = runWithInput(['retry-data', 'edit', FLOW, STEP, e.retryDataKey!, '--yes'], '', { EDITOR: 'true', VISUAL: '' });
    expect(unchanged.code, unchanged.stderr).toBe(0);
    expect(unchanged.stderr).toBe('No changes.\n');

    const broken = runWithInput(['retry-data', 'edit', FLOW, STEP, e.retryDataKey!, '--yes'], '', { EDITOR: `${script} --break`, VISUAL: '' });
    expect(oneLineFailure(broken, 2)).toMatch(/^flowdeck: invalid JSON in \/.*\.json: /);

    // an unknown field is refused (and the edit is kept for the user)
    const field = runWithInput(['retry-data', 'edit', FLOW, STEP, e.retryDataKey!, '--yes'], '', { VISUAL: `${script} --field`, EDITOR: 'false' });
    expect(oneLineFailure(field, 2)).toMatch(/unknown field "note" \(your edit is kept in .*\)/);
    expect(await getEnvelope(e.retryDataKey!)).toEqual(before);

    // a data edit: diff on stderr, saved after --yes
    const dataScript = join(tmp.home, 'data-editor.sh');
    writeFileSync(dataScript, '#!/bin/sh\nsed -i "s/\\"data\\": {/\\"data\\": {\\n    \\"note\\": \\"edited\\",/" "$1"\n');
    chmodSync(dataScript, 0o755);
    const saved = runWithInput(['retry-data', 'edit', FLOW, STEP, e.retryDataKey!, '--yes'], '', { EDITOR: dataScript, VISUAL: '' });
    expect(saved.code, saved.stderr).toBe(0);
    expect(saved.stderr).toContain(`--- a/${e.retryDataKey}.json`);
    expect(saved.stderr).toContain('+    "note": "edited",');
    expect(saved.stdout).toMatch(/^Saved retry data /);
    expect((await getEnvelope(e.retryDataKey!)).data).toEqual({ note: 'edited', ...(before.data as object) });
  }, 90_000);

  it('patch --dry-run shows diffs and the count; without --yes and no terminal it refuses; --yes applies', async () => {
    const before = JSON.parse(ok(await runCli(['errors', 'list', FLOW, STEP, '--code', '422', '--limit', '1000', '--json'], env))) as FlowStepErrorsResponse;
    const keys = [...new Set(before.errors.map((e) => e.retryDataKey).filter(Boolean))] as string[];
    expect(keys.length).toBeGreaterThan(1);
    const stored = storedSnapshots();

    const dry = await runCli(['retry-data', 'patch', FLOW, STEP, '--code', '422', '--set', 'data.customer.email=fixed@example.com', '--dry-run'], env);
    const out = ok(dry);
    expect(out).toContain('+      "email": "fixed@example.com"');
    expect(out).toMatch(new RegExp(`Would change ${keys.length} snapshots \\(${before.errors.length} errors\\)`));
    expect(storedSnapshots()).toBe(stored);

    const refused = await runCli(['retry-data', 'patch', FLOW, STEP, '--code', '422', '--set', 'data.customer.email=fixed@example.com'], env);
    expect(oneLineFailure(refused, 2)).toMatch(/Patch \d+ retry-data snapshots of \d+ errors: confirm with --yes/);
    expect(storedSnapshots()).toBe(stored);

    const applied = JSON.parse(
      ok(await runCli(['retry-data', 'patch', FLOW, STEP, '--code', '422', '--set', 'data.customer.email=fixed@example.com', '--unset', 'data.customer.fax', '--yes', '--json'], env)),
    ) as { changed: Array<{ retryDataKey: string }>; dryRun: boolean };
    expect(applied.dryRun).toBe(false);
    expect(applied.changed.map((c) => c.retryDataKey).sort()).toEqual([...keys].sort());
    for (const key of keys.slice(0, 3)) expect(((await getEnvelope(key)).data as { customer: { email: string } }).customer.email).toBe('fixed@example.com');
    expect(ok(await runCli(['retry-data', 'patch', FLOW, STEP, '--code', '422', '--set', 'data.customer.email=fixed@example.com', '--yes'], env))).toMatch(
      /^Nothing to change: \d+ snapshots already as asked/,
    );
  }, 90_000);

  it('patch takes an RFC 6902 file; bad patches and flags exit 2', async () => {
    const e = withSnapshot(4);
    const file = join(tmp.home, 'fix.json');
    writeFileSync(file, JSON.stringify([{ op: 'add', path: '/data/patched', value: true }]));
    ok(await runCli(['retry-data', 'patch', FLOW, STEP, e.retryDataKey!, '--patch', file, '--yes'], env));
    expect((await getEnvelope(e.retryDataKey!)).data).toMatchObject({ patched: true });
    writeFileSync(file, JSON.stringify([{ op: 'add', path: '/stage', value: 'x' }]));
    expect(oneLineFailure(await runCli(['retry-data', 'patch', FLOW, STEP, e.retryDataKey!, '--patch', file, '--yes'], env), 2)).toMatch(/must be \/data or below it/);
    writeFileSync(file, '[{');
    expect(oneLineFailure(await runCli(['retry-data', 'patch', FLOW, STEP, e.retryDataKey!, '--patch', file, '--yes'], env), 2)).toMatch(/invalid JSON in/);
    expect(oneLineFailure(await runCli(['retry-data', 'patch', FLOW, STEP, e.retryDataKey!, '--set', 'data.x', '--yes'], env), 2)).toMatch(/--set takes path=value/);
    expect(oneLineFailure(await runCli(['retry-data', 'patch', FLOW, STEP, '--set', 'data.x=1', '--yes'], env), 2)).toMatch(/say which errors/);
    expect(oneLineFailure(await runCli(['retry-data', 'patch', FLOW, STEP, e.retryDataKey!, '--yes'], env), 2)).toMatch(/say what to change/);
  }, 90_000);

  it('patch takes errorIds and retryDataKeys mixed; an argument that is neither exits 2', async () => {
    const [a, b] = [withSnapshot(5), withSnapshot(6)];
    const stored = storedSnapshots();
    const dry = parse<{ changed: Array<{ retryDataKey: string }> }>(
      await runCli(['retry-data', 'patch', FLOW, STEP, a.errorId, b.retryDataKey!, '--set', 'data.mixed=true', '--dry-run', '--json'], env),
    );
    expect(dry.changed.map((c) => c.retryDataKey).sort()).toEqual([a.retryDataKey, b.retryDataKey].sort());
    expect(oneLineFailure(await runCli(['retry-data', 'patch', FLOW, STEP, a.errorId, 'abc', '--set', 'data.mixed=true', '--yes'], env), 2)).toBe(
      'flowdeck: "abc" is neither an errorId nor a retryDataKey',
    );
    expect(storedSnapshots()).toBe(stored);
  }, 90_000);
});

describe('requests', () => {
  it('list, show and delete request traces', async () => {
    const list = parse<FlowStepRequestsListResponse>(await runCli(['requests', 'list', FLOW, STEP, '--limit', '5', '--json'], env), 'FlowStepRequestsListResponse');
    expect(list.requests).toHaveLength(5);
    expect(list.nextPageURL).toMatch(/^\/v1\/flows\/[0-9a-f]{24}\/[0-9a-f]{24}\/requests\?/);
    const next = parse<FlowStepRequestsListResponse>(await runCli(['requests', 'list', FLOW, STEP, '--page', list.nextPageURL!, '--json'], env), 'FlowStepRequestsListResponse');
    expect(next.requests[0]!.time).toBeLessThanOrEqual(list.requests[4]!.time);
    expect(next.requests.map((r) => r.key)).not.toContain(list.requests[4]!.key);

    const human = ok(await runCli(['requests', 'list', FLOW, STEP, '--status-code', '429', '--limit', '3'], env));
    expect(human.split('\n')[0]).toMatch(/^KEY\s+TIME\s+METHOD\s+STATUS\s+STAGE$/);

    const e = withSnapshot(5);
    const shown = parse<FlowStepRequestResponse>(await runCli(['requests', 'show', FLOW, STEP, e.reqAndResKey!, '--json'], env), 'FlowStepRequestResponse');
    expect(shown.key).toBe(e.reqAndResKey);
    expect(shown.request.headers?.authorization).toBe('********');
    expect(ok(await runCli(['requests', 'show', FLOW, STEP, e.reqAndResKey!], env))).toMatch(/^Trace: {4}[0-9a-f]{24} at /);

    const unknown = `${e.reqAndResKey!.slice(0, 10)}ffffffffffffff`;
    expect(oneLineFailure(await runCli(['requests', 'delete', FLOW, STEP, e.reqAndResKey!, unknown, '--yes'], env), 1)).toMatch(/not found: .*\(nothing deleted\)/);
    parse<FlowStepRequestResponse>(await runCli(['requests', 'show', FLOW, STEP, e.reqAndResKey!, '--json'], env));
    oneLineFailure(await runCli(['requests', 'delete', FLOW, STEP, e.reqAndResKey!], env), 2);
    const deleted = parse<FlowStepRequestsDeleteResponse>(await runCli(['requests', 'delete', FLOW, STEP, e.reqAndResKey!, '--yes', '--json'], env), 'FlowStepRequestsDeleteResponse');
    expect(deleted).toEqual({ deleted: [e.reqAndResKey], errors: [] });
    expect(oneLineFailure(await runCli(['requests', 'show', FLOW, STEP, e.reqAndResKey!], env), 1)).toMatch(/request trace not found/);
  }, 90_000);

  it('bad flag values exit 2', async () => {
    for (const args of [
      ['--status-code', 'abc'],
      ['--time-lte', 'yesterday-ish'],
      ['--limit', '0'],
      ['--page', '/v1/flows/x/y/requests?pageSize=5'],
    ]) {
      oneLineFailure(await runCli(['requests', 'list', FLOW, STEP, ...args], env), 2);
    }
  }, 90_000);
});

describe('logs', () => {
  it('list, trace, data and children print the API shapes', async () => {
    const logs = parse<ExecutionLogsResponse>(await runCli(['logs', 'list', FLOW, jobId, '--limit', '5', '--status', 'error', '--json'], env), 'ExecutionLogsResponse');
    expect(logs.logs).toHaveLength(5);
    expect(logs.logs.every((l) => l.status === 'error')).toBe(true);
    expect(logs.prevPageUrl).toBeNull();
    const next = parse<ExecutionLogsResponse>(await runCli(['logs', 'list', FLOW, jobId, '--page', logs.nextPageUrl!, '--json'], env), 'ExecutionLogsResponse');
    expect(next.logs.every((l) => l.status === 'error')).toBe(true);
    expect(next.prevPageUrl).not.toBeNull();

    const failed = logs.logs[0]!;
    const trace = parse<ExecutionLogMetadataResponse>(await runCli(['logs', 'trace', FLOW, jobId, failed.recordId, '--json'], env), 'ExecutionLogMetadataResponse');
    expect(trace.traceView).toBe(true);
    expect(trace.traceKey).toBe(failed.traceKey);
    expect(trace.steps.length).toBeGreaterThanOrEqual(2);
    expect(trace.steps[trace.steps.length - 1]).toMatchObject({ recordId: failed.recordId, status: 'error' });
    const table = ok(await runCli(['logs', 'trace', FLOW, jobId, failed.recordId], env));
    expect(table).toMatch(new RegExp(`^traceKey ${failed.traceKey} across \\d+ entries`));
    expect(table).toContain('Shop orders');

    const data = parse<ExecutionLogDataResponse>(await runCli(['logs', 'data', FLOW, jobId, failed.recordId, '--stage', 'apiCall', '--json'], env), 'ExecutionLogDataResponse');
    expect(data.logs).toHaveLength(1);
    expect(data.logs[0]!.log).toHaveProperty('request');
    expect(data.logs[0]!.log).toHaveProperty('response');
    const children = parse<FlowJobLogChildrenResponse>(await runCli(['logs', 'children', FLOW, jobId, STEP, failed.recordId, '--json'], env), 'FlowJobLogChildrenResponse');
    expect(children).toEqual({ children: [], nextPageUrl: null, prevPageUrl: null });
  }, 90_000);

  it('unknown jobs and records exit 1; bad flags exit 2', async () => {
    oneLineFailure(await runCli(['logs', 'list', FLOW, '000000001000000000000999'], env), 1);
    oneLineFailure(await runCli(['logs', 'list', 'Orders to warehouse', jobId], env), 1);
    oneLineFailure(await runCli(['logs', 'trace', FLOW, jobId, 'no-such-record'], env), 1);
    oneLineFailure(await runCli(['logs', 'list', FLOW, jobId, '--status', 'bogus'], env), 2);
    oneLineFailure(await runCli(['logs', 'data', FLOW, jobId, 'x', '--stage', 'bogus'], env), 2);
    oneLineFailure(await runCli(['logs', 'list', FLOW, jobId, '--page', '/v1/flows/x/jobs/y/logs?next=zzz'], env), 2);
  }, 90_000);
});

describe('errors export', () => {
  it('streams the spec header and one row per open error to stdout', async () => {
    const csv = ok(await runCli(['errors', 'export', FLOW, STEP], env));
    const lines = csv.trimEnd().split('\n');
    expect(lines[0]).toBe(OPEN_HEADER);
    const count = (await runCli(['errors', 'list', FLOW, STEP, '--limit', '1000', '--json'], env)).stdout;
    const open = (JSON.parse(count) as FlowStepErrorsResponse).errors;
    // messages in the demo are single-line JSON, so a line is a row
    expect(lines).toHaveLength(1 + open.length);
    const ids = lines.slice(1).map((l) => l.match(/,([0-9a-f]{8}e0[0-9a-f]{14}),/)![1]!);
    expect(ids).toEqual(open.map((e) => e.errorId).sort());
  }, 90_000);

  it('-o writes a file with a final line on stderr; --resolved and a whole flow change the header', async () => {
    const file = join(tmp.home, 'open.csv');
    const r = await runCli(['errors', 'export', FLOW, STEP, '-o', file, '--code', '429'], env);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('');
    const rows = readFileSync(file, 'utf8').trimEnd().split('\n');
    expect(r.stderr).toBe(`Wrote ${rows.length - 1} row${rows.length === 2 ? '' : 's'} to ${file}\n`);
    expect(rows.slice(1).every((l) => l.split(',')[2] === '429')).toBe(true);
    expect(ok(await runCli(['errors', 'export', FLOW, STEP, '--resolved'], env)).split('\n')[0]).toBe(`resolvedAt,resolvedBy,${OPEN_HEADER}`);
    expect(ok(await runCli(['errors', 'export', FLOW], env)).split('\n')[0]).toBe(`_expOrImpId,${OPEN_HEADER}`);
  }, 90_000);

  it('--start-at resumes; bad input exits without creating the file', async () => {
    const all = ok(await runCli(['errors', 'export', FLOW, STEP], env)).trimEnd().split('\n');
    const start = all[11]!.match(/,([0-9a-f]{8}e0[0-9a-f]{14}),/)![1]!;
    const resumed = ok(await runCli(['errors', 'export', FLOW, STEP, '--start-at', start], env)).trimEnd().split('\n');
    expect(resumed).toEqual([all[0], ...all.slice(11)]);
    const file = join(tmp.home, 'never.csv');
    oneLineFailure(await runCli(['errors', 'export', FLOW, 'No such step', '-o', file], env), 1);
    oneLineFailure(await runCli(['errors', 'export', FLOW, STEP, '-o', file, '--start-at', 'zzz'], env), 2);
    oneLineFailure(await runCli(['errors', 'export', FLOW, STEP, '-o', file, '--tag', 'NoSuchTag'], env), 1);
    expect(existsSync(file)).toBe(false);
    // an existing file is neither truncated nor removed by a rejected export
    const kept = join(tmp.home, 'kept.csv');
    writeFileSync(kept, 'previous export\n');
    oneLineFailure(await runCli(['errors', 'export', FLOW, STEP, '-o', kept, '--start-at', 'zzz'], env), 2);
    expect(readFileSync(kept, 'utf8')).toBe('previous export\n');
  }, 90_000);
});

describe('flows enable/disable and jobs search', () => {
  it('disables and enables a flow', async () => {
    expect(ok(await runCli(['flows', 'disable', 'Shop customers to CRM'], env))).toBe('Flow "Shop customers to CRM" disabled.\n');
    expect(ok(await runCli(['flows', 'disable', 'Shop customers to CRM'], env))).toBe('Flow "Shop customers to CRM" is already disabled.\n');
    expect(ok(await runCli(['flows', 'list'], env))).toMatch(/Shop customers to CRM\s+[0-9a-f]{24}\s+disabled/);
    const enabled = JSON.parse(ok(await runCli(['flows', 'enable', 'Shop customers to CRM', '--json'], env))) as { disabled: boolean };
    expect(enabled.disabled).toBe(false);
    oneLineFailure(await runCli(['flows', 'enable', 'No such flow'], env), 1);
  }, 90_000);

  it('jobs search finds the run by trace key prefix', async () => {
    const traceKey = withSnapshot(0).traceKey!;
    const found = parse<FlowJobsSearchResponse>(await runCli(['jobs', 'search', FLOW, '--trace-key', traceKey, '--json'], env), 'FlowJobsSearchResponse');
    expect(found.runs.map((r) => r._id)).toContain(jobId);
    expect(parse<FlowJobsSearchResponse>(await runCli(['jobs', 'search', FLOW, '--trace-key', 'NOPE-', '--json'], env)).runs).toEqual([]);
    expect(ok(await runCli(['jobs', 'search', FLOW, '--trace-key', traceKey], env)).split('\n')[0]).toMatch(/^JOB ID\s+TYPE\s+STATUS/);
    oneLineFailure(await runCli(['jobs', 'search', FLOW], env), 2);
  }, 90_000);
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FlowInfo } from '../../src/backend/contract/index.js';
import type { FlowErrorsResponse, FlowStepErrorsResponse, Job } from '../../src/domain/api.js';
import { CLASSIFICATIONS } from '../../src/domain/filter-metadata.js';
import { commandEnv, runInProcess, type InProcessResult } from '../helpers/in-process.js';
import { undeclaredKeys, validateAgainst } from '../helpers/spec.js';
import { tempHome, writeFlowFile, type TempHome } from '../helpers/workspace.js';

// The demo, the read commands and flows run as a user runs them, in this process (the output and
// exit codes of bin/flowdeck.js without starting one; test/e2e/bin-smoke.test.ts runs each family
// through the executable): a seeded demo workspace, --json output checked against the API's
// schemas, and the exit-code contract (0 ok, 1 failure, 2 usage) with one line on stderr.

const ERP_FLOW = 'Shop orders to ERP';
const ERP_STEP = 'ERP sales orders';

let tmp: TempHome;
let env: NodeJS.ProcessEnv;
let demo: InProcessResult;

beforeAll(async () => {
  tmp = tempHome();
  env = commandEnv({ FLOWDECK_HOME: tmp.home, FLOWDECK_USER: 'e2e@acme.example' });
  demo = await runInProcess(env, ['demo', '--no-tui']);
}, 60_000);

afterAll(() => tmp?.cleanup());

function parse<T>(result: InProcessResult): T {
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  return JSON.parse(result.stdout) as T;
}

/** A usage or failure report: the exit code, nothing on stdout, exactly one `flowdeck:` line on stderr. */
function expectOneLineFailure(result: InProcessResult, code: 1 | 2): string {
  expect(result.code, result.stderr).toBe(code);
  expect(result.stdout).toBe('');
  const lines = result.stderr.split('\n').filter((l) => l !== '');
  expect(lines, result.stderr).toHaveLength(1);
  expect(lines[0]!.startsWith('flowdeck: ')).toBe(true);
  return lines[0]!;
}

describe('flowdeck demo', () => {
  it('exits 0 and prints each flow with its steps and several classifications', () => {
    expect(demo.code, demo.stderr).toBe(0);
    for (const flow of ['Shop orders to ERP', 'Shop customers to CRM', 'Orders to warehouse']) expect(demo.stdout).toContain(flow);
    for (const step of ['Shop orders', 'CRM customer lookup', 'ERP sales orders', 'CRM contacts', 'Warehouse shipments', 'Legacy order archive']) {
      expect(demo.stdout).toContain(step);
    }
    const classes = CLASSIFICATIONS.filter((c) => new RegExp(`\\b${c} \\d+`).test(demo.stdout));
    expect(classes.length, demo.stdout).toBeGreaterThanOrEqual(4);
    expect(classes).toEqual(expect.arrayContaining(['connection', 'intermittent', 'missing', 'value']));
    // progress went to stderr, the summary to stdout
    expect(demo.stderr).toMatch(/running Shop orders to ERP/);
    expect(demo.stdout).not.toMatch(/running/);
  });

  it('keeps the workspace on a second run, without running the flows again', async () => {
    const again = await runInProcess(env, ['demo', '--no-tui']);
    expect(again.code).toBe(0);
    expect(again.stderr).toBe('');
    expect(again.stdout).toBe(demo.stdout);
    const jobs = parse<Job[]>(await runInProcess(env, ['jobs', 'list', '--json']));
    expect(jobs.filter((j) => j.type === 'flow')).toHaveLength(3);
  });
});

describe('read commands', () => {
  it('flows list prints an aligned table; --json the flows with open-error counts', async () => {
    const [human, json] = await Promise.all([runInProcess(env, ['flows', 'list']), runInProcess(env, ['flows', 'list', '--json'])]);
    expect(human.code).toBe(0);
    const lines = human.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^NAME\s+ID\s+STATE\s+OPEN ERRORS\s+STEPS\s+LAST RUN$/);
    expect(lines).toHaveLength(4);
    const idAt = lines[0]!.indexOf('ID');
    for (const line of lines.slice(1)) expect(line.slice(idAt, idAt + 24)).toMatch(/^[0-9a-f]{24}$/);

    const flows = parse<FlowInfo[]>(json);
    expect(flows.map((f) => f.name).sort()).toEqual(['Orders to warehouse', 'Shop customers to CRM', 'Shop orders to ERP']);
    for (const f of flows) {
      expect(f.numOpenError).toBe(f.steps.reduce((n, s) => n + s.numOpenError, 0));
      expect(f.lastJob?.status).toBe('completed');
    }
  });

  it('errors summary --json is a FlowErrorsResponse matching the flow', async () => {
    const [summaryRun, flowsRun] = await Promise.all([runInProcess(env, ['errors', 'summary', ERP_FLOW, '--json']), runInProcess(env, ['flows', 'list', '--json'])]);
    const summary = parse<FlowErrorsResponse>(summaryRun);
    expect(validateAgainst('FlowErrorsResponse', summary)).toEqual([]);
    expect(undeclaredKeys('FlowErrorsResponse', summary)).toEqual([]);
    const flows = parse<FlowInfo[]>(flowsRun);
    const flow = flows.find((f) => f.name === ERP_FLOW)!;
    expect(summary.flowErrors.map((s) => s._expOrImpId)).toEqual(flow.steps.map((s) => s._id));
    expect(summary.flowErrors.map((s) => s.numError)).toEqual(flow.steps.map((s) => s.numOpenError));
    expect(summary.flowErrors.reduce((n, s) => n + s.numError, 0)).toBeGreaterThan(0);
  });

  it('errors list --json is a FlowStepErrorsResponse, every error a FlowStepError', async () => {
    const [listRun, summaryRun] = await Promise.all([
      runInProcess(env, ['errors', 'list', ERP_FLOW, ERP_STEP, '--json', '--limit', '1000']),
      runInProcess(env, ['errors', 'summary', ERP_FLOW, '--json']),
    ]);
    const response = parse<FlowStepErrorsResponse>(listRun);
    expect(validateAgainst('FlowStepErrorsResponse', response)).toEqual([]);
    expect(response.errors.length).toBeGreaterThan(0);
    expect(response.nextPageURL).toBeUndefined();
    for (const e of response.errors) {
      expect(validateAgainst('FlowStepError', e)).toEqual([]);
      expect(undeclaredKeys('FlowStepError', e)).toEqual([]);
    }
    const summary = parse<FlowErrorsResponse>(summaryRun);
    expect(response.errors.length).toBe(summary.flowErrors.at(-1)!.numError);
    expect(new Set(response.errors.map((e) => e.classification)).size).toBeGreaterThan(1);
  });

  it('errors list pages with --limit and --page, and filters', async () => {
    const [firstRun, valueRun, refusedRun] = await Promise.all([
      runInProcess(env, ['errors', 'list', ERP_FLOW, ERP_STEP, '--json', '--limit', '5']),
      runInProcess(env, ['errors', 'list', ERP_FLOW, ERP_STEP, '--json', '--classification', 'value']),
      runInProcess(env, ['errors', 'list', 'Orders to warehouse', 'Warehouse shipments', '--json', '--code', 'ECONNREFUSED', '--search', 'ECONNREFUSED']),
    ]);
    const first = parse<FlowStepErrorsResponse>(firstRun);
    expect(first.errors).toHaveLength(5);
    expect(first.nextPageURL).toBeDefined();
    const second = parse<FlowStepErrorsResponse>(await runInProcess(env, ['errors', 'list', ERP_FLOW, ERP_STEP, '--json', '--limit', '5', '--page', first.nextPageURL!]));
    expect(second.errors).toHaveLength(5);
    const ids = [...first.errors, ...second.errors].map((e) => e.errorId);
    expect(new Set(ids).size).toBe(10);
    expect(ids).toEqual([...ids].sort().reverse());

    const value = parse<FlowStepErrorsResponse>(valueRun);
    expect(value.errors.length).toBeGreaterThan(0);
    expect(value.errors.every((e) => e.classification === 'value' && e.code === '422')).toBe(true);
    const refused = parse<FlowStepErrorsResponse>(refusedRun);
    expect(refused.errors.length).toBeGreaterThan(0);
    expect(refused.errors.every((e) => e.source === 'connection' && e.retryDataKey === undefined)).toBe(true);
  });

  it('errors list prints a table for people', async () => {
    const human = await runInProcess(env, ['errors', 'list', ERP_FLOW, ERP_STEP, '--limit', '3']);
    expect(human.code).toBe(0);
    const lines = human.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^ERROR ID\s+AGE\s+CODE\s+SOURCE\s+CLASS\s+MESSAGE/);
    expect(lines).toHaveLength(4);
    expect(human.stderr).toMatch(/^more: flowdeck errors list .* --page '\/v1\/flows\//);
  });

  it('jobs list --json lists Jobs', async () => {
    const jobs = parse<Job[]>(await runInProcess(env, ['jobs', 'list', '--json']));
    expect(jobs.length).toBeGreaterThanOrEqual(3);
    for (const job of jobs) {
      expect(validateAgainst('Job', job)).toEqual([]);
      expect(undeclaredKeys('Job', job)).toEqual([]);
      expect(job._parentJobId).toBeUndefined();
    }
    const flowJobs = jobs.filter((j) => j.type === 'flow');
    expect(flowJobs.every((j) => j.status === 'completed' && j.numSuccess! + j.numError! === j.numExport)).toBe(true);
    const shown = parse<Job>(await runInProcess(env, ['jobs', 'show', flowJobs[0]!._id, '--json']));
    expect(validateAgainst('Job', shown)).toEqual([]);
    expect(shown).toEqual(flowJobs[0]);
  });
});

describe('failures and usage errors', () => {
  it('an unknown flow exits 1 with one line', async () => {
    const line = expectOneLineFailure(await runInProcess(env, ['errors', 'list', 'No such flow', 'x']), 1);
    expect(line).toBe('flowdeck: flow not found: No such flow (flows: "Orders to warehouse", "Shop customers to CRM", "Shop orders to ERP")');
    const [summary, job] = await Promise.all([
      runInProcess(env, ['errors', 'summary', 'nope', '--json']),
      runInProcess(env, ['jobs', 'show', '000000001000000000000001']),
    ]);
    expectOneLineFailure(summary, 1);
    expect(expectOneLineFailure(job, 1)).toBe('flowdeck: job not found: 000000001000000000000001');
  });

  it('an unknown step exits 1 with one line', async () => {
    expect(expectOneLineFailure(await runInProcess(env, ['errors', 'list', ERP_FLOW, 'nope']), 1)).toMatch(/step .* not found: nope/);
  });

  it('a bad flag value exits 2 with one line naming the flag', async () => {
    const values = ['0', 'abc', '1001', '-3'];
    const results = await Promise.all(values.map((value) => runInProcess(env, ['errors', 'list', ERP_FLOW, ERP_STEP, '--limit', value])));
    results.forEach((result, i) => {
      const line = expectOneLineFailure(result, 2);
      expect(line).toContain('--limit');
      expect(line).toContain(values[i]);
    });
    const [status, tag, page] = await Promise.all([
      runInProcess(env, ['jobs', 'list', '--status', 'done']),
      runInProcess(env, ['errors', 'list', ERP_FLOW, ERP_STEP, '--tag', 'no such tag']),
      runInProcess(env, ['errors', 'list', ERP_FLOW, ERP_STEP, '--page', 'not a url']),
    ]);
    expect(expectOneLineFailure(status, 2)).toContain('--status');
    expect(expectOneLineFailure(tag, 1)).toContain('unknown tag');
    expect(expectOneLineFailure(page, 2)).toContain('--page');
  });

  it('an unknown option or command exits 2', async () => {
    const [unknown, command] = await Promise.all([runInProcess(env, ['errors', 'list', ERP_FLOW, ERP_STEP, '--bogus']), runInProcess(env, ['frobnicate'])]);
    expect(unknown.code).toBe(2);
    expect(unknown.stdout).toBe('');
    expect(unknown.stderr).toMatch(/^flowdeck: unknown option '--bogus'/);
    expect(command.code).toBe(2);
    expect(command.stderr).toMatch(/^flowdeck: unknown command 'frobnicate'/);
  });

  it('a broken flow file exits 2 naming the file and the field', async () => {
    const broken = tempHome();
    try {
      const file = writeFlowFile(
        broken.home,
        'broken.yaml',
        `connections:
  - name: ERP
    http: { baseURI: "http://127.0.0.1:9" }
exports:
  - name: Orders
    _connectionId: ERP
    http: { relativeURI: /orders }
flows:
  - name: Broken
    pageGenerators: [{ _exportId: Orders }]
    pageProcessors:
      - { type: import, _importId: nope }
`,
      );
      const results = await Promise.all([['flows', 'list'], ['jobs', 'list', '--json']].map((args) => runInProcess(commandEnv({ FLOWDECK_HOME: broken.home }), args)));
      for (const result of results) {
        const line = expectOneLineFailure(result, 2);
        expect(line).toBe(`flowdeck: ${file}: flows[0].pageProcessors[0]._importId: unknown import "nope"`);
      }
    } finally {
      broken.cleanup();
    }
  });
});

describe('flows run', () => {
  it('runs a flow as a job and prints the finished Job', async () => {
    const before = parse<Job[]>(await runInProcess(env, ['jobs', 'list', '--json']));
    // The CRM rejects some records: the run completes, and exits 1 because records failed.
    const run = await runInProcess(env, ['flows', 'run', 'Shop customers to CRM', '--json']);
    const job = JSON.parse(run.stdout) as Job;
    expect(run.code).toBe(job.numError! > 0 ? 1 : 0);
    expect(run.stderr).toBe(job.numError! > 0 ? `flowdeck: job ${job._id} completed with ${job.numError!.toLocaleString('en-US')} record${job.numError === 1 ? '' : 's'} failing\n` : '');
    expect(validateAgainst('Job', job)).toEqual([]);
    expect(undeclaredKeys('Job', job)).toEqual([]);
    expect(job).toMatchObject({ type: 'flow', status: 'completed', triggeredBy: 'e2e@acme.example' });
    expect(job.numSuccess! + job.numError!).toBe(job.numExport);
    const after = parse<Job[]>(await runInProcess(env, ['jobs', 'list', '--json']));
    expect(after).toHaveLength(before.length + 1);
    expect(after[0]!._id).toBe(job._id);
  });
});

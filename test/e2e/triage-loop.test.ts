import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { validateAgainst } from '../helpers/spec.js';
import { tempHome, type TempHome } from '../helpers/workspace.js';

// The whole triage loop as an operator drives it from a shell: list → assign → tag → fix a 422
// record's snapshot in $EDITOR → retry → resolved; a back-off retry against the flaky CRM; and a
// retry of a record the ERP still rejects, which leaves a new errorId carrying tags and assignee.

const ERP = ['Shop orders to ERP', 'ERP sales orders'];
const CRM = ['Shop customers to CRM', 'CRM contacts'];
const OPERATOR = 'night.shift@acme.example';

let tmp: TempHome;
let env: Record<string, string>;

async function cli(args: string[], expectCode = 0) {
  const result = await runCli(args, env);
  if (result.code !== expectCode) throw new Error(`flowdeck ${args.join(' ')} → ${result.code}\n${result.stderr}${result.stdout}`);
  return result;
}

async function listJson(flowStep: string[], ...filters: string[]) {
  const out = JSON.parse((await cli(['errors', 'list', ...flowStep, '--json', '--limit', '1000', ...filters])).stdout);
  expect(validateAgainst('FlowStepErrorsResponse', out)).toEqual([]);
  return out.errors as Array<Record<string, unknown> & { errorId: string; retryDataKey?: string; tags?: string[]; assignedTo?: string }>;
}

beforeEach(async () => {
  tmp = tempHome();
  env = { FLOWDECK_HOME: tmp.home, FLOWDECK_USER: OPERATOR };
  await cli(['demo', '--no-tui']);
});

afterEach(() => tmp.cleanup());

it('list → assign → tag → edit a 422 snapshot → retry → resolved by the operator', async () => {
  const invalidEmail = await listJson(ERP, '--code', '422', '--search', 'valid email');
  expect(invalidEmail.length).toBeGreaterThan(0);
  const target = invalidEmail[0]!;
  const key = target.retryDataKey!;

  await cli(['errors', 'assign', ...ERP, target.errorId, '--to', 'ana.lima@acme.example']);
  await cli(['errors', 'tag', ...ERP, target.errorId, '--add', 'Needs data fix']);
  const [tagged] = await listJson(ERP, '--query', `rdk:${key}`);
  expect(tagged).toMatchObject({ errorId: target.errorId, assignedTo: 'ana.lima@acme.example', tags: ['Needs data fix'] });

  // The editor: a script that fixes the email in the envelope it is handed.
  const editor = join(tmp.home, 'fix-email.mjs');
  writeFileSync(
    editor,
    `import { readFileSync, writeFileSync } from 'node:fs';
     const file = process.argv[2];
     const envelope = JSON.parse(readFileSync(file, 'utf8'));
     envelope.data.customer.email = 'fixed.customer@example.com';
     writeFileSync(file, JSON.stringify(envelope, null, 2));`,
  );
  const edited = await runCli(['retry-data', 'edit', ...ERP, key, '--yes'], { ...env, EDITOR: `${process.execPath} ${editor}` });
  expect(edited.code).toBe(0);
  expect(edited.stderr).toContain('fixed.customer@example.com');
  const envelope = JSON.parse((await cli(['retry-data', 'get', ...ERP, key])).stdout);
  expect(validateAgainst('FlowStepRetryData', envelope)).toEqual([]);
  expect(envelope.data.customer.email).toBe('fixed.customer@example.com');
  // Editing never resolves the error.
  expect((await listJson(ERP, '--query', `rdk:${key}`)).map((e) => e.errorId)).toEqual([target.errorId]);

  const retried = await cli(['errors', 'retry', ...ERP, key, '--wait']);
  expect(retried.stdout).toMatch(/1 resolved/);
  expect(await listJson(ERP, '--query', `rdk:${key}`)).toEqual([]);
  const resolved = JSON.parse((await cli(['resolved', 'list', ...ERP, '--json', '--limit', '1000'])).stdout);
  expect(validateAgainst('FlowStepResolvedResponse', resolved)).toEqual([]);
  const entry = resolved.resolved.find((e: { errorId: string }) => e.errorId === target.errorId);
  expect(entry).toMatchObject({ resolvedBy: OPERATOR, retryDataKey: key, assignedTo: 'ana.lima@acme.example' });
}, 120_000);

it('a back-off retry against the flaky CRM ends resolved', async () => {
  const flaky = await listJson(CRM, '--classification', 'intermittent');
  expect(flaky.length).toBeGreaterThan(5);
  const retried = await cli([
    'errors', 'retry', ...CRM, '--classification', 'intermittent', '--yes', '--wait',
    '--backoff', 'exponential', '--base-delay', '50ms', '--factor', '1.5', '--max-delay', '500ms', '--max-attempts', '12',
    '--report', join(tmp.home, 'report.json'),
  ]);
  expect(retried.stdout).toMatch(new RegExp(`${flaky.length} resolved, 0 still failing`));
  expect(await listJson(CRM, '--classification', 'intermittent')).toEqual([]);
}, 120_000);

it('retrying a record the ERP still rejects leaves a new errorId with the same key, tags and assignee', async () => {
  const [unfixed] = await listJson(ERP, '--code', '422', '--classification', 'value');
  const key = unfixed!.retryDataKey!;
  await cli(['errors', 'assign', ...ERP, unfixed!.errorId, '--to', 'ben.okafor@acme.example']);
  await cli(['errors', 'tag', ...ERP, unfixed!.errorId, '--set', 'Investigating,Known issue']);

  // A record still failing is not "all done": exit 1, after the summary.
  const retried = await cli(['errors', 'retry', ...ERP, key, '--wait'], 1);
  expect(retried.stdout).toMatch(/0 resolved, 1 still failing/);
  const now = await listJson(ERP, '--query', `rdk:${key}`);
  expect(now).toHaveLength(1);
  expect(now[0]!.errorId).not.toBe(unfixed!.errorId);
  expect(now[0]).toMatchObject({ retryDataKey: key, code: '422', assignedTo: 'ben.okafor@acme.example' });
  expect([...now[0]!.tags!].sort()).toEqual(['Investigating', 'Known issue']);
  for (const e of now) expect(validateAgainst('FlowStepError', e)).toEqual([]);
}, 120_000);

import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { auditOf, localFace, remoteFace, seedDemoTemplate, type Face, type Template } from '../helpers/faces.js';
import { validateAgainst } from '../helpers/spec.js';

// The whole triage loop as an operator drives it from a shell: list → assign → tag → fix a 422
// record's snapshot in $EDITOR → retry → resolved; a back-off retry against the flaky CRM; and a
// retry of a record the ERP still rejects, which leaves a new errorId carrying tags and assignee.
// Each runs twice with the same assertions: on a local workspace, and through `flowdeck serve`
// (a process of its own) with a remote profile, where a second user acts with a token of theirs.

const ERP = ['Shop orders to ERP', 'ERP sales orders'];
const CRM = ['Shop customers to CRM', 'CRM contacts'];
const OPERATOR = 'night.shift@acme.example';
const BEN = 'ben@acme.example';

type ListedError = Record<string, unknown> & { errorId: string; retryDataKey?: string; tags?: string[]; assignedTo?: string; assignedBy?: string };

let template: Template | undefined;
beforeAll(async () => {
  template = await seedDemoTemplate(OPERATOR);
});
afterAll(() => template?.cleanup());

describe.each([
  { face: 'local', make: localFace },
  { face: 'remote', make: remoteFace },
])('on the $face face', ({ make }) => {
  let face: Face;
  const opened: Face[] = [];

  async function cli(args: string[], expectCode = 0, env: Record<string, string> = face.env) {
    const result = await runCli(args, env);
    if (result.code !== expectCode) throw new Error(`flowdeck ${args.join(' ')} → ${result.code}\n${result.stderr}${result.stdout}`);
    return result;
  }

  async function listJson(flowStep: string[], ...filters: string[]) {
    const out = JSON.parse((await cli(['errors', 'list', ...flowStep, '--json', '--limit', '1000', ...filters])).stdout);
    expect(validateAgainst('FlowStepErrorsResponse', out)).toEqual([]);
    return out.errors as ListedError[];
  }

  const show = async (errorId: string) => JSON.parse((await cli(['errors', 'show', errorId, '--json'])).stdout) as ListedError;

  beforeEach(async () => {
    face = await make(template!, OPERATOR);
    opened.push(face);
  });

  // Stops the server (the remote face checks its shells made no local workspace) and removes it all.
  afterEach(async () => {
    for (const f of opened.splice(0)) await f.cleanup();
  });

  it('list → assign → tag → edit a 422 snapshot → retry → resolved by the operator; a second user acts as himself', async () => {
    const invalidEmail = await listJson(ERP, '--code', '422', '--search', 'valid email');
    expect(invalidEmail.length).toBeGreaterThan(1);
    const target = invalidEmail[0]!;
    const other = invalidEmail[1]!;
    const key = target.retryDataKey!;

    await cli(['errors', 'assign', ...ERP, target.errorId, '--to', 'ana.lima@acme.example']);
    // Ben, at a shell of his own, tags the operator's error and takes another one himself.
    const ben = await face.as(BEN);
    await cli(['errors', 'tag', ...ERP, target.errorId, '--add', 'Needs data fix'], 0, ben);
    await cli(['errors', 'assign', ...ERP, other.errorId, '--to', 'me'], 0, ben);
    const [tagged] = await listJson(ERP, '--query', `rdk:${key}`);
    expect(tagged).toMatchObject({ errorId: target.errorId, assignedTo: 'ana.lima@acme.example', assignedBy: OPERATOR, tags: ['Needs data fix'] });
    expect(await show(other.errorId)).toMatchObject({ errorId: other.errorId, assignedTo: BEN, assignedBy: BEN });
    expect(await show(target.errorId)).toMatchObject({ assignedTo: 'ana.lima@acme.example', assignedBy: OPERATOR });

    // The editor: a script that fixes the email in the envelope it is handed.
    const editor = join(face.scratch, 'fix-email.mjs');
    writeFileSync(
      editor,
      `import { readFileSync, writeFileSync } from 'node:fs';
       const file = process.argv[2];
       const envelope = JSON.parse(readFileSync(file, 'utf8'));
       envelope.data.customer.email = 'fixed.customer@example.com';
       writeFileSync(file, JSON.stringify(envelope, null, 2));`,
    );
    const edited = await runCli(['retry-data', 'edit', ...ERP, key, '--yes'], { ...face.env, EDITOR: `${process.execPath} ${editor}` });
    expect(edited.code, edited.stderr).toBe(0);
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

    // The audit names each as themselves, and nobody else: not the shell's local user, not the
    // server's (whose only entries are the tokens it made, on the remote face).
    // The demo's own flow runs (seeding) and the server's token are not the loop's.
    const audit = auditOf(face.workspace).filter((a) => a.action !== 'token.create' && a.action !== 'run_flow');
    expect(audit.map((a) => [a.actor, a.action])).toEqual([
      [OPERATOR, 'assign'],
      [BEN, 'tag'],
      [BEN, 'assign'],
      [OPERATOR, 'retry-data.put'],
      [OPERATOR, 'retry'],
    ]);
    expect(audit[2]!.detail).toMatchObject({ email: BEN, errorIds: [other.errorId] });
  }, 120_000);

  it('a back-off retry against the flaky CRM ends resolved', async () => {
    const flaky = await listJson(CRM, '--classification', 'intermittent');
    expect(flaky.length).toBeGreaterThan(5);
    const report = join(face.scratch, 'report.json');
    const retried = await cli([
      'errors', 'retry', ...CRM, '--classification', 'intermittent', '--yes', '--wait',
      '--backoff', 'exponential', '--base-delay', '50ms', '--factor', '1.5', '--max-delay', '500ms', '--max-attempts', '12',
      '--report', report,
    ]);
    expect(retried.stdout).toMatch(new RegExp(`${flaky.length} resolved, 0 still failing`));
    expect(await listJson(CRM, '--classification', 'intermittent')).toEqual([]);
    // The report, written where the command runs: every key resolved, some only after backing off.
    const written = JSON.parse(readFileSync(report, 'utf8')) as { job: { triggeredBy: string }; summary: Record<string, number>; items: Array<{ outcome: string; attempts: number }> };
    expect(written.job.triggeredBy).toBe(OPERATOR);
    expect(written.summary).toMatchObject({ resolved: flaky.length, failed: 0, pending: 0 });
    expect(written.items.map((i) => i.outcome)).toEqual(flaky.map(() => 'resolved'));
    expect(written.items.some((i) => i.attempts > 1)).toBe(true);
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
});

import { spawn } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FlowStepErrorsResponse } from '../../src/domain/api.js';
import { REPO_ROOT } from '../helpers/cli.js';
import { commandEnv, runInProcess } from '../helpers/in-process.js';
import { tempHome, type TempHome } from '../helpers/workspace.js';

// Scripts can trust flowdeck: exit 0 only when everything was done, 1 when records failed or
// nothing could be acted on, 2 for usage; a retry says "Queued N records (job …)" at once; a reader
// that closes the pipe early ends the command quietly; a workspace that does not exist yet is said.
// The commands run in this process (the output and exit codes of bin/flowdeck.js without starting
// one), except where the process is what is tested: a closed pipe, and a jobs wait followed as it
// runs while another process cancels its job.

const ERP = ['Shop orders to ERP', 'ERP sales orders'];
const OPERATOR = 'night.shift@acme.example';

let tmp: TempHome;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  tmp = tempHome('flowdeck-scripts-');
  env = commandEnv({ FLOWDECK_HOME: tmp.home, FLOWDECK_USER: OPERATOR, FLOWDECK_WORKER: 'off' });
  const demo = await runInProcess(env, ['demo', '--no-tui']);
  if (demo.code !== 0) throw new Error(`demo failed: ${demo.stderr}`);
}, 90_000);

afterAll(() => tmp?.cleanup());

/** Runs flowdeck with its stdout's reading end closed before it writes a byte (`| true`, `| head` that has had enough). */
function runIntoClosedPipe(args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['bin/flowdeck.js', ...args], { cwd: REPO_ROOT, env: { ...process.env, NO_COLOR: '1', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout!.destroy();
    const err: Buffer[] = [];
    child.stderr!.on('data', (c: Buffer) => err.push(c));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stderr: Buffer.concat(err).toString('utf8') }));
  });
}

describe('exit codes', () => {
  it('errors retry --wait with records still failing exits 1 after its summary; so does jobs wait on that job', async () => {
    const retry = await runInProcess(env, ['errors', 'retry', ...ERP, '--code', '422', '--yes', '--wait']);
    expect(retry.stderr).toMatch(/^Queued \d+ records? \(job [0-9a-f]{24}\)\.\n/);
    expect(retry.stdout).toMatch(/Retry job [0-9a-f]{24} completed: 0 resolved, \d+ still failing/);
    expect(retry.stderr).toMatch(/flowdeck: retry job [0-9a-f]{24} left \d+ records? failing\n$/);
    expect(retry.code).toBe(1);
    const jobId = /Retry job ([0-9a-f]{24})/.exec(retry.stdout)![1]!;
    const waited = await runInProcess(env, ['jobs', 'wait', jobId]);
    expect(waited.stderr).toMatch(new RegExp(`flowdeck: job ${jobId} completed with \\d+ records? failing\\n$`));
    expect(waited.code).toBe(1);
  });

  it('jobs wait on a queued retry says at once how many records it waits for', async () => {
    // Queued, not run (no worker here): jobs wait says what it waits for before anything settles.
    // With FLOWDECK_WORKER=off jobs wait then runs the job itself, here at one record a second, so
    // the job is still going when it is canceled.
    // The 422s: the demo records them however slow the machine (a loaded one may send too slowly for a 429).
    const queued = await runInProcess(env, ['errors', 'retry', ...ERP, '--code', '422', '--rate', '1/s', '--yes']);
    expect(queued.code, queued.stderr).toBe(0);
    const jobId = /^Queued retry job ([0-9a-f]{24}) \((\d+) records?\)/.exec(queued.stdout)!;
    const child = spawn(process.execPath, ['bin/flowdeck.js', 'jobs', 'wait', jobId[1]!], { cwd: REPO_ROOT, env: { ...process.env, NO_COLOR: '1', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let said = '';
    child.stderr!.on('data', (c: Buffer) => (said += c.toString()));
    const ended = new Promise<number | null>((resolve) => child.on('close', resolve));
    const until = Date.now() + 60_000;
    while (!said.includes('\n') && Date.now() < until) await new Promise((r) => setTimeout(r, 25));
    expect(said).toMatch(new RegExp(`^Waiting for ${jobId[2]} records? \\(job ${jobId[1]}, ${jobId[2]} to go\\)\\.\n`));
    expect(Number(jobId[2])).toBeGreaterThan(2);
    // Canceled, it ends: jobs wait ends with it, and a job that did not complete exits 1.
    const canceled = await runInProcess(env, ['jobs', 'cancel', jobId[1]!]);
    expect(canceled.code, canceled.stderr).toBe(0);
    expect(await ended).toBe(1);
  });

  it('an unknown flow and an unknown tag are the same kind of mistake: exit 1 both', async () => {
    const [flow, tag] = await Promise.all([
      runInProcess(env, ['errors', 'list', 'No such flow', ERP[1]!]),
      runInProcess(env, ['errors', 'list', ...ERP, '--tag', 'No such tag']),
    ]);
    expect([flow.code, tag.code]).toEqual([1, 1]);
  });
});

describe('a closed pipe ends the command quietly', () => {
  it('errors show --json | true, errors list --all --json | head -c 100, flowdeck | head -5', async () => {
    const page = JSON.parse((await runInProcess(env, ['errors', 'list', ...ERP, '--limit', '1', '--json'])).stdout) as FlowStepErrorsResponse;
    const results = await Promise.all([
      runIntoClosedPipe(['errors', 'show', page.errors[0]!.errorId, '--json']),
      runIntoClosedPipe(['errors', 'list', ...ERP, '--all', '--json']),
      runIntoClosedPipe([]),
    ]);
    for (const r of results) expect(r).toEqual({ code: 0, stderr: '' });
  });
});

describe('the workspace', () => {
  it('a FLOWDECK_HOME that does not exist is said once: creating a new workspace at …', async () => {
    const home = join(tmp.home, 'typo-home');
    const first = await runInProcess({ ...env, FLOWDECK_HOME: home }, ['tags', 'list']);
    expect(first.stderr).toBe(`flowdeck: creating a new workspace at ${home} (FLOWDECK_HOME)\n`);
    expect(existsSync(home)).toBe(true);
    const second = await runInProcess({ ...env, FLOWDECK_HOME: home }, ['tags', 'list']);
    expect(second.stderr).toBe('');
    rmSync(home, { recursive: true, force: true });
  });
});

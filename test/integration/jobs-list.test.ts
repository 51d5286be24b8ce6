import { PassThrough } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildProgram } from '../../commands/index.js';
import { LocalBackend } from '../../src/backend/local-backend.js';
import type { CommandIO } from '../../src/cli/context.js';
import type { Job } from '../../src/domain/api.js';
import { encodeId } from '../../src/domain/ids.js';
import { seedDemoWorkspace } from '../../src/workspace/demo.js';
import { tempHome, type TempHome } from '../helpers/workspace.js';

// `jobs list` over a workspace with more jobs than a page (a busy day of automatic retries and the
// operator's own big job among them): filters by type, status, flow and who started them, --mine,
// paging past the first page and --all, the step and who started each job, and why failed ones failed.

const OPERATOR = 'ops.lead@acme.example';
const FLOW = 'Shop orders to ERP';

let tmp: TempHome;
let backend: LocalBackend;
let mine: string;

async function jobsList(args: string[]): Promise<{ out: string; err: string }> {
  return jobs(['list', ...args]);
}

async function jobs(args: string[]): Promise<{ out: string; err: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  stdout.on('data', (c: Buffer) => out.push(c));
  stderr.on('data', (c: Buffer) => err.push(c));
  const io: CommandIO = { stdout: Object.assign(stdout, { isTTY: true, columns: 240 }), stderr, env: { ...process.env, FLOWDECK_HOME: tmp.home, FLOWDECK_USER: OPERATOR, FLOWDECK_WORKER: 'off' } };
  await (await buildProgram(io, ['jobs', ...args])).parseAsync(['node', 'flowdeck', 'jobs', ...args]);
  return { out: Buffer.concat(out).toString('utf8'), err: Buffer.concat(err).toString('utf8') };
}

const parse = (text: string) => JSON.parse(text) as Job[];

beforeEach(async () => {
  tmp = tempHome();
  backend = new LocalBackend(await seedDemoWorkspace(tmp.home, { ...process.env, FLOWDECK_USER: OPERATOR, FLOWDECK_WORKER: 'off' }));
  const flow = await backend.resolveFlow(FLOW);
  const step = await backend.resolveStep(flow, 'ERP sales orders');
  const t0 = Date.now() - 3_600_000;
  await backend.ws.store.withTransaction(async (tx) => {
    const own = await tx.jobs.insertJob({ type: 'retry', status: 'running', flowId: flow.id, step: step.key, createdAt: t0, triggeredBy: OPERATOR });
    mine = encodeId('job', own, t0);
    for (let i = 1; i <= 150; i++) {
      const id = await tx.jobs.insertJob({ type: 'retry', status: i % 50 === 0 ? 'failed' : i > 140 ? 'queued' : 'completed', flowId: flow.id, step: step.key, createdAt: t0 + i * 1000, triggeredBy: 'auto' });
      if (i % 50 === 0) await tx.jobs.updateJob(id, { note: 'the step is no longer a page processor of the flow', endedAt: t0 + i * 1000 }, t0 + i * 1000);
    }
  });
});

afterEach(async () => {
  await backend.close();
  tmp.cleanup();
});

describe('jobs list', () => {
  it('reaches the operator\'s own job under 150 automatic ones: --mine, --by', async () => {
    expect(parse((await jobsList(['--mine', '--json'])).out).map((j) => j._id)).toEqual([mine]);
    expect(parse((await jobsList(['--by', OPERATOR, '--json'])).out).map((j) => j._id)).toEqual([mine]);
    expect(parse((await jobsList(['--by', 'auto', '--limit', '1000', '--json'])).out)).toHaveLength(150);
  });

  it('filters by status and type; pages past the first page; --all walks them all', async () => {
    expect(parse((await jobsList(['--status', 'queued', '--json'])).out)).toHaveLength(10);
    expect(parse((await jobsList(['--type', 'flow', '--json'])).out)).toEqual([]);
    const first = await jobsList(['--limit', '100']);
    const more = /^more: flowdeck jobs list --limit 100 --page ([0-9a-f]{24})\n$/.exec(first.err);
    expect(more, first.err).not.toBeNull();
    const second = parse((await jobsList(['--limit', '100', '--page', more![1]!, '--json'])).out);
    expect(second).toHaveLength(51);
    expect(second[second.length - 1]!._id).toBe(mine);
    const all = parse((await jobsList(['--all', '--json'])).out);
    expect(all).toHaveLength(151);
    expect(new Set(all.map((j) => j._id)).size).toBe(151);
  });

  it('shows the step, who started each job and why a failed one failed', async () => {
    const { out } = await jobsList(['--status', 'failed']);
    const [header, ...rows] = out.trimEnd().split('\n');
    expect(header).toMatch(/JOB\s+TYPE\s+FLOW\s+STEP\s+STATUS\s+BY\s+.*REASON/);
    expect(rows).toHaveLength(3);
    for (const row of rows) expect(row).toMatch(/ERP sales orders\s+failed\s+auto\s+.*the step is no longer a page processor of the flow/);
    const queued = (await jobsList(['--status', 'queued', '--limit', '1'])).out.split('\n')[1]!;
    expect(queued).toMatch(/queued\s+auto\s+queued/);
  });
});

describe('jobs show', () => {
  it('names the job\'s flow, with its id, as jobs list does; --json keeps the API\'s Job', async () => {
    const flowId = (await backend.resolveFlow(FLOW)).id;
    const { out } = await jobs(['show', mine]);
    expect(out).toContain(`Flow:      ${FLOW} (${flowId})\n`);
    expect((JSON.parse((await jobs(['show', mine, '--json'])).out) as Job)._flowId).toBe(flowId);
  });
});

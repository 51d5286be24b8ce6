import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import type { Job } from '../../src/domain/api.js';
import { encodeId } from '../../src/domain/ids.js';
import { Workspace } from '../../src/workspace/workspace.js';
import { runCli, spawnCli } from '../helpers/cli.js';
import { validateAgainst } from '../helpers/spec.js';
import { tempHome, writeFlowFile, type TempHome } from '../helpers/workspace.js';
import { storeAt } from '../helpers/store-at.js';
import { storeExec, storeRows, storeValue } from '../helpers/store-sql.js';

// kill -9 in the middle of `flows run`: pages commit atomically, so the store holds whole pages
// only, and the next start settles the orphaned job as failed.

// 200 shop orders in pages of 5; each record goes to the ERP (which rejects it: no email is mapped,
// so every record leaves a retry-data snapshot) and then to a target that times out after 300 ms.
const FLOWS_YAML = `connections:
  - name: Shop
    http:
      baseURI: "{{mocks.shop}}"
      headers: [{ name: x-api-key, value: "{{config.secrets.shopApiKey}}" }]
  - name: ERP
    http:
      baseURI: "{{mocks.erp}}"
      auth: { type: bearer, token: "{{config.secrets.erpToken}}" }
  - name: Slow
    http:
      baseURI: "{{mocks.slow}}"
      timeoutMs: 300

exports:
  - name: Small pages
    _connectionId: Shop
    http:
      relativeURI: /orders
      paging: { method: page, pageSize: 5 }
      response: { resourcePath: orders }

imports:
  - name: ERP without email
    _connectionId: ERP
    http: { method: POST, relativeURI: /salesOrders }
    mapping:
      fields:
        - { extract: id, generate: orderNumber, required: true }
      lists:
        - { generate: lines, extract: items, fields: [{ extract: sku, generate: sku }, { extract: quantity, generate: quantity }] }
  - name: Slow archive
    _connectionId: Slow
    http: { method: POST, relativeURI: /archive/orders }

flows:
  - name: Slow pages
    logging: { mode: full }
    pageGenerators:
      - _exportId: Small pages
    pageProcessors:
      - { type: import, _importId: ERP without email, proceedOnFailure: true }
      - { type: import, _importId: Slow archive }
`;

interface JobRow {
  id: number;
  type: string;
  status: string;
  step: number | null;
  created_at: number;
  owner_pid: number | null;
  num_error: number;
  num_success: number;
  num_export: number;
  num_pages_generated: number;
  num_pages_processed: number;
}

let tmp: TempHome | undefined;
let child: ChildProcess | undefined;

afterEach(() => {
  if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  child = undefined;
  tmp?.cleanup();
  tmp = undefined;
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function exited(proc: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve({ code: proc.exitCode, signal: proc.signalCode });
  return new Promise((resolve) => proc.once('exit', (code, signal) => resolve({ code, signal })));
}

it('a flow run killed with SIGKILL leaves whole pages and a failed job', async () => {
  tmp = tempHome();
  writeFlowFile(tmp.home, 'slow.yaml', FLOWS_YAML);
  const ws = await Workspace.open(tmp.home, process.env);
  ws.config.set('demo', true);
  ws.config.set('secrets', { shopApiKey: 'shop-kill-test-key', erpToken: 'erp-kill-test-token' });
  await ws.close();
  const dbFile = join(tmp.home, 'flowdeck.db');
  const sqlite = !tmp.storeUrl;
  const env = { FLOWDECK_HOME: tmp.home, FLOWDECK_USER: 'kill@acme.example' };

  child = spawnCli(['flows', 'run', 'Slow pages'], env);
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));

  // Watch through a separate read-only connection until two pages have committed.
  const reader = await storeAt(tmp.home);
  let running: JobRow | undefined;
  const deadline = Date.now() + 20_000;
  try {
    for (;;) {
      [running] = await storeRows<JobRow>(reader, `SELECT * FROM jobs WHERE type = 'flow' ORDER BY id DESC LIMIT 1`);
      if (running && running.num_pages_processed >= 2) break;
      if (child.exitCode !== null) throw new Error(`flows run ended before it could be killed: ${stderr}`);
      if (Date.now() > deadline) throw new Error(`no two pages within 20 s: ${JSON.stringify(running)} ${stderr}`);
      await sleep(25);
    }
    child.kill('SIGKILL');
    expect(await exited(child)).toEqual({ code: null, signal: 'SIGKILL' });
    const [orphan] = await storeRows<JobRow>(reader, 'SELECT * FROM jobs WHERE id = ?', [running.id]);
    expect(orphan!.status).toBe('running');
    expect(orphan!.owner_pid).toBe(child.pid);
    expect(orphan!.num_pages_processed).toBeLessThan(40);
  } finally {
    await reader.store.close();
  }

  // PostgreSQL: workers of any host share the store and another host's pid cannot be checked, so a
  // flow run's owner counts as gone once its heartbeat is 5 minutes stale: the job's is made so.
  if (!sqlite) {
    const writer = await storeAt(tmp.home, { writable: true });
    try {
      await storeExec(writer, 'UPDATE jobs SET heartbeat_at = ? WHERE id = ?', [Date.now() - 10 * 60_000, running.id]);
    } finally {
      await writer.store.close();
    }
  }

  // The next start (any command) settles the job whose process is gone.
  const listed = await runCli(['jobs', 'list', '--json'], env);
  expect(listed.code, listed.stderr).toBe(0);
  const jobs = JSON.parse(listed.stdout) as Job[];
  expect(jobs).toHaveLength(1);
  const job = jobs[0]!;
  expect(validateAgainst('Job', job)).toEqual([]);
  expect(job._id).toBe(encodeId('job', running.id, running.created_at));
  expect(['failed', 'canceled']).toContain(job.status);
  expect(job.endedAt).toBeDefined();

  const db = await storeAt(tmp.home);
  try {
    // SQLite: the file itself is whole after the kill.
    if (sqlite) {
      expect(await storeValue(db, 'PRAGMA integrity_check')).toBe('ok');
      expect(await storeRows(db, 'PRAGMA foreign_key_check')).toEqual([]);
    }
    const count = async (sql: string, ...params: unknown[]) => Number(await storeValue(db, sql, params));

    const [flow] = (await storeRows<JobRow>(db, 'SELECT * FROM jobs WHERE id = ?', [running.id])) as [JobRow];
    const children = await storeRows<JobRow>(db, 'SELECT * FROM jobs WHERE parent_id = ? ORDER BY id', [flow.id]);
    expect(children.map((c) => c.type)).toEqual(['export', 'import', 'import']);
    expect(children.every((c) => c.status === flow.status)).toBe(true);
    expect(await count(`SELECT count(*) FROM jobs WHERE status IN ('queued', 'running', 'retrying', 'canceling')`)).toBe(0);
    const [exportJob, erpJob, slowJob] = children as [JobRow, JobRow, JobRow];

    // Whole pages: page counters, record counters and rows all agree.
    const pages = flow.num_pages_processed;
    expect(pages).toBeGreaterThanOrEqual(2);
    expect(flow.num_pages_generated).toBe(pages);
    expect(exportJob.num_pages_generated).toBe(pages);
    expect(flow.num_export).toBe(5 * pages);
    expect(exportJob.num_export).toBe(flow.num_export);
    expect(flow.num_success + flow.num_error).toBe(flow.num_export);
    for (const c of [erpJob, slowJob]) {
      expect(c.num_pages_processed).toBe(pages);
      expect(c.num_success + c.num_error).toBe(flow.num_export);
      expect(await count('SELECT count(*) FROM errors WHERE job = ? AND step = ?', flow.id, c.step)).toBe(c.num_error);
    }
    expect(await count('SELECT count(*) FROM errors WHERE job = ?', flow.id)).toBe(erpJob.num_error + slowJob.num_error);
    // every record was rejected by the ERP and timed out at the archive
    expect(erpJob.num_error).toBe(flow.num_export);
    expect(slowJob.num_error).toBe(flow.num_export);
    expect(await count(`SELECT count(*) FROM errors WHERE job = ? AND code = 'ETIMEDOUT'`, flow.id)).toBe(flow.num_export);

    // One log entry per exported record and per step outcome; nothing without its error.
    expect(await count('SELECT count(*) FROM log_entries WHERE job = ?', flow.id)).toBe(flow.num_export + erpJob.num_success + erpJob.num_error + slowJob.num_success + slowJob.num_error);
    expect(
      await count(`SELECT count(*) FROM log_entries l WHERE l.status = 'error'
        AND NOT EXISTS (SELECT 1 FROM errors e WHERE e.job = l.job AND e.step = l.step AND (e.trace_key = l.trace_key OR (e.trace_key IS NULL AND l.trace_key IS NULL)))`),
    ).toBe(0);
    expect(await count('SELECT count(*) FROM log_data d WHERE NOT EXISTS (SELECT 1 FROM log_entries l WHERE l.id = d.entry)')).toBe(0);
    expect(await count('SELECT count(*) FROM retry_data')).toBe(erpJob.num_error);
    expect(await count('SELECT count(*) FROM retry_data r WHERE NOT EXISTS (SELECT 1 FROM errors e WHERE e.retry_data = r.id)')).toBe(0);
    expect(await count('SELECT count(*) FROM traces t WHERE NOT EXISTS (SELECT 1 FROM errors e WHERE e.trace = t.id)')).toBe(0);
  } finally {
    await db.store.close();
  }
  if (sqlite) expect(existsSync(dbFile)).toBe(true);
});

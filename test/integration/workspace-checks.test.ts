import { rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import type { LocalBackend } from '../../src/backend/local-backend.js';
import { encodeId } from '../../src/domain/ids.js';
import { InvalidInputError, ReadOnlyWorkspaceError, RemovedFlowError, WorkspaceError } from '../../src/domain/errors.js';
import { checkSchema } from '../../src/store/sqlite/schema-check.js';
import { DEMO_FLOWS_YAML } from '../../src/workspace/demo.js';
import { runDoctor } from '../../src/workspace/doctor.js';
import { Workspace } from '../../src/workspace/workspace.js';
import { openBackend, tempHome, writeFlowFile } from '../helpers/workspace.js';
import { sqliteCoreOf } from '../helpers/sqlite.js';
import { storeValue } from '../helpers/store-sql.js';
import { testStore } from '../helpers/store.js';

// Issue 9 §5/§6 over real workspaces (SQLite on disk, conf's config.json, flow files): hostile files
// are named with what to do, a read-only workspace reads, a damaged schema is noticed and repaired,
// a removed flow's errors stay reachable, and bad retry-data or config input changes nothing.

const FLOW = 'Shop orders to ERP';
const T0 = Date.UTC(2026, 10, 1, 12, 0, 0);
const env = { ...process.env, FLOWDECK_USER: 'ops@acme.example' };
const cleanups: Array<() => void> = [];
const backends: LocalBackend[] = [];

afterEach(async () => {
  while (backends.length) await backends.pop()!.close();
  while (cleanups.length) cleanups.pop()!();
});

function home(): string {
  const t = tempHome();
  cleanups.push(t.cleanup);
  return t.home;
}

async function open(dir: string, extra: NodeJS.ProcessEnv = {}): Promise<LocalBackend> {
  const b = await openBackend(dir, { ...env, ...extra });
  backends.push(b);
  return b;
}

/** A demo-flows workspace with one open error (and snapshot) on the ERP import and one on the CRM lookup. */
async function seeded(): Promise<{ dir: string; b: LocalBackend; importKey: string; lookupKey: string; importErrorId: string }> {
  const dir = home();
  writeFlowFile(dir, 'flows.yaml', DEMO_FLOWS_YAML);
  const b = await open(dir);
  const flow = await b.resolveFlow(FLOW);
  const [shop, lookup, erp] = await b.ws.store.catalog.steps(flow.id);
  const ids = await b.ws.store.withTransaction(async (tx) => {
    const add = async (step: typeof erp, stage: string, n: number) => {
      const rd = await tx.records.insertRetryData({ step: step!.key, createdAt: T0 + n, stage, pgExportId: shop!.stepId, traceKey: `SO-${n}`, data: { id: `SO-${n}` } });
      const err = await tx.errors.insertError({ step: step!.key, occurredAt: T0 + n + 1, source: 'application', code: '422', message: 'bad', classification: 'value', classifiedBy: 'rule', traceKey: `SO-${n}`, retryData: rd });
      return { key: encodeId('retryData', rd, T0 + n), errorId: encodeId('error', err, T0 + n + 1) };
    };
    return { imp: await add(erp, 'page_processor_import', 1), look: await add(lookup, 'page_processor_lookup', 2) };
  });
  return { dir, b, importKey: ids.imp.key, lookupKey: ids.look.key, importErrorId: ids.imp.errorId };
}

const auditCount = async (b: LocalBackend) => Number(await storeValue(b.ws, 'SELECT count(*) AS n FROM audit'));

describe('retry-data put', () => {
  it('refuses data the stage cannot use and a changed traceKey, and saves nothing', async () => {
    const { b, importKey, lookupKey } = await seeded();
    const records = b.records;
    const imp = await records.getRetryData(FLOW, 'ERP sales orders', importKey);
    const look = await records.getRetryData(FLOW, 'CRM customer lookup', lookupKey);
    await expect(records.putRetryData(FLOW, 'ERP sales orders', importKey, { ...imp, data: null })).rejects.toThrow(
      `retry data envelope field "data": an import's record must be a JSON object or array, got null`,
    );
    await expect(records.putRetryData(FLOW, 'ERP sales orders', importKey, { ...imp, data: 42 })).rejects.toThrow(/got a number$/);
    await expect(records.putRetryData(FLOW, 'CRM customer lookup', lookupKey, { ...look, data: [] })).rejects.toThrow(
      `retry data envelope field "data": a lookup's record must be a JSON object, got an array`,
    );
    await expect(records.putRetryData(FLOW, 'ERP sales orders', importKey, { ...imp, traceKey: 'SO-999' })).rejects.toThrow(
      /^traceKey "SO-999" does not match the stored snapshot's "SO-1"/,
    );
    await expect(records.putRetryData(FLOW, 'ERP sales orders', importKey, { ...imp, traceKey: null })).rejects.toBeInstanceOf(InvalidInputError);
    let deep: unknown = 1;
    for (let i = 0; i < 100_000; i++) deep = [deep];
    await expect(records.putRetryData(FLOW, 'ERP sales orders', importKey, { ...imp, data: { deep } })).rejects.toThrow(/nests deeper than 512 levels/);
    await expect(records.patchRetryData(FLOW, 'ERP sales orders', { retryDataKeys: [importKey] }, [{ op: 'replace', path: '/data', value: 42 }])).rejects.toThrow(
      /the patch leaves "data" unusable: an import's record must be a JSON object or array, got a number$/,
    );
    expect(await records.getRetryData(FLOW, 'ERP sales orders', importKey)).toEqual(imp);
    expect(await auditCount(b)).toBe(0);
    expect((await records.putRetryData(FLOW, 'ERP sales orders', importKey, { ...imp, data: { id: 'SO-1', fixed: true } })).data).toEqual({ id: 'SO-1', fixed: true });
  });
});

describe('config set', () => {
  it('refuses __proto__, constructor and prototype in a key, writes no audit row and leaves config.json alone', async () => {
    const { b } = await seeded();
    const before = structuredClone(b.ws.config.store); // on PostgreSQL it names the store
    for (const key of ['secrets.__proto__', 'secrets.constructor', 'secrets.prototype', 'prototype']) {
      await expect(b.triage.setConfig(key, 'x')).rejects.toThrow(/is not a config key: ".*" cannot be a name in it$/);
    }
    expect(await auditCount(b)).toBe(0);
    expect(b.ws.config.store).toEqual(before);
  });
});

describe('opening a hostile workspace', () => {
  it('FLOWDECK_HOME that is a file is said to be one', async () => {
    const file = join(home(), 'not-a-dir');
    writeFileSync(file, 'x');
    await expect(Workspace.open(file, env)).rejects.toThrow(new WorkspaceError(`the workspace ${file} is a file, not a directory; point FLOWDECK_HOME at a directory (or move the file away)`));
    await expect(Workspace.open(join(file, 'sub'), env)).rejects.toThrow(/^cannot create the workspace directory .*: a part of the path is a file, not a directory/);
  });

  it('a corrupt or empty config.json names the file and how to fix it', async () => {
    const dir = home();
    const file = join(dir, 'config.json');
    writeFileSync(file, '{"user": ');
    await expect(Workspace.open(dir, env)).rejects.toThrow(/config\.json is not valid JSON \(.*\): fix it by hand, or move it away to start with an empty config/);
    writeFileSync(file, '');
    await expect(Workspace.open(dir, env)).rejects.toThrow(`${file} is empty: fix it by hand`);
  });

  it('a store URL that is not postgres:// is one line naming where it came from, never the URL itself', async () => {
    const dir = home();
    const noUrl = { ...env, FLOWDECK_STORE_URL: '' };
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ store: 'mysql://svc:hunter2@db.acme.example/flowdeck' }));
    await expect(Workspace.open(dir, noUrl)).rejects.toThrow(new WorkspaceError(`config.json's store must be a postgres:// or postgresql:// URL, got "mysql:…"`));
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ store: 42 }));
    await expect(Workspace.open(dir, noUrl)).rejects.toThrow(new WorkspaceError(`config.json's store must be a postgres:// or postgresql:// URL, got a number`));
    // The environment wins over config.json.
    await expect(Workspace.open(dir, { ...env, FLOWDECK_STORE_URL: 'flowdeck.db' })).rejects.toThrow(
      new WorkspaceError('FLOWDECK_STORE_URL must be a postgres:// or postgresql:// URL, got "flowdeck.db"'),
    );
    const doctor = await runDoctor(dir, noUrl);
    expect(doctor.checks.find((c) => c.name === 'store')).toMatchObject({ ok: false, detail: `config.json's store must be a postgres:// or postgresql:// URL, got a number` });
    // No store named: the workspace's own SQLite file.
    writeFileSync(join(dir, 'config.json'), '{}');
    const b = await open(dir, noUrl);
    expect(b.ws.store).toMatchObject({ kind: 'sqlite', location: join(dir, 'flowdeck.db') });
  });

  it('a wrong-typed config value a connection uses is named before a run starts', async () => {
    const { dir, b } = await seeded();
    b.ws.config.set('secrets', 'not-an-object');
    await expect(b.runFlow(FLOW)).rejects.toThrow(`${join(dir, 'config.json')}: "secrets" must be an object of named secrets, is a string`);
  });

  it('a baseURI that renders to no URL is named with its connection, a literal password masked', async () => {
    const dir = home();
    writeFlowFile(dir, 'flows.yaml', DEMO_FLOWS_YAML.replace('baseURI: "{{mocks.shop}}"', 'baseURI: "http://svc:s3cr3t@{{config.shopHost}} x"'));
    const b = await open(dir);
    const err = await b.runFlow(FLOW).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(err).toBeInstanceOf(WorkspaceError);
    expect(err!.message).toMatch(/connection "Shop": baseURI "http:\/\/svc:\*{8}@\{\{config\.shopHost\}\} x" does not render to a URL \(check the config and environment values its templates use\)$/);
    expect(err!.message).not.toContain('s3cr3t');
  });

  // SQLite-only: drops SQLite indexes and tables.
  it.skipIf(testStore() === 'postgres')('missing indexes (a kill during the demo generator) are re-created on open; a missing table is said', async () => {
    const { dir, b } = await seeded();
    const db = sqliteCoreOf(b.ws).db;
    const dropped = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'errors' AND sql IS NOT NULL").all() as Array<{ name: string }>).map((r) => r.name);
    expect(dropped.length).toBeGreaterThanOrEqual(10);
    for (const name of dropped.slice(2)) db.exec(`DROP INDEX ${name}`);
    await backends.pop()!.close();

    const report = await runDoctor(dir, env);
    expect(report.ok).toBe(false);
    expect(report.checks.find((c) => c.name === 'schema')).toMatchObject({ ok: false, fix: expect.stringMatching(/^run flowdeck doctor --repair/) });

    const again = await open(dir);
    expect(again.ws.repairedSchema.sort()).toEqual(dropped.slice(2).sort());
    expect(checkSchema(sqliteCoreOf(again.ws).db)).toEqual({ missingTables: [], missingIndexes: [], missingOther: [] });
    expect((await runDoctor(dir, env)).ok).toBe(true);

    sqliteCoreOf(again.ws).db.exec('DROP TABLE log_data');
    await backends.pop()!.close();
    await expect(Workspace.open(dir, env)).rejects.toThrow(`the store ${join(dir, 'flowdeck.db')} is damaged: table log_data is missing; run flowdeck doctor for what to do`);
    expect((await runDoctor(dir, env)).checks.find((c) => c.name === 'schema')).toMatchObject({ ok: false, detail: 'missing table log_data' });
  });

  // SQLite-only: drops a SQLite index.
  it.skipIf(testStore() === 'postgres')('doctor --repair re-creates missing indexes itself', async () => {
    const { dir, b } = await seeded();
    sqliteCoreOf(b.ws).db.exec('DROP INDEX ix_errors_code');
    await backends.pop()!.close();
    const repaired = await runDoctor(dir, env, { repair: true });
    expect(repaired.ok).toBe(true);
    expect(repaired.checks.find((c) => c.name === 'schema')?.detail).toBe('re-created ix_errors_code; every table and index is there');
  });

  // SQLite-only: damages SQLite pages (integrity_check).
  it.skipIf(testStore() === 'postgres')('doctor finds damaged pages with integrity_check and says what to do', async () => {
    const { dir, b } = await seeded();
    const db = sqliteCoreOf(b.ws).db;
    // Enough rows that errors' pages are not the first ones, then overwrite the middle of the file.
    const flowId = (await b.resolveFlow(FLOW)).id;
    db.transaction(() => {
      const step = sqliteCoreOf(b.ws).steps(flowId)[2]!.key;
      const insert = db.prepare("INSERT INTO errors (step, occurred_at, source, code, message) VALUES (?, ?, 'application', '422', ?)");
      for (let i = 0; i < 3000; i++) insert.run(step, T0 + i, `message ${i} ${'x'.repeat(200)}`);
    })();
    db.pragma('wal_checkpoint(TRUNCATE)');
    await backends.pop()!.close();
    const file = join(dir, 'flowdeck.db');
    const raw = new Database(file);
    const pages = raw.pragma('page_count', { simple: true }) as number;
    const pageSize = raw.pragma('page_size', { simple: true }) as number;
    raw.close();
    const { openSync, writeSync, closeSync } = await import('node:fs');
    const fd = openSync(file, 'r+');
    writeSync(fd, Buffer.alloc(pageSize * 4, 0xde), 0, pageSize * 4, Math.floor(pages / 2) * pageSize);
    closeSync(fd);
    const report = await runDoctor(dir, env);
    expect(report.ok).toBe(false);
    const integrity = report.checks.find((c) => c.name === 'integrity')!;
    expect(integrity.ok).toBe(false);
    expect(integrity.fix).toMatch(/restore a backup/);
  });
});

describe('a read-only workspace', () => {
  // SQLite-only: a read-only flowdeck.db.
  it.skipIf(testStore() === 'postgres')('reads (the store opened read-only) and refuses writes as read-only, changing nothing', async () => {
    const { dir, importErrorId } = await seeded();
    await backends.pop()!.close();
    const ro = await open(dir, { FLOWDECK_READONLY: '1' });
    expect(ro.ws.readonly).toBe(true);
    expect(sqliteCoreOf(ro.ws).db.readonly).toBe(true);
    expect((await ro.listErrors(FLOW, 'ERP sales orders')).errors.map((e) => e.errorId)).toEqual([importErrorId]);
    await expect(ro.triage.setConfig('user.email', 'ana@acme.example')).rejects.toBeInstanceOf(ReadOnlyWorkspaceError);
    await expect(ro.triage.resolve(FLOW, 'ERP sales orders', { errorIds: [importErrorId] })).rejects.toMatchObject({ code: expect.stringMatching(/^SQLITE_READONLY/) });
    expect(ro.ws.config.store).toEqual({});
    expect((await ro.listErrors(FLOW, 'ERP sales orders')).errors).toHaveLength(1);
  });

  // SQLite-only: no flowdeck.db yet.
  it.skipIf(testStore() === 'postgres')('with no store yet says so rather than creating one', async () => {
    await expect(Workspace.open(home(), { ...env, FLOWDECK_READONLY: '1' })).rejects.toThrow(/is read-only and has no store yet; make it writable once/);
  });
});

describe('a flow whose file is gone', () => {
  it('is listed as removed while it has open errors, which stay readable and resolvable but not retryable', async () => {
    const { dir, importErrorId } = await seeded();
    await backends.pop()!.close();
    unlinkSync(join(dir, 'flows', 'flows.yaml'));
    rmSync(join(dir, 'flows'), { recursive: true });
    const b = await open(dir);
    const flows = await b.listFlows();
    expect(flows.map((f) => [f.name, f.removed, f.numOpenError])).toEqual([[FLOW, true, 2]]);
    expect((await b.getFlow(FLOW)).removed).toBe(true);
    expect((await b.listErrors(FLOW, 'ERP sales orders')).errors.map((e) => e.errorId)).toEqual([importErrorId]);
    await expect(b.retries.retry(FLOW, 'ERP sales orders', { errorIds: [importErrorId] })).rejects.toBeInstanceOf(RemovedFlowError);
    await expect(b.runFlow(FLOW)).rejects.toThrow(/is no longer defined .*but running it needs the flow back in a flow file$/);
    await b.triage.resolve(FLOW, 'ERP sales orders', { errorIds: [importErrorId] });
    expect((await b.listErrors(FLOW, 'ERP sales orders')).errors).toHaveLength(0);
    expect((await b.triage.listResolved(FLOW, 'ERP sales orders')).resolved.map((e) => e.errorId)).toEqual([importErrorId]);
  });
});

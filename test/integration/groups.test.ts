import { PassThrough } from 'node:stream';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { saveDownload } from '../../src/backend/download.js';
import { LocalBackend } from '../../src/backend/local-backend.js';
import { parseSignature, Signer } from '../../src/domain/signature.js';
import { MIGRATIONS } from '../../src/store/sqlite/migrations.js';
import { SqliteCore } from '../../src/store/sqlite/core.js';
import { seedDemoWorkspace } from '../../src/workspace/demo.js';
import { generateErrors } from '../../src/workspace/generate.js';
import { tempHome, type TempHome } from '../helpers/workspace.js';
import { storeExec } from '../helpers/store-sql.js';
import { testStore } from '../helpers/store.js';

// Error groups over a generated demo workspace (the generator signs what it writes as the recorder
// does), and migration 7's back-fill of a store written before signatures existed.

const ERP_FLOW = 'Shop orders to ERP';
const ERP_STEP = 'ERP sales orders';
let tmp: TempHome;
let backend: LocalBackend;

beforeAll(async () => {
  tmp = tempHome('flowdeck-groups-');
  const ws = await seedDemoWorkspace(tmp.home, { ...process.env, FLOWDECK_USER: 'ana.lima@acme.example', FLOWDECK_WORKER: 'off' });
  await generateErrors(ws, 4000, { seed: 3 });
  backend = new LocalBackend(ws);
});

afterAll(async () => {
  await backend?.close();
  tmp?.cleanup();
});

describe('errors groups', () => {
  it('shows a handful of groups per step whose templates keep no ids, emails or numbers', async () => {
    for (const flow of await backend.listFlows()) {
      for (const step of flow.steps.filter((s) => s.numOpenError > 0)) {
        const r = await backend.errorGroups(flow._id, step._id);
        expect(r.total).toBe(step.numOpenError);
        expect(r.numGroups).toBeGreaterThan(0);
        expect(r.numGroups).toBeLessThanOrEqual(12);
        expect(r.groups.reduce((n, g) => n + g.count, 0)).toBe(step.numOpenError);
        expect(r.groups.reduce((n, g) => n + g.share, 0)).toBeCloseTo(1, 6);
        for (const g of r.groups) {
          expect(g.template, g.template).not.toMatch(/@|SO-\d|C-\d|127\.0\.0\.1|\d{3,}(?<!HTTP \d{3})/);
          expect(g.sig).toMatch(/^[0-9a-f]{12}$/);
          expect(g.stepName).toBe(step.name);
        }
        // largest first
        expect(r.groups.map((g) => g.count)).toEqual([...r.groups.map((g) => g.count)].sort((a, b) => b - a));
      }
    }
  });

  it('a flow lists every step’s groups, each with its share of its own step', async () => {
    const flow = await backend.getFlow(ERP_FLOW);
    const r = await backend.errorGroups(ERP_FLOW, undefined);
    expect(r.total).toBe(flow.numOpenError);
    expect(new Set(r.groups.map((g) => g.stepName)).size).toBeGreaterThan(1);
    for (const step of flow.steps) {
      const shares = r.groups.filter((g) => g._expOrImpId === step._id).reduce((n, g) => n + g.share, 0);
      if (step.numOpenError > 0) expect(shares).toBeCloseTo(1, 6);
    }
  });

  it('newest first orders by the last error; first and last seen bound the sample', async () => {
    const r = await backend.errorGroups(ERP_FLOW, ERP_STEP, { sort: 'newest' });
    const last = r.groups.map((g) => Date.parse(g.lastSeenAt));
    expect(last).toEqual([...last].sort((a, b) => b - a));
    for (const g of r.groups) {
      expect(Date.parse(g.firstSeenAt)).toBeLessThanOrEqual(Date.parse(g.lastSeenAt));
      const newest = (await backend.listErrors(ERP_FLOW, ERP_STEP, { query: `sig:${g.sig}`, limit: 1 })).errors[0]!;
      expect(newest.errorId).toBe(g.sampleErrorId);
      expect(newest.message).toBe(g.sampleMessage);
      expect(newest.occurredAt).toBe(g.lastSeenAt);
    }
  });

  it('groups a filtered set as errors list filters it', async () => {
    const all = await backend.errorGroups(ERP_FLOW, ERP_STEP);
    const only422 = await backend.errorGroups(ERP_FLOW, ERP_STEP, { query: 'code:422' });
    expect(only422.groups.every((g) => g.code === '422')).toBe(true);
    expect(only422.total).toBe(all.groups.filter((g) => g.code === '422').reduce((n, g) => n + g.count, 0));
    const assigned = await backend.errorGroups(ERP_FLOW, ERP_STEP, { query: 'assignee:none' });
    let listed = 0;
    for (const g of assigned.groups) {
      const page = await backend.listErrors(ERP_FLOW, ERP_STEP, { query: `assignee:none sig:${g.sig}`, limit: 1000 });
      expect(page.errors.length).toBe(g.count);
      listed += g.count;
    }
    expect(listed).toBe(assigned.total);
    await expect(backend.errorGroups(ERP_FLOW, ERP_STEP, { sort: 'biggest' as never })).rejects.toThrow(/sort must be one of count, newest/);
    await expect(backend.errorGroups(ERP_FLOW, ERP_STEP, { query: 'sig:nothex' })).rejects.toThrow(/invalid signature/);
  });

  it('marks groups first recorded since the last flow run, or since a time', async () => {
    const before = await backend.errorGroups(ERP_FLOW, ERP_STEP);
    // The generated errors are older than the last (generated) daily run's start.
    expect(before.newSince).toBeDefined();
    expect(before.groups.filter((g) => g.new)).toEqual([]);
    expect((await backend.errorGroups(ERP_FLOW, ERP_STEP, { query: 'since:60d' })).groups.every((g) => g.new)).toBe(true);

    const step = await backend.resolveStep(await backend.resolveFlow(ERP_FLOW), ERP_STEP);
    const now = Date.now();
    await backend.ws.store.withTransaction(async (tx) => {
      await tx.jobs.insertJob({ type: 'flow', status: 'completed', flowId: step.flowId, createdAt: now });
      for (const n of [1, 2]) {
        await tx.errors.insertError({
          step: step.key,
          occurredAt: now + n,
          source: 'application',
          code: '422',
          message: JSON.stringify({ errors: [{ code: 'invalid_vat', message: `VAT id DE${123456780 + n} is not valid for order SO-${900 + n}` }] }),
          classification: 'value',
          classifiedBy: 'rule',
        });
      }
    });
    const after = await backend.errorGroups(ERP_FLOW, ERP_STEP, { sort: 'newest' });
    const fresh = after.groups.filter((g) => g.new);
    expect(fresh.map((g) => [g.template, g.count])).toEqual([['VAT id <hex> is not valid for order <id>', 2]]);
    expect(after.groups[0]!.sig).toBe(fresh[0]!.sig);
  });

  it('a group is resolved, retried (preview) and exported by sig:, exactly its errors', async () => {
    const groups = (await backend.errorGroups(ERP_FLOW, ERP_STEP)).groups;
    const g = groups.find((x) => x.code === '409')!;
    const query = `sig:${g.sig}`;

    const preview = await backend.retries.preview(ERP_FLOW, ERP_STEP, { query });
    expect(preview.errorsToReturn.length).toBe(g.count);

    const out = new PassThrough();
    const chunks: Buffer[] = [];
    out.on('data', (c: Buffer) => chunks.push(c));
    const exported = await saveDownload(await backend.records.exportErrors(ERP_FLOW, ERP_STEP, { query }), out);
    expect(exported.rows).toBe(g.count);
    expect(Buffer.concat(chunks).toString().split('\n').filter(Boolean).length).toBe(g.count + 1);

    const done = await backend.triage.resolve(ERP_FLOW, ERP_STEP, { query });
    expect(done.errorsToReturn.length).toBe(g.count);
    const open = await backend.errorGroups(ERP_FLOW, ERP_STEP);
    expect(open.groups.find((x) => x.sig === g.sig)).toBeUndefined();
    const resolved = await backend.errorGroups(ERP_FLOW, ERP_STEP, { resolved: true });
    expect(resolved.groups.find((x) => x.sig === g.sig)?.count).toBe(g.count);

    await backend.triage.reopen(ERP_FLOW, ERP_STEP, { query });
    expect((await backend.errorGroups(ERP_FLOW, ERP_STEP)).groups.find((x) => x.sig === g.sig)?.count).toBe(g.count);
  });
});

describe('signature rows', () => {
  // SQLite-only: a SqliteCore transaction rolled back.
  it.skipIf(testStore() === 'postgres')('a rolled-back transaction leaves no signature the store believes is written', () => {
    const dir = tempHome('flowdeck-sig-rollback-');
    const store = new SqliteCore(`${dir.home}/flowdeck.db`);
    try {
      store.db.prepare(`INSERT INTO flows (id, name, file, definition) VALUES ('f', 'F', 'f.yaml', '{}')`).run();
      store.db.prepare(`INSERT INTO steps (id, flow_id, step_id, kind, name, position) VALUES (1, 'f', 's1', 'import', 'S1', 0)`).run();
      const error = (n: number) => ({ step: 1, occurredAt: 1000 + n, source: 'application', code: '409', message: `Sales order SO-${5000 + n} already exists`, classification: 'duplicate', classifiedBy: 'rule' });
      expect(() =>
        store.transaction(() => {
          store.insertError(error(1));
          store.insertError(error(2)); // the row the first one wrote is "there" now
          throw new Error('the page failed');
        }),
      ).toThrow('the page failed');
      store.transaction(() => store.insertError(error(3)));
      expect(store.db.prepare('SELECT count(*) FROM error_sigs').pluck().get()).toBe(1);
      expect(store.db.prepare('SELECT count(*) FROM errors').pluck().get()).toBe(1);
    } finally {
      store.close();
      dir.cleanup();
    }
  });

  it('a group whose signature row is missing is still listed, described from its errors', async () => {
    const before = (await backend.errorGroups(ERP_FLOW, ERP_STEP)).groups;
    const g = before[0]!;
    await storeExec(backend.ws, 'DELETE FROM error_sigs WHERE id = ?', [parseSignature(g.sig)]);
    const after = (await backend.errorGroups(ERP_FLOW, ERP_STEP)).groups.find((x) => x.sig === g.sig)!;
    expect({ ...after, firstRecordedAt: g.firstRecordedAt }).toEqual(g);
  });
});

describe('migration 7 signs the errors of an older store', () => {
  // SQLite-only: the SQLite signature back-fill migration.
  it.skipIf(testStore() === 'postgres')('back-fills every error with the signature the recorder would give it, losing nothing, then builds the index', () => {
    const dir = tempHome('flowdeck-sig-backfill-');
    try {
      const file = `${dir.home}/flowdeck.db`;
      // A store at schema 6, as the previous flowdeck left it.
      const old = new Database(file);
      for (const sql of MIGRATIONS.slice(0, 6)) old.exec(sql);
      old.pragma('user_version = 6');
      old.prepare(`INSERT INTO flows (id, name, file, definition) VALUES ('f', 'F', 'f.yaml', '{}')`).run();
      old.prepare(`INSERT INTO steps (id, flow_id, step_id, kind, name, position) VALUES (1, 'f', 's1', 'import', 'S1', 0), (2, 'f', 's2', 'import', 'S2', 1)`).run();
      const insert = old.prepare('INSERT INTO errors (step, resolved, occurred_at, source, code, message, classification) VALUES (?, ?, ?, ?, ?, ?, ?)');
      const messages = [
        (i: number) => `{"errors":[{"code":"invalid_email","message":"'user${i}@@example.com' is not a valid email address"}]}`,
        (i: number) => `Sales order SO-${100000 + i} already exists`,
        () => 'Request timed out after 1000 ms waiting for a response',
      ];
      const T0 = Date.UTC(2026, 10, 1);
      const N = 12_000;
      old.transaction(() => {
        for (let i = 0; i < N; i++) insert.run(1 + (i % 2), i % 5 === 0 ? 1 : 0, T0 + i * 1000, 'application', i % 3 === 2 ? 'ETIMEDOUT' : '422', messages[i % 3]!(i), 'value');
      })();
      const before = old.prepare('SELECT * FROM errors ORDER BY id').all();
      old.close();

      const store = new SqliteCore(file);
      try {
        const db = store.db;
        expect(db.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length);
        expect(db.prepare("SELECT count(*) FROM meta WHERE key = 'sig_backfill'").pluck().get()).toBe(0);
        expect(db.prepare("SELECT count(*) FROM sqlite_master WHERE name = 'ix_errors_sig'").pluck().get()).toBe(1);
        const after = db.prepare('SELECT * FROM errors ORDER BY id').all() as Array<Record<string, unknown>>;
        // Compared as text: a deep equal of so many rows costs seconds.
        expect(JSON.stringify(after.map(({ sig: _sig, ...rest }) => rest))).toBe(JSON.stringify(before));
        const signer = new Signer();
        const wrong = after.filter((row) => row.sig !== signer.sign(row as never).sig);
        expect(wrong).toEqual([]);
        // Three templates on two steps: six signatures, each first seen at its first error.
        const sigs = db.prepare('SELECT * FROM error_sigs ORDER BY first_at').all() as Array<{ id: number; step: number; template: string; first_at: number }>;
        expect(sigs.length).toBe(6);
        expect(new Set(sigs.map((s) => s.template))).toEqual(new Set(["'<value>' is not a valid email address", 'Sales order <id> already exists', 'Request timed out after <n> ms waiting for a response']));
        for (const s of sigs) {
          expect(s.first_at).toBe(db.prepare('SELECT min(occurred_at) FROM errors WHERE sig = ?').pluck().get(s.id));
        }
        expect(parseSignature(sigs[0]!.id.toString(16).padStart(12, '0'))).toBe(sigs[0]!.id);
      } finally {
        store.close();
      }
    } finally {
      dir.cleanup();
    }
  });

  // SQLite-only: the SQLite signature back-fill migration, killed.
  it.skipIf(testStore() === 'postgres')('resumes a back-fill that was killed half-way', () => {
    const dir = tempHome('flowdeck-sig-resume-');
    try {
      const file = `${dir.home}/flowdeck.db`;
      const s1 = new SqliteCore(file);
      s1.db.prepare(`INSERT INTO flows (id, name, file, definition) VALUES ('f', 'F', 'f.yaml', '{}')`).run();
      s1.db.prepare(`INSERT INTO steps (id, flow_id, step_id, kind, name, position) VALUES (1, 'f', 's1', 'import', 'S1', 0)`).run();
      s1.transaction(() => {
        for (let i = 0; i < 500; i++) s1.insertError({ step: 1, occurredAt: 1000 + i, source: 'application', code: '409', message: `Sales order SO-${5000 + i} already exists`, classification: 'duplicate', classifiedBy: 'rule' });
      });
      const want = s1.db.prepare('SELECT sig FROM errors ORDER BY id').pluck().all();
      // As a back-fill killed after its first 200 rows leaves the store: the rest unsigned, no index.
      s1.db.exec(`DROP INDEX ix_errors_sig; DELETE FROM error_sigs; UPDATE errors SET sig = NULL WHERE id > 200;
        INSERT INTO meta (key, value) VALUES ('sig_backfill', '200')`);
      s1.close();
      const s2 = new SqliteCore(file);
      try {
        expect(s2.db.prepare('SELECT sig FROM errors ORDER BY id').pluck().all()).toEqual(want);
        expect(s2.db.prepare('SELECT count(*) FROM error_sigs').pluck().get()).toBe(1);
        expect(s2.db.prepare("SELECT count(*) FROM sqlite_master WHERE name = 'ix_errors_sig'").pluck().get()).toBe(1);
      } finally {
        s2.close();
      }
    } finally {
      dir.cleanup();
    }
  });
});

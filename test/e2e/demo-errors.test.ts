import Database from 'better-sqlite3';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MIGRATIONS } from '../../src/store/sqlite/migrations.js';
import { runCli, type CliResult } from '../helpers/cli.js';
import { tempHome, type TempHome } from '../helpers/workspace.js';
import { homeValue } from '../helpers/store-sql.js';
import { testStore } from '../helpers/store.js';

// `flowdeck demo --errors N` as a user runs it: big enough (50,000) to take the fast path — rows
// built on a worker thread, secondary indexes dropped and rebuilt — which must leave exactly the
// indexes the migrations create.

let tmp: TempHome;
let first: CliResult;

beforeAll(async () => {
  tmp = tempHome('flowdeck-demo-errors-');
  first = await runCli(['demo', '--errors', '50000', '--no-tui'], { FLOWDECK_HOME: tmp.home }, 120_000);
}, 150_000);

afterAll(() => tmp?.cleanup());

const indexes = (db: Database.Database) =>
  (db.prepare(`SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL ORDER BY name`).pluck().all() as string[]).join(',');

describe('flowdeck demo --errors', () => {
  it('generates the errors instead of running the flows, with progress on stderr', () => {
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr).toMatch(/Generated 50,000 errors in [\d.]+ s/);
    expect(first.stderr).not.toMatch(/running Shop orders to ERP/);
    expect(first.stdout).toContain('ERP sales orders');
  });

  // SQLite-only: SQLite indexes and sqlite_stat1.
  it.skipIf(testStore() === 'postgres')('leaves every index of the schema in place, with planner statistics', () => {
    const db = new Database(join(tmp.home, 'flowdeck.db'), { readonly: true });
    const fresh = new Database(':memory:');
    try {
      for (const m of MIGRATIONS) fresh.exec(m);
      expect(indexes(db)).toBe(indexes(fresh));
      expect(db.prepare('SELECT count(*) FROM errors').pluck().get()).toBe(50_000);
      expect(db.prepare('SELECT count(*) FROM errors_fts').pluck().get()).toBe(50_000);
      expect(db.prepare(`SELECT count(*) FROM sqlite_stat1 WHERE idx = 'ix_errors_code'`).pluck().get()).toBe(1);
      expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    } finally {
      db.close();
      fresh.close();
    }
  });

  it('groups the generated errors by signature, and sig: selects a group', async () => {
    const env = { FLOWDECK_HOME: tmp.home };
    const r = await runCli(['errors', 'groups', 'Shop orders to ERP', 'ERP sales orders', '--json'], env);
    expect(r.code, r.stderr).toBe(0);
    const body = JSON.parse(r.stdout) as { groups: Array<{ sig: string; count: number; template: string }>; total: number; numGroups: number };
    expect(body.numGroups).toBeGreaterThan(3);
    expect(body.numGroups).toBeLessThanOrEqual(12);
    expect(body.groups.reduce((n, g) => n + g.count, 0)).toBe(body.total);
    for (const g of body.groups) expect(g.template).not.toMatch(/@|SO-\d|127\.0\.0\.1/);
    const g = body.groups[body.groups.length - 1]!;
    const listed = await runCli(['errors', 'list', 'Shop orders to ERP', 'ERP sales orders', '--query', `sig:${g.sig}`, '--limit', '1000', '--json'], env);
    expect((JSON.parse(listed.stdout) as { errors: unknown[] }).errors.length).toBe(Math.min(g.count, 1000));
    const table = await runCli(['errors', 'groups', 'Shop orders to ERP', '--sort', 'newest'], env);
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout).toMatch(/errors in \d+ groups/);
    expect(table.stdout).toContain('ERP sales orders');
    const bad = await runCli(['errors', 'groups', 'Shop orders to ERP', '--sort', 'biggest'], env);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--sort must be one of count, newest/);
  });

  it('starts the demo workspace over when given again', async () => {
    const again = await runCli(['demo', '--errors', '1000', '--no-tui'], { FLOWDECK_HOME: tmp.home }, 60_000);
    expect(again.code, again.stderr).toBe(0);
    const summary = await runCli(['errors', 'summary', 'Shop orders to ERP', '--json'], { FLOWDECK_HOME: tmp.home });
    expect(summary.code, summary.stderr).toBe(0);
    expect(Number(await homeValue(tmp.home, 'SELECT count(*) FROM errors'))).toBe(1000);
  });
});

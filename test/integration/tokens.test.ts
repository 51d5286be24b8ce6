import Database from 'better-sqlite3';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { LocalBackend } from '../../src/backend/local-backend.js';
import { TOUCH_INTERVAL_MS, TokenService } from '../../src/backend/tokens.js';
import { ConflictError, InvalidInputError, NotFoundError, NothingToDoError } from '../../src/domain/errors.js';
import { hashToken } from '../../src/domain/tokens.js';
import { migrate, schemaVersion } from '../../src/store/sqlite/db.js';
import { MIGRATIONS } from '../../src/store/sqlite/migrations.js';
import { checkSchema, expectedSchema, repairSchema } from '../../src/store/sqlite/schema-check.js';
import { openBackend, tempHome, type TempHome } from '../helpers/workspace.js';
import { sqliteCoreOf } from '../helpers/sqlite.js';
import { testStore } from '../helpers/store.js';
import { storeValue } from '../helpers/store-sql.js';

// API tokens over a real SQLite workspace: made, verified, revoked; the store and the audit hold
// only hashes; a revoke from another process is seen at the next request; and recording a token's
// use neither writes per request nor waits for another process's write lock.

const OPERATOR = 'ops.lead@acme.example';
const ANA = 'ana@acme.example';
const BOB = 'bob@acme.example';

let tmp: TempHome;
let backend: LocalBackend;
let clockMs: number;
let tokens: TokenService;
const others: Array<{ close: () => unknown }> = [];

beforeEach(async () => {
  tmp = tempHome();
  backend = await openBackend(tmp.home, { ...process.env, FLOWDECK_USER: OPERATOR });
  clockMs = Date.parse('2026-12-01T10:00:00Z');
  tokens = new TokenService(backend.ws, { now: () => clockMs });
});

afterEach(async () => {
  while (others.length) others.pop()!.close();
  await backend.close();
  tmp.cleanup();
});

const lastUsed = async (id: number) => {
  const at = await storeValue<number | string | null>(backend.ws, 'SELECT last_used_at FROM api_tokens WHERE id = ?', [id]);
  return at === null ? null : Number(at);
};

describe('TokenService', () => {
  it('creates a token that verifies as its user until it is revoked', async () => {
    const { token, info } = await tokens.create(ANA, 'laptop');
    expect(token).toMatch(/^fdk_[A-Za-z0-9_-]{43}$/);
    expect(info).toEqual({
      id: info.id,
      user: ANA,
      name: 'laptop',
      hint: `fdk_…${token.slice(-4)}`,
      last4: token.slice(-4),
      createdAt: '2026-12-01T10:00:00.000Z',
      active: true,
    });
    expect(await tokens.verify(token)).toEqual({ user: ANA, tokenId: info.id });
    // The token's user becomes a known user (assignable, shown in `users list`).
    expect((await backend.ws.store.triage.users()).find((u) => u.email === ANA)).toMatchObject({ synthetic: false });

    clockMs += 5000;
    expect(await tokens.revoke('laptop')).toMatchObject({ id: info.id, active: false, revokedAt: '2026-12-01T10:00:05.000Z' });
    expect(await tokens.verify(token)).toBeUndefined();
    expect(await tokens.list()).toEqual([expect.objectContaining({ id: info.id, active: false, lastUsedAt: '2026-12-01T10:00:00.000Z' })]);
  });

  // SQLite-only: reads the SQLite store files at rest.
  it.skipIf(testStore() === 'postgres')('keeps only the hash at rest: no byte of the store files, and no audit row, holds the token', async () => {
    const made = [await tokens.create(ANA, 'laptop'), await tokens.create(BOB), await tokens.create(ANA, 'ci')];
    for (const { token } of made) await tokens.verify(token);
    await tokens.revoke('ci');
    const rows = sqliteCoreOf(backend.ws).db.prepare('SELECT * FROM api_tokens ORDER BY id').all() as Array<Record<string, unknown>>;
    expect(rows.map((r) => r.hash)).toEqual(made.map((m) => hashToken(m.token)));
    const audit = JSON.stringify(sqliteCoreOf(backend.ws).db.prepare("SELECT * FROM audit WHERE action LIKE 'token.%'").all());
    expect(audit).toContain('"actor":"ops.lead@acme.example"');
    expect(JSON.parse(audit)).toHaveLength(4);
    // What list answers has no hash and no token.
    const listed = JSON.stringify(await tokens.list());
    await backend.close();
    const files = readdirSync(tmp.home).filter((f) => f.startsWith('flowdeck.db'));
    expect(files).toContain('flowdeck.db');
    const bytes = Buffer.concat(files.map((f) => readFileSync(join(tmp.home, f))));
    for (const { token } of made) {
      const secret = token.slice('fdk_'.length);
      expect(bytes.includes(secret)).toBe(false);
      expect(bytes.includes(Buffer.from(secret, 'base64url'))).toBe(false);
      expect(audit).not.toContain(secret);
      expect(listed).not.toContain(secret);
      expect(listed).not.toContain(hashToken(token));
    }
    expect(bytes.includes(hashToken(made[0]!.token))).toBe(true); // the file was read, and it is the hash
    backend = await openBackend(tmp.home);
  });

  it('records a use at most once a minute', async () => {
    const { token, info } = await tokens.create(ANA, 'laptop');
    expect(await lastUsed(info.id)).toBeNull();
    const first = clockMs;
    await tokens.verify(token);
    expect(await lastUsed(info.id)).toBe(first);
    clockMs += TOUCH_INTERVAL_MS - 1;
    for (let i = 0; i < 100; i++) await tokens.verify(token);
    expect(await lastUsed(info.id)).toBe(first);
    clockMs += 1;
    await tokens.verify(token);
    expect(await lastUsed(info.id)).toBe(clockMs);
  });

  // SQLite-only: another process's SQLite write lock.
  it.skipIf(testStore() === 'postgres')("does not wait for another process's write lock to record a use, and records it once the lock is free", async () => {
    const { token, info } = await tokens.create(ANA, 'laptop');
    const other = new Database(backend.ws.dbFile);
    others.push(other);
    other.exec('BEGIN IMMEDIATE');
    const started = performance.now();
    expect(await tokens.verify(token)).toEqual({ user: ANA, tokenId: info.id });
    expect(performance.now() - started).toBeLessThan(5000); // the store's busy timeout is 60 s
    other.exec('COMMIT');
    expect(await lastUsed(info.id)).toBeNull();
    expect(sqliteCoreOf(backend.ws).db.pragma('busy_timeout', { simple: true })).toBe(60000);
    await tokens.verify(token);
    expect(await lastUsed(info.id)).toBe(clockMs);
  });

  it('sees a revoke made by another process at the next request', async () => {
    const { token } = await tokens.create(ANA, 'laptop');
    expect((await tokens.verify(token))?.user).toBe(ANA);
    const cli = await openBackend(tmp.home, { ...process.env, FLOWDECK_USER: OPERATOR });
    others.push({ close: () => cli.close() });
    await new TokenService(cli.ws).revoke('laptop');
    expect(await tokens.verify(token)).toBeUndefined();
  });

  it('answers undefined alike for junk, an unknown token and a revoked one', async () => {
    const { token } = await tokens.create(ANA, 'laptop');
    const stranger = `fdk_${'A'.repeat(43)}`;
    await tokens.revoke(token);
    for (const text of ['', 'Bearer x', token.slice(0, -1), `${token} `, stranger, token]) expect(await tokens.verify(text)).toBeUndefined();
  });

  it('revokes by id, name, last 4 characters or the whole token, and says which when a name is shared', async () => {
    const a = await tokens.create(ANA, 'laptop');
    const b = await tokens.create(BOB, 'laptop');
    const c = await tokens.create(ANA, 'ci');
    const d = await tokens.create(BOB, 'phone');
    await expect(tokens.revoke('laptop')).rejects.toThrow(InvalidInputError);
    await expect(tokens.revoke('laptop')).rejects.toThrow(new RegExp(`names 2 active tokens \\(${a.info.id} "laptop" of ${ANA} .*; ${b.info.id} "laptop" of ${BOB}.*revoke one by its id`));
    expect((await tokens.revoke(String(a.info.id))).id).toBe(a.info.id);
    expect((await tokens.revoke('LAPTOP')).id).toBe(b.info.id); // the one left active; names compare case-insensitively
    expect((await tokens.revoke(`fdk_…${c.info.last4}`)).id).toBe(c.info.id);
    expect((await tokens.revoke(d.token)).id).toBe(d.info.id);
    expect((await tokens.list()).every((t) => !t.active)).toBe(true);
  });

  it('revokes by bare last 4 characters when no token has that name', async () => {
    const a = await tokens.create(ANA, 'laptop');
    expect((await tokens.revoke(a.info.last4)).id).toBe(a.info.id);
  });

  it('refuses bad input with one clear message, changing nothing', async () => {
    await expect(tokens.create('ana', 'laptop')).rejects.toThrow(InvalidInputError);
    await expect(tokens.create('ana', 'laptop')).rejects.toThrow(/not an email address: "ana"/);
    await expect(tokens.create(ANA, '  ')).rejects.toThrow(/cannot be empty/);
    await expect(tokens.create(ANA, '42')).rejects.toThrow(/all digits/);
    await expect(tokens.create(ANA, 'x'.repeat(65))).rejects.toThrow(/at most 64/);
    await expect(tokens.create(ANA, 'bad\u001b[2Jname')).rejects.toThrow(/control characters/);
    expect(await tokens.list()).toEqual([]);

    const first = await tokens.create(ANA, 'laptop');
    await expect(tokens.create(ANA, 'Laptop')).rejects.toThrow(ConflictError);
    await expect(tokens.create(ANA, 'laptop')).rejects.toThrow(new RegExp(`active token named "laptop" already \\(id ${first.info.id}\\)`));
    expect(await tokens.list()).toHaveLength(1);

    await expect(tokens.revoke('nope')).rejects.toThrow(NotFoundError);
    await expect(tokens.revoke('nope')).rejects.toThrow(`token not found: nope (active: ${first.info.id} "laptop")`);
    const unknown = `fdk_${'B'.repeat(43)}`;
    await expect(tokens.revoke(unknown)).rejects.toThrow('token not found: fdk_…BBBB'); // never the whole token back
    await expect(tokens.revoke(' ')).rejects.toThrow(InvalidInputError);
    await tokens.revoke('laptop');
    await expect(tokens.revoke(String(first.info.id))).rejects.toThrow(NothingToDoError);
    await expect(tokens.revoke(String(first.info.id))).rejects.toThrow(/revoked already/);
    // A revoked token's name is free again.
    expect((await tokens.create(ANA, 'laptop')).info.active).toBe(true);
  });
});

describe('the api_tokens table', () => {
  // SQLite-only: the SQLite schema doctor (checkSchema/repairSchema over better-sqlite3).
  it.skipIf(testStore() === 'postgres')('is in the schema doctor checks; its hash index, dropped, is noticed and re-created', async () => {
    const expected = expectedSchema();
    expect(expected.get('api_tokens')).toBe('table');
    expect(expected.get('ix_api_tokens_hash')).toBe('index');
    expect(expected.get('ix_api_tokens_active_name')).toBe('index');
    const db = sqliteCoreOf(backend.ws).db;
    expect(checkSchema(db)).toEqual({ missingTables: [], missingIndexes: [], missingOther: [] });
    db.exec('DROP INDEX ix_api_tokens_hash');
    const report = checkSchema(db);
    expect(report.missingIndexes).toEqual(['ix_api_tokens_hash']);
    expect(repairSchema(db, report)).toEqual(['ix_api_tokens_hash']);
    // Re-created as the migration made it: unique.
    await tokens.create(ANA, 'laptop');
    expect(() => db.prepare('INSERT INTO api_tokens (user_email, name, hash, last4, created_at) SELECT user_email, name || 2, hash, last4, created_at FROM api_tokens').run()).toThrow(/UNIQUE/);
  });

  // SQLite-only: a store of the previous SQLite schema.
  it.skipIf(testStore() === 'postgres')('is added to a store of the previous schema, its rows kept', async () => {
    const db = new Database(':memory:');
    others.push(db);
    const version = MIGRATIONS.findIndex((sql) => sql.includes('CREATE TABLE api_tokens'));
    expect(version).toBeGreaterThanOrEqual(8);
    for (const sql of MIGRATIONS.slice(0, version)) db.exec(sql);
    db.pragma(`user_version = ${version}`);
    db.prepare("INSERT INTO users (email, created_at) VALUES ('ana@acme.example', 1)").run();
    migrate(db);
    expect(schemaVersion(db)).toBe(MIGRATIONS.length);
    expect(db.prepare('SELECT count(*) AS n FROM api_tokens').get()).toEqual({ n: 0 });
    expect(db.prepare('SELECT email FROM users').all()).toEqual([{ email: 'ana@acme.example' }]);
  });
});

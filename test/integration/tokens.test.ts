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
import { testStore } from '../helpers/store.js';

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

const lastUsed = (id: number) => (backend.ws.sqlite.db.prepare('SELECT last_used_at FROM api_tokens WHERE id = ?').get(id) as { last_used_at: number | null }).last_used_at;

describe('TokenService', () => {
  it('creates a token that verifies as its user until it is revoked', async () => {
    const { token, info } = tokens.create(ANA, 'laptop');
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
    expect(tokens.verify(token)).toEqual({ user: ANA, tokenId: info.id });
    // The token's user becomes a known user (assignable, shown in `users list`).
    expect(backend.ws.sqlite.users().find((u) => u.email === ANA)).toMatchObject({ synthetic: false });

    clockMs += 5000;
    expect(tokens.revoke('laptop')).toMatchObject({ id: info.id, active: false, revokedAt: '2026-12-01T10:00:05.000Z' });
    expect(tokens.verify(token)).toBeUndefined();
    expect(tokens.list()).toEqual([expect.objectContaining({ id: info.id, active: false, lastUsedAt: '2026-12-01T10:00:00.000Z' })]);
  });

  // SQLite-only: reads the SQLite store files at rest.
  it.skipIf(testStore() === 'postgres')('keeps only the hash at rest: no byte of the store files, and no audit row, holds the token', async () => {
    const made = [tokens.create(ANA, 'laptop'), tokens.create(BOB), tokens.create(ANA, 'ci')];
    for (const { token } of made) tokens.verify(token);
    tokens.revoke('ci');
    const rows = backend.ws.sqlite.db.prepare('SELECT * FROM api_tokens ORDER BY id').all() as Array<Record<string, unknown>>;
    expect(rows.map((r) => r.hash)).toEqual(made.map((m) => hashToken(m.token)));
    const audit = JSON.stringify(backend.ws.sqlite.db.prepare("SELECT * FROM audit WHERE action LIKE 'token.%'").all());
    expect(audit).toContain('"actor":"ops.lead@acme.example"');
    expect(JSON.parse(audit)).toHaveLength(4);
    // What list answers has no hash and no token.
    const listed = JSON.stringify(tokens.list());
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
    const { token, info } = tokens.create(ANA, 'laptop');
    expect(lastUsed(info.id)).toBeNull();
    const first = clockMs;
    tokens.verify(token);
    expect(lastUsed(info.id)).toBe(first);
    clockMs += TOUCH_INTERVAL_MS - 1;
    for (let i = 0; i < 100; i++) tokens.verify(token);
    expect(lastUsed(info.id)).toBe(first);
    clockMs += 1;
    tokens.verify(token);
    expect(lastUsed(info.id)).toBe(clockMs);
  });

  // SQLite-only: another process's SQLite write lock.
  it.skipIf(testStore() === 'postgres')("does not wait for another process's write lock to record a use, and records it once the lock is free", async () => {
    const { token, info } = tokens.create(ANA, 'laptop');
    const other = new Database(backend.ws.dbFile);
    others.push(other);
    other.exec('BEGIN IMMEDIATE');
    const started = performance.now();
    expect(tokens.verify(token)).toEqual({ user: ANA, tokenId: info.id });
    expect(performance.now() - started).toBeLessThan(5000); // the store's busy timeout is 60 s
    other.exec('COMMIT');
    expect(lastUsed(info.id)).toBeNull();
    expect(backend.ws.sqlite.db.pragma('busy_timeout', { simple: true })).toBe(60000);
    tokens.verify(token);
    expect(lastUsed(info.id)).toBe(clockMs);
  });

  it('sees a revoke made by another process at the next request', async () => {
    const { token } = tokens.create(ANA, 'laptop');
    expect(tokens.verify(token)?.user).toBe(ANA);
    const cli = await openBackend(tmp.home, { ...process.env, FLOWDECK_USER: OPERATOR });
    others.push({ close: () => cli.close() });
    new TokenService(cli.ws).revoke('laptop');
    expect(tokens.verify(token)).toBeUndefined();
  });

  it('answers undefined alike for junk, an unknown token and a revoked one', async () => {
    const { token } = tokens.create(ANA, 'laptop');
    const stranger = `fdk_${'A'.repeat(43)}`;
    tokens.revoke(token);
    for (const text of ['', 'Bearer x', token.slice(0, -1), `${token} `, stranger, token]) expect(tokens.verify(text)).toBeUndefined();
  });

  it('revokes by id, name, last 4 characters or the whole token, and says which when a name is shared', async () => {
    const a = tokens.create(ANA, 'laptop');
    const b = tokens.create(BOB, 'laptop');
    const c = tokens.create(ANA, 'ci');
    const d = tokens.create(BOB, 'phone');
    expect(() => tokens.revoke('laptop')).toThrow(InvalidInputError);
    expect(() => tokens.revoke('laptop')).toThrow(new RegExp(`names 2 active tokens \\(${a.info.id} "laptop" of ${ANA} .*; ${b.info.id} "laptop" of ${BOB}.*revoke one by its id`));
    expect(tokens.revoke(String(a.info.id)).id).toBe(a.info.id);
    expect(tokens.revoke('LAPTOP').id).toBe(b.info.id); // the one left active; names compare case-insensitively
    expect(tokens.revoke(`fdk_…${c.info.last4}`).id).toBe(c.info.id);
    expect(tokens.revoke(d.token).id).toBe(d.info.id);
    expect(tokens.list().every((t) => !t.active)).toBe(true);
  });

  it('revokes by bare last 4 characters when no token has that name', async () => {
    const a = tokens.create(ANA, 'laptop');
    expect(tokens.revoke(a.info.last4).id).toBe(a.info.id);
  });

  it('refuses bad input with one clear message, changing nothing', async () => {
    expect(() => tokens.create('ana', 'laptop')).toThrow(InvalidInputError);
    expect(() => tokens.create('ana', 'laptop')).toThrow(/not an email address: "ana"/);
    expect(() => tokens.create(ANA, '  ')).toThrow(/cannot be empty/);
    expect(() => tokens.create(ANA, '42')).toThrow(/all digits/);
    expect(() => tokens.create(ANA, 'x'.repeat(65))).toThrow(/at most 64/);
    expect(() => tokens.create(ANA, 'bad\u001b[2Jname')).toThrow(/control characters/);
    expect(tokens.list()).toEqual([]);

    const first = tokens.create(ANA, 'laptop');
    expect(() => tokens.create(ANA, 'Laptop')).toThrow(ConflictError);
    expect(() => tokens.create(ANA, 'laptop')).toThrow(new RegExp(`active token named "laptop" already \\(id ${first.info.id}\\)`));
    expect(tokens.list()).toHaveLength(1);

    expect(() => tokens.revoke('nope')).toThrow(NotFoundError);
    expect(() => tokens.revoke('nope')).toThrow(`token not found: nope (active: ${first.info.id} "laptop")`);
    const unknown = `fdk_${'B'.repeat(43)}`;
    expect(() => tokens.revoke(unknown)).toThrow('token not found: fdk_…BBBB'); // never the whole token back
    expect(() => tokens.revoke(' ')).toThrow(InvalidInputError);
    tokens.revoke('laptop');
    expect(() => tokens.revoke(String(first.info.id))).toThrow(NothingToDoError);
    expect(() => tokens.revoke(String(first.info.id))).toThrow(/revoked already/);
    // A revoked token's name is free again.
    expect(tokens.create(ANA, 'laptop').info.active).toBe(true);
  });
});

describe('the api_tokens table', () => {
  it('is in the schema doctor checks; its hash index, dropped, is noticed and re-created', async () => {
    const expected = expectedSchema();
    expect(expected.get('api_tokens')).toBe('table');
    expect(expected.get('ix_api_tokens_hash')).toBe('index');
    expect(expected.get('ix_api_tokens_active_name')).toBe('index');
    const db = backend.ws.sqlite.db;
    expect(checkSchema(db)).toEqual({ missingTables: [], missingIndexes: [], missingOther: [] });
    db.exec('DROP INDEX ix_api_tokens_hash');
    const report = checkSchema(db);
    expect(report.missingIndexes).toEqual(['ix_api_tokens_hash']);
    expect(repairSchema(db, report)).toEqual(['ix_api_tokens_hash']);
    // Re-created as the migration made it: unique.
    tokens.create(ANA, 'laptop');
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

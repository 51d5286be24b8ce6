import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { recordShapeProblem } from '../../src/backend/records.js';
import { assertWritableFile, readInput, readStdin } from '../../src/cli/input.js';
import { assertPageOf } from '../../src/cli/paging.js';
import { backoffFromFlags, checkReportFlags, type RetryFlags } from '../../src/cli/retry-flags.js';
import { InvalidInputError } from '../../src/domain/errors.js';
import { jsonDepth, MAX_JSON_DEPTH, parseJsonText } from '../../src/domain/json-text.js';
import { parseSetArg } from '../../src/domain/json-patch.js';
import { migrate } from '../../src/store/sqlite/db.js';
import { expectedSchema } from '../../src/store/sqlite/schema-check.js';
import { configProblems } from '../../src/workspace/config-check.js';
import { tagUpdateFromOptions } from '../../commands/errors/tag.js';

// Issue 9 §5/§6 as plain logic: input that would change state wrongly (or crash) is refused by
// name before anything runs.

const refused = (fn: () => unknown): string => {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(InvalidInputError);
    return (e as Error).message;
  }
  throw new Error('expected a refusal');
};

describe('JSON from people', () => {
  const deep = (n: number) => `${'['.repeat(n)}${']'.repeat(n)}`;

  it('measures depth without recursion, even 100,000 levels deep', () => {
    expect(jsonDepth(JSON.parse(deep(100_000)), Infinity)).toBe(100_000);
    expect(jsonDepth({ a: [1, { b: 2 }] })).toBe(3);
    expect(jsonDepth(42)).toBe(0);
  });

  it('refuses a 100,000-deep document with one line naming the source, not a stack overflow', () => {
    expect(refused(() => parseJsonText(`{"data":${deep(100_000)}}`, 'stdin'))).toBe(`stdin nests deeper than ${MAX_JSON_DEPTH} levels; no record needs that, so it is refused`);
    expect(parseJsonText(`{"data":${deep(MAX_JSON_DEPTH - 1)}}`, 'f.json')).toBeTruthy();
  });

  it('says an empty input is empty and names where invalid JSON came from', () => {
    expect(refused(() => parseJsonText('  \n', 'stdin'))).toBe('stdin is empty (expected JSON)');
    expect(refused(() => parseJsonText('{bad', 'env.json'))).toMatch(/^invalid JSON in env\.json: /);
  });

  it('refuses a config set --type json value nested past the limit', async () => {
    const { parseConfigValue } = await import('../../commands/config/set.js');
    expect(refused(() => parseConfigValue(deep(100_000), 'json'))).toBe(`the value nests deeper than ${MAX_JSON_DEPTH} levels; no record needs that, so it is refused`);
    expect(parseConfigValue('[1]', 'json')).toEqual([1]);
  });

  it('refuses a --set value nested past the limit', () => {
    expect(refused(() => parseSetArg(`data.x=${deep(MAX_JSON_DEPTH + 1)}`))).toMatch(/^--set data\.x nests deeper than/);
  });
});

describe('stdin', () => {
  it('is read whole, however many chunks it arrives in', async () => {
    const stdin = new PassThrough();
    const chunk = 'x'.repeat(64 * 1024);
    const reading = readStdin(stdin);
    for (let i = 0; i < 5; i++) stdin.write(chunk);
    stdin.end('end');
    expect((await reading).length).toBe(5 * chunk.length + 3);
  });

  it('"-" reads stdin; no file on a terminal asks for one', async () => {
    const piped = Object.assign(new PassThrough(), { isTTY: false });
    piped.end('{"a":1}');
    expect(await readInput('-', 'envelope', piped)).toEqual({ text: '{"a":1}', source: 'stdin' });
    const tty = Object.assign(new PassThrough(), { isTTY: true });
    await expect(readInput(undefined, 'envelope', tty)).rejects.toThrow('give a file with the envelope, or pipe it on stdin (-)');
  });

  it('names a directory given as the input file', async () => {
    await expect(readInput(tmpdir(), 'envelope')).rejects.toThrow(`cannot read ${tmpdir()}: it is a directory`);
  });
});

describe('a file a command will write', () => {
  it('is checked before anything runs: missing directory, a directory, a file as parent', () => {
    expect(refused(() => assertWritableFile('/nonexistent/dir/r.json', 'report'))).toBe('cannot write /nonexistent/dir/r.json: no directory /nonexistent/dir');
    expect(refused(() => assertWritableFile(tmpdir(), 'report'))).toBe(`cannot write ${tmpdir()}: it is a directory`);
    const dir = mkdtempSync(join(tmpdir(), 'flowdeck-unit-'));
    try {
      writeFileSync(join(dir, 'file'), '');
      expect(refused(() => assertWritableFile(join(dir, 'file', 'r.json'), 'report'))).toBe(`cannot write ${join(dir, 'file', 'r.json')}: ${join(dir, 'file')} is not a directory`);
      expect(() => assertWritableFile(join(dir, 'new.json'), 'report')).not.toThrow();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('errors retry flags', () => {
  const base: RetryFlags = { maxAttempts: 5, baseDelay: 1000, factor: 2, maxDelay: 300_000, jitter: 0.2 };
  const typed =
    (...names: string[]) =>
    (key: string) =>
      names.includes(key);

  it('refuses back-off tuning without --backoff, naming every stray flag', () => {
    expect(refused(() => backoffFromFlags(base, typed('maxAttempts')))).toBe('--max-attempts only applies with --backoff exponential');
    expect(refused(() => backoffFromFlags(base, typed('factor', 'maxDelay')))).toBe('--factor, --max-delay only apply with --backoff exponential');
    expect(backoffFromFlags(base, typed())).toBeUndefined();
  });

  it('refuses a zero delay and a cap below the first delay', () => {
    const on = { ...base, backoff: 'exponential' as const };
    expect(refused(() => backoffFromFlags({ ...on, maxDelay: 0 }, typed('maxDelay')))).toBe('--max-delay must be more than 0, got 0s');
    expect(refused(() => backoffFromFlags({ ...on, baseDelay: 0 }, typed('baseDelay')))).toBe('--base-delay must be more than 0, got 0s');
    expect(refused(() => backoffFromFlags({ ...on, baseDelay: 600_000, maxDelay: 1000 }, typed('baseDelay', 'maxDelay')))).toBe(
      '--max-delay (1s) is shorter than --base-delay (10m); no delay could be as long as asked',
    );
    expect(backoffFromFlags({ ...on, maxAttempts: 3 }, typed('maxAttempts'))).toEqual({ maxAttempts: 3, baseDelayMs: 1000, factor: 2, maxDelayMs: 300_000, jitter: 0.2 });
  });

  it('refuses --report without --wait, and with --dry-run', () => {
    expect(refused(() => checkReportFlags({ ...base, report: 'r.json' }))).toBe('--report needs --wait (the outcome is known only when the job ran here)');
    expect(refused(() => checkReportFlags({ ...base, report: 'r.json', wait: true, dryRun: true }))).toMatch(/^--report is not written by a --dry-run/);
    expect(() => checkReportFlags({ ...base, report: 'r.json', wait: true })).not.toThrow();
  });
});

describe('errors tag', () => {
  it('refuses an empty tag list rather than reporting a change it did not make', () => {
    expect(refused(() => tagUpdateFromOptions({ add: '' }))).toBe('--add needs at least one tag name, got ""');
    expect(refused(() => tagUpdateFromOptions({ remove: ' , ' }))).toBe('--remove needs at least one tag name, got " , "');
    expect(refused(() => tagUpdateFromOptions({ set: '' }))).toBe('--set needs at least one tag name (--clear removes every tag), got ""');
    expect(tagUpdateFromOptions({ add: 'A, B' })).toEqual({ add: ['A', 'B'] });
  });
});

describe('retry data a stage can use', () => {
  it('a lookup needs an object; an import or page generator an object or an array', () => {
    expect(recordShapeProblem('page_processor_lookup', [1])).toBe("a lookup's record must be a JSON object, got an array");
    expect(recordShapeProblem('page_processor_import', null)).toBe("an import's record must be a JSON object or array, got null");
    expect(recordShapeProblem('page_processor_import', 42)).toBe("an import's record must be a JSON object or array, got a number");
    expect(recordShapeProblem('page_generator', 'x')).toBe('the record must be a JSON object or array, got a string');
    expect(recordShapeProblem('page_processor_import', [{ a: 1 }])).toBeUndefined();
    expect(recordShapeProblem('page_processor_lookup', { id: 1 })).toBeUndefined();
  });
});

describe('--page', () => {
  const target = { flowId: 'f1', stepId: 's1', listing: 'errors' as const };
  it('refuses the nextPageURL of another flow, step or listing', () => {
    expect(() => assertPageOf('/v1/flows/f1/s1/errors?before=x', target)).not.toThrow();
    expect(() => assertPageOf('?before=x', target)).not.toThrow();
    expect(refused(() => assertPageOf('/v1/flows/f1/s2/errors?before=x', target))).toMatch(/^--page URL continues step s2, not this listing \(\/v1\/flows\/f1\/s1\/errors\)/);
    expect(refused(() => assertPageOf('/v1/flows/f2/s1/errors?before=x', target))).toMatch(/^--page URL continues flow f2/);
    expect(refused(() => assertPageOf('/v1/flows/f1/s1/resolved?before=x', target))).toMatch(/^--page URL continues the resolved listing/);
    expect(refused(() => assertPageOf('/elsewhere?before=x', target))).toMatch(/^--page URL is not a nextPageURL of this listing/);
  });
});

describe('config.json values', () => {
  it('names each wrong-typed key, and (when asked) referenced keys that are not set', () => {
    const refs = [
      { key: 'host', connection: 'Shop' },
      { key: 'secrets.token', connection: 'ERP' },
    ];
    expect(configProblems({ host: { a: 1 }, user: { email: 42 }, secrets: { token: 'x' }, demo: 'yes' }, refs)).toEqual([
      { key: 'demo', problem: 'must be true or false, is a string' },
      { key: 'user.email', problem: 'must be text, is a number; set it with flowdeck config set user.email <value>' },
      { key: 'host', problem: 'is an object, but connection "Shop" uses {{config.host}} as text; set it with flowdeck config set host <value>' },
    ]);
    expect(configProblems({ secrets: 'abc' }, refs, { missing: true }).map((p) => p.key)).toEqual(['secrets', 'host']);
    expect(configProblems({ host: 'h', secrets: { token: 't' } }, refs, { missing: true })).toEqual([]);
  });
});

describe('the schema a store must have', () => {
  it('read from the migrations equals what running them creates', () => {
    const db = new Database(':memory:');
    migrate(db);
    const created = db
      .prepare("SELECT type, lower(name) AS name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' AND name NOT LIKE 'errors_fts_%'")
      .all() as Array<{ type: string; name: string }>;
    db.close();
    expect(new Map(created.map((r) => [r.name, r.type]))).toEqual(expectedSchema());
  });

  it('follows a table rebuilt under a new name, and drops the indexes a dropped table took along', () => {
    const migrations = [
      'CREATE TABLE a (x INTEGER); CREATE INDEX ix_a ON a (x); CREATE TABLE keep (y INTEGER); CREATE INDEX ix_keep ON keep (y);',
      'CREATE TABLE a_next (x INTEGER, z TEXT); INSERT INTO a_next (x) SELECT x FROM a; DROP TABLE a; ALTER TABLE a_next RENAME TO a; CREATE INDEX ix_a_z ON a (z);',
    ];
    const db = new Database(':memory:');
    for (const sql of migrations) db.exec(sql);
    const created = db.prepare('SELECT type, lower(name) AS name FROM sqlite_master').all() as Array<{ type: string; name: string }>;
    db.close();
    expect(new Map(created.map((r) => [r.name, r.type]))).toEqual(expectedSchema(migrations));
    expect([...expectedSchema(migrations).keys()].sort()).toEqual(['a', 'ix_a_z', 'ix_keep', 'keep']);
  });
});

describe('store failures in people\'s words', () => {
  const sqliteError = (code: string, message: string) => Object.assign(new Error(message), { code });
  it('read-only, damaged and full stores are said as such, never "unexpected error"', async () => {
    const { describeError } = await import('../../src/cli/handle-error.js');
    expect(describeError(sqliteError('SQLITE_READONLY', 'attempt to write a readonly database'))).toEqual({
      message: 'the workspace is read-only: this command changes it (reading commands still work)',
      exitCode: 1,
    });
    expect(describeError(sqliteError('SQLITE_CORRUPT', 'database disk image is malformed')).message).toBe('the workspace store is damaged (database disk image is malformed); run flowdeck doctor');
    expect(describeError(sqliteError('SQLITE_NOTADB', 'file is not a database')).message).toMatch(/^the workspace store is damaged/);
    expect(describeError(sqliteError('SQLITE_FULL', 'database or disk is full')).message).toMatch(/^the disk is full/);
  });
});

import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FlowStepErrorsResponse, FlowStepRetryData } from '../../src/domain/api.js';
import { REPO_ROOT, type CliResult } from '../helpers/cli.js';
import { commandEnv, runInProcess, type InProcessResult } from '../helpers/in-process.js';
import { copyHome as copyTempHome, tempHome, type TempHome } from '../helpers/workspace.js';
import { testStore } from '../helpers/store.js';

// Issue 9 §5/§6 as a user meets them, over a demo workspace (and copies of it made hostile). Every
// refusal is one `flowdeck:` line in people's words, never "unexpected error", and leaves the store
// as it was. The commands run in this process (the output and exit codes of bin/flowdeck.js
// without starting one), except where only a process will do: a real shell pipe on stdin, and a
// workspace its user cannot write (the executable run as another user).

const FLOW = 'Shop orders to ERP';
const STEP = 'ERP sales orders';

let tmp: TempHome;
let env: NodeJS.ProcessEnv;
let key: string;
let envelope: FlowStepRetryData;
const extra: string[] = [];
const copies: TempHome[] = [];

beforeAll(async () => {
  tmp = tempHome();
  env = commandEnv({ FLOWDECK_HOME: tmp.home, FLOWDECK_USER: 'e2e@acme.example' });
  const demo = await runInProcess(env, ['demo', '--no-tui']);
  expect(demo.code, demo.stderr).toBe(0);
  const list = JSON.parse((await runInProcess(env, ['errors', 'list', FLOW, STEP, '--limit', '5', '--json'])).stdout) as FlowStepErrorsResponse;
  key = list.errors.find((e) => e.retryDataKey)!.retryDataKey!;
  envelope = JSON.parse((await runInProcess(env, ['retry-data', 'get', FLOW, STEP, key])).stdout) as FlowStepRetryData;
}, 90_000);

afterAll(() => {
  tmp?.cleanup();
  for (const dir of extra) rmSync(dir, { recursive: true, force: true });
  for (const copy of copies) copy.cleanup();
});

function oneLine(result: CliResult | InProcessResult, code: 1 | 2): string {
  expect(result.code, result.stderr).toBe(code);
  const lines = result.stderr.split('\n').filter((l) => l !== '');
  expect(lines, result.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^flowdeck: /);
  expect(lines[0]).not.toMatch(/unexpected error/);
  return lines[0]!;
}

/** A copy of the demo workspace to make hostile (the demo closed its store: no -wal). */
function copyHome(): string {
  const copy = copyTempHome(tmp.home, 'flowdeck-hostile-');
  copies.push(copy);
  return copy.home;
}

function query<T>(home: string, sql: string): T {
  const db = new Database(join(home, 'flowdeck.db'), { readonly: true, fileMustExist: true });
  try {
    return db.prepare(sql).get() as T;
  } finally {
    db.close();
  }
}

/** Runs the executable through `sh -c`, so stdin is a real shell pipe (`cat file | flowdeck …`). */
function piped(file: string, args: string[], home = tmp.home): CliResult {
  const { FLOWDECK_DEBUG: _debug, ...base } = process.env;
  const quoted = args.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  const r = spawnSync('sh', ['-c', `cat '${file}' | '${process.execPath}' bin/flowdeck.js ${quoted}`], {
    cwd: REPO_ROOT,
    env: { ...base, NO_COLOR: '1', ...env, FLOWDECK_HOME: home },
    encoding: 'utf8',
  });
  return { code: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

describe('bad input changes nothing', () => {
  // SQLite-only: counts jobs straight from flowdeck.db.
  it.skipIf(testStore() === 'postgres')('errors retry --report into a missing directory fails before any job is queued', async () => {
    const before = query<{ n: number }>(tmp.home, "SELECT count(*) AS n FROM jobs WHERE type = 'retry'").n;
    const r = await runInProcess(env, ['errors', 'retry', FLOW, STEP, key, '--wait', '--report', '/nonexistent/dir/r.json']);
    expect(oneLine(r, 2)).toBe('flowdeck: cannot write /nonexistent/dir/r.json: no directory /nonexistent/dir');
    expect(query<{ n: number }>(tmp.home, "SELECT count(*) AS n FROM jobs WHERE type = 'retry'").n).toBe(before);
    const flags = await runInProcess(env, ['errors', 'retry', FLOW, STEP, key, '--base-delay', '10m', '--max-delay', '1s', '--backoff', 'exponential']);
    expect(oneLine(flags, 2)).toBe('flowdeck: --max-delay (1s) is shorter than --base-delay (10m); no delay could be as long as asked');
  });

  it('retry-data put reads a piped envelope of any size; a 100,000-deep one is one line', () => {
    const dir = mkdtempSync(join(tmpdir(), 'flowdeck-pipe-'));
    extra.push(dir);
    const big = join(dir, 'big.json');
    writeFileSync(big, JSON.stringify({ ...envelope, data: { ...(envelope.data as object), note: 'x'.repeat(300 * 1024) } }));
    const ok = piped(big, ['retry-data', 'put', FLOW, STEP, key, '-', '--dry-run']);
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/^Valid: retry data /);

    const deep = join(dir, 'deep.json');
    writeFileSync(deep, JSON.stringify({ ...envelope, data: {} }).replace('"data":{}', `"data":{"deep":${'['.repeat(100_000)}${']'.repeat(100_000)}}`));
    expect(oneLine(piped(deep, ['retry-data', 'put', FLOW, STEP, key, '-']), 2)).toBe('flowdeck: stdin nests deeper than 512 levels; no record needs that, so it is refused');
  });

  // SQLite-only: reads rows straight from flowdeck.db.
  it.skipIf(testStore() === 'postgres')('a --page URL of another step is refused; config set secrets.__proto__ writes nothing', async () => {
    const other = await runInProcess(env, ['errors', 'list', FLOW, 'CRM customer lookup', '--limit', '1', '--json']);
    const url = (JSON.parse(other.stdout) as FlowStepErrorsResponse).nextPageURL!;
    expect(url).toBeTruthy();
    expect(oneLine(await runInProcess(env, ['errors', 'list', FLOW, STEP, '--page', url]), 2)).toMatch(/^flowdeck: --page URL continues step [0-9a-f]+, not this listing/);

    const audits = query<{ n: number }>(tmp.home, 'SELECT count(*) AS n FROM audit').n;
    const proto = await runInProcess(env, ['config', 'set', 'secrets.__proto__', 'x']);
    expect(oneLine(proto, 2)).toBe('flowdeck: "secrets.__proto__" is not a config key: "__proto__" cannot be a name in it');
    expect(query<{ n: number }>(tmp.home, 'SELECT count(*) AS n FROM audit').n).toBe(audits);
  });
});

describe('hostile files and environment', () => {
  it('FLOWDECK_HOME that is a file, and a corrupt config.json, are named with what to do', async () => {
    const file = join(copyHome(), 'config.json');
    const config = readFileSync(file, 'utf8');
    expect(oneLine(await runInProcess({ ...env, FLOWDECK_HOME: file }, ['flows', 'list']), 1)).toMatch(/is a file, not a directory; point FLOWDECK_HOME at a directory/);
    expect(oneLine(await runInProcess({ ...env, FLOWDECK_HOME: file }, ['demo', '--reset', '--no-tui']), 1)).toMatch(/is a file, not a directory/);
    expect(readFileSync(file, 'utf8')).toBe(config);
    writeFileSync(file, '{"user": ');
    expect(oneLine(await runInProcess({ ...env, FLOWDECK_HOME: join(file, '..') }, ['flows', 'list']), 1)).toMatch(
      new RegExp(`^flowdeck: ${file.replace(/[.]/g, '\\.')} is not valid JSON \\(.*\\): fix it by hand, or move it away`),
    );
  });

  // SQLite-only: drops SQLite indexes.
  it.skipIf(testStore() === 'postgres')('missing indexes are reported by doctor (exit 1), re-created by the next command, and doctor then passes', async () => {
    const home = copyHome();
    const db = new Database(join(home, 'flowdeck.db'));
    const names = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'errors' AND sql IS NOT NULL").all() as Array<{ name: string }>).map((r) => r.name);
    for (const name of names.slice(2)) db.exec(`DROP INDEX ${name}`);
    db.close();
    const sick = await runInProcess({ ...env, FLOWDECK_HOME: home }, ['doctor', '--json']);
    expect(sick.code).toBe(1);
    const report = JSON.parse(sick.stdout) as { ok: boolean; checks: Array<{ name: string; ok: boolean; detail: string }> };
    expect(report.ok).toBe(false);
    expect(report.checks.find((c) => c.name === 'schema')?.detail).toMatch(/^missing index /);

    const list = await runInProcess({ ...env, FLOWDECK_HOME: home }, ['flows', 'list']);
    expect(list.code).toBe(0);
    expect(list.stderr).toMatch(new RegExp(`^flowdeck: re-created ${names.length - 2} missing indexes of the store`));
    const well = await runInProcess({ ...env, FLOWDECK_HOME: home }, ['doctor']);
    expect(well.code, well.stdout + well.stderr).toBe(0);
    expect(well.stdout).toMatch(/ok {6}integrity: PRAGMA integrity_check: ok/);
  });

  it('a removed flow file leaves its flows listed as removed and their errors readable', async () => {
    const home = copyHome();
    rmSync(join(home, 'flows'), { recursive: true });
    const list = await runInProcess({ ...env, FLOWDECK_HOME: home }, ['flows', 'list']);
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).toMatch(new RegExp(`${FLOW} .* removed \\(no flow file\\)`));
    const errors = await runInProcess({ ...env, FLOWDECK_HOME: home }, ['errors', 'list', FLOW, STEP, '--limit', '1', '--json']);
    expect((JSON.parse(errors.stdout) as FlowStepErrorsResponse).errors).toHaveLength(1);
    expect(oneLine(await runInProcess({ ...env, FLOWDECK_HOME: home }, ['errors', 'retry', FLOW, STEP, key]), 1)).toMatch(/is no longer defined .* but retrying it needs the flow back/);
  });

  it('FLOWDECK_READONLY=1: reads work, and a write says in one line that the workspace is read-only', async () => {
    const home = copyHome();
    const readonly = { ...env, FLOWDECK_HOME: home, FLOWDECK_READONLY: '1' };
    const list = await runInProcess(readonly, ['errors', 'list', FLOW, STEP, '--limit', '1', '--json']);
    expect(list.code, list.stderr).toBe(0);
    const line = oneLine(await runInProcess(readonly, ['errors', 'resolve', FLOW, STEP, key, '--yes']), 1);
    expect(line).toBe(`flowdeck: the workspace ${home} is read-only: this command changes it (reading commands still work); make it writable or use another FLOWDECK_HOME`);
    const still = await runInProcess({ ...env, FLOWDECK_HOME: home }, ['errors', 'list', FLOW, STEP, '--limit', '1', '--json']);
    expect(still.stdout).toBe(list.stdout);
  });

  // A directory its user cannot write: as root (which writes anything) the check runs as nobody.
  const asRoot = process.getuid?.() === 0;
  const setpriv = ['/usr/bin/setpriv', '/bin/setpriv'].find((p) => existsSync(p));
  // SQLite-only: makes flowdeck.db read-only.
  it.skipIf((asRoot && !setpriv) || testStore() === 'postgres')('a read-only workspace reads, and a write says the workspace is read-only', () => {
    const home = copyHome();
    const config = readFileSync(join(home, 'config.json'), 'utf8');
    chmodSync(home, 0o755);
    for (const f of ['flowdeck.db', 'config.json']) chmodSync(join(home, f), 0o444);
    chmodSync(home, 0o555);
    const run = (args: string[]) => {
      const { FLOWDECK_DEBUG: _debug, ...base } = process.env;
      const cmd = asRoot ? setpriv! : process.execPath;
      const argv = asRoot ? ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, 'bin/flowdeck.js', ...args] : ['bin/flowdeck.js', ...args];
      const r = spawnSync(cmd, argv, { cwd: REPO_ROOT, env: { ...base, NO_COLOR: '1', ...env, FLOWDECK_HOME: home, HOME: tmpdir() }, encoding: 'utf8' });
      return { code: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
    };
    const list = run(['errors', 'list', FLOW, STEP, '--limit', '2']);
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).toMatch(/^ERROR ID/);
    expect(oneLine(run(['errors', 'resolve', FLOW, STEP, key, '--yes']), 1)).toMatch(/^flowdeck: the workspace .* is read-only: this command changes it/);
    expect(readFileSync(join(home, 'config.json'), 'utf8')).toBe(config);
    chmodSync(home, 0o755);
  });
});

import { execFileSync, spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FlowStepError, FlowStepErrorsResponse, FlowStepResolvedResponse } from '../../src/domain/api.js';
import { REPO_ROOT, runCli, type CliResult } from '../helpers/cli.js';
import { commandEnv, runInProcess } from '../helpers/in-process.js';
import { openBackend, tempHome, type TempHome } from '../helpers/workspace.js';
import { storeRows } from '../helpers/store-sql.js';
import { testStore } from '../helpers/store.js';

// bin/flowdeck.js as a process: every command family loads from the bundle and answers, main()
// maps a failure and a usage error to the exit codes a shell sees, and a confirmation asks on a
// real terminal. What the commands do is tested in this process (test/integration/*-commands and
// the in-process parts of the other e2e files); this file keeps the executable's own path covered.

const ERP = ['Shop orders to ERP', 'ERP sales orders'];
const CRM = ['Shop customers to CRM', 'CRM contacts'];
const OPERATOR = 'night.shift@acme.example';

let tmp: TempHome;
let home: string;
let env: Record<string, string>;
let demo: CliResult;

beforeAll(async () => {
  tmp = tempHome('flowdeck-executable-');
  home = tmp.home;
  env = { FLOWDECK_HOME: home, FLOWDECK_USER: OPERATOR, FLOWDECK_WORKER: 'off', FLOWDECK_CONFIG_DIR: join(home, 'profiles') };
  demo = await runCli(['demo', '--no-tui'], env);
}, 90_000);

afterAll(() => tmp?.cleanup());

/** Read in this process: only the command under test runs as one. */
async function json<T>(args: string[]): Promise<T> {
  const result = await runInProcess(commandEnv(env), [...args, '--json']);
  expect(result.stderr, `flowdeck ${args.join(' ')}`).toBe('');
  expect(result.code).toBe(0);
  return JSON.parse(result.stdout) as T;
}

const openErrors = async (flowStep: string[], ...filters: string[]): Promise<FlowStepError[]> =>
  (await json<FlowStepErrorsResponse>(['errors', 'list', ...flowStep, '--limit', '1000', ...filters])).errors;

/** The rows a triage command may touch, read straight from the workspace's SQLite file. */
/** The rows a triage command may change, read from the workspace's store (opened read-only). */
async function snapshot() {
  const backend = await openBackend(home, { ...process.env, FLOWDECK_HOME: home, FLOWDECK_READONLY: '1' });
  try {
    const all = (sql: string) => storeRows(backend.ws, sql);
    return {
      errors: await all('SELECT * FROM errors ORDER BY id'),
      errorTags: await all('SELECT * FROM error_tags ORDER BY error, tag'),
      traces: await all('SELECT id FROM traces ORDER BY id'),
      retryData: await all('SELECT id, data FROM retry_data ORDER BY id'),
      users: await all('SELECT * FROM users ORDER BY id'),
      tags: await all('SELECT * FROM tags ORDER BY code'),
      audit: await all('SELECT * FROM audit ORDER BY id'),
    };
  } finally {
    await backend.close();
  }
}

describe('every command family through the executable', () => {
  it('demo seeds the workspace and prints its summary', () => {
    expect(demo.code, demo.stderr).toBe(0);
    expect(demo.stdout).toContain('Shop orders to ERP');
    expect(demo.stderr).toMatch(/running Shop orders to ERP/);
  });

  it('each family answers a read with exit 0 and its output', async () => {
    const [error] = await openErrors(ERP, '--code', '422');
    const [job] = await json<Array<{ _id: string; type: string }>>(['jobs', 'list', '--flow', ERP[0]!]);
    const reads: Array<[string[], RegExp]> = [
      [['--version'], /^0\.1\.0\n$/],
      [['flows', 'list'], /^NAME\s+ID\s+STATE/],
      [['errors', 'list', ...ERP, '--limit', '1', '--json'], /"errorId"/],
      [['jobs', 'list', '--json'], /"_id"/],
      [['resolved', 'list', ...ERP, '--json'], /"resolved"/],
      [['tags', 'list', '--json'], /"tagId"/],
      [['users', 'list', '--json'], /ana\.lima@acme\.example/],
      [['config', 'get', 'secrets.erpToken'], /^\*{8}\n$/],
      [['retry-data', 'get', ...ERP, error!.retryDataKey!, '--json'], /"retryDataKey"/],
      [['requests', 'list', ...ERP, '--limit', '1', '--json'], /"requests"/],
      [['logs', 'list', ERP[0]!, job!._id, '--limit', '1', '--json'], /"logs"/],
      [['doctor'], testStore() === 'postgres' ? /ok {6}store: PostgreSQL at postgres:\/\// : /integrity: PRAGMA integrity_check: ok/],
      [['tokens', 'list', '--json'], /^\[\]\n$/],
      [['profile', 'list'], /local/],
    ];
    const results = await Promise.all(reads.map(([args]) => runCli(args, env)));
    results.forEach((r, i) => {
      const args = reads[i]![0].join(' ');
      expect(r.code, `flowdeck ${args}: ${r.stderr}`).toBe(0);
      expect(r.stdout, `flowdeck ${args}`).toMatch(reads[i]![1]);
    });
  });

  it('a failure exits 1 and a usage error 2, each with one flowdeck: line', async () => {
    const [missing, usage] = await Promise.all([runCli(['errors', 'list', 'No such flow', 'x'], env), runCli(['errors', 'list', ...ERP, '--limit', '0'], env)]);
    expect([missing.code, missing.stdout, missing.stderr]).toEqual([1, '', expect.stringMatching(/^flowdeck: flow not found: No such flow .*\n$/)]);
    expect([usage.code, usage.stdout, usage.stderr]).toEqual([2, '', expect.stringMatching(/^flowdeck: .*--limit.*\n$/)]);
  });
});

/** util-linux `script` gives the command a pseudo-terminal, so confirm() really asks. */
const hasScript = (() => {
  try {
    execFileSync('script', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

/** Runs flowdeck on a terminal, answers `answer` once the y/N question shows; the terminal's text and exit code. */
function runOnTerminal(args: string[], answer: string): Promise<{ code: number | null; screen: string }> {
  const command = [process.execPath, 'bin/flowdeck.js', ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  return new Promise((resolve, reject) => {
    const child = spawn('script', ['-qec', command, '/dev/null'], { cwd: REPO_ROOT, env: { ...process.env, ...env, NO_COLOR: '1' }, stdio: ['pipe', 'pipe', 'pipe'] });
    let screen = '';
    let answered = false;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`no answer from flowdeck ${args.join(' ')}: ${screen}`));
    }, 90_000);
    child.stdout.on('data', (chunk: Buffer) => {
      screen += chunk.toString('utf8');
      if (!answered && screen.includes('y/N')) {
        answered = true;
        child.stdin.write(`${answer}\n`);
      }
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, screen });
    });
  });
}

describe.skipIf(!hasScript)('confirmation on a terminal', () => {
  it('asks with the count: "n" cancels (exit 1, nothing changed), "y" resolves exactly those errors', async () => {
    const intermittent = await openErrors(CRM, '--classification', 'intermittent');
    const before = await snapshot();
    const declined = await runOnTerminal(['errors', 'resolve', ...CRM, '--classification', 'intermittent'], 'n');
    expect(declined.screen).toContain(`Resolve ${intermittent.length} errors? y/N`);
    expect(declined.screen).toContain('flowdeck: canceled; nothing changed');
    expect(declined.code).toBe(1);
    expect(await snapshot()).toEqual(before);

    const accepted = await runOnTerminal(['errors', 'resolve', ...CRM, '--classification', 'intermittent'], 'y');
    expect(accepted.screen).toContain(`Resolved ${intermittent.length} errors.`);
    expect(accepted.code).toBe(0);
    const resolved = await json<FlowStepResolvedResponse>(['resolved', 'list', ...CRM, '--limit', '1000']);
    expect(resolved.resolved.map((e) => e.errorId)).toEqual(intermittent.map((e) => e.errorId));
  });
});

import Database from 'better-sqlite3';
import { execFileSync, spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FlowStepError, FlowStepErrorsResponse, FlowStepResolvedResponse } from '../../src/domain/api.js';
import { REPO_ROOT } from '../helpers/cli.js';
import { commandEnv, runInProcess } from '../helpers/in-process.js';
import { tempHome, type TempHome } from '../helpers/workspace.js';

// A triage command that asks on a real terminal (a pseudo-terminal, from util-linux `script`): the
// process of bin/flowdeck.js reads the answer from its TTY. What the triage commands do without a
// terminal is test/integration/triage-commands.test.ts (in this process); this file seeds and
// reads the workspace that way too, and only the asking runs as a process.

const CRM = ['Shop customers to CRM', 'CRM contacts'];
const OPERATOR = 'night.shift@acme.example';

let tmp: TempHome;
let home: string;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  tmp = tempHome('flowdeck-triage-tty-');
  home = tmp.home;
  env = commandEnv({ FLOWDECK_HOME: home, FLOWDECK_USER: OPERATOR, FLOWDECK_WORKER: 'off' });
  const demo = await runInProcess(env, ['demo', '--no-tui']);
  if (demo.code !== 0) throw new Error(`demo failed: ${demo.stderr}`);
}, 90_000);

afterAll(() => tmp?.cleanup());

async function json<T>(args: string[]): Promise<T> {
  const result = await runInProcess(env, [...args, '--json']);
  expect(result.stderr, `flowdeck ${args.join(' ')}`).toBe('');
  expect(result.code).toBe(0);
  return JSON.parse(result.stdout) as T;
}

const openErrors = async (flowStep: string[], ...filters: string[]): Promise<FlowStepError[]> =>
  (await json<FlowStepErrorsResponse>(['errors', 'list', ...flowStep, '--limit', '1000', ...filters])).errors;

/** The rows a triage command may touch, read straight from the workspace's SQLite file. */
function snapshot() {
  const db = new Database(join(home, 'flowdeck.db'), { readonly: true });
  try {
    const all = (sql: string) => db.prepare(sql).all();
    return {
      errors: all('SELECT * FROM errors ORDER BY id'),
      errorTags: all('SELECT * FROM error_tags ORDER BY error, tag'),
      traces: all('SELECT id FROM traces ORDER BY id'),
      retryData: all('SELECT id, data FROM retry_data ORDER BY id'),
      users: all('SELECT * FROM users ORDER BY id'),
      tags: all('SELECT * FROM tags ORDER BY code'),
      audit: all('SELECT * FROM audit ORDER BY id'),
    };
  } finally {
    db.close();
  }
}

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
    const before = snapshot();
    const declined = await runOnTerminal(['errors', 'resolve', ...CRM, '--classification', 'intermittent'], 'n');
    expect(declined.screen).toContain(`Resolve ${intermittent.length} errors? y/N`);
    expect(declined.screen).toContain('flowdeck: canceled; nothing changed');
    expect(declined.code).toBe(1);
    expect(snapshot()).toEqual(before);

    const accepted = await runOnTerminal(['errors', 'resolve', ...CRM, '--classification', 'intermittent'], 'y');
    expect(accepted.screen).toContain(`Resolved ${intermittent.length} errors.`);
    expect(accepted.code).toBe(0);
    const resolved = await json<FlowStepResolvedResponse>(['resolved', 'list', ...CRM, '--limit', '1000']);
    expect(resolved.resolved.map((e) => e.errorId)).toEqual(intermittent.map((e) => e.errorId));
  });
});

import Database from 'better-sqlite3';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { runCli, spawnCli, type CliResult } from './cli.js';
import { querySync } from './pg-sync.js';
import { copyHome, storeOf, tempHome } from './workspace.js';

// The faces an operator meets flowdeck by, for tests that must hold on each: the local workspace,
// and a `flowdeck serve` process reached through a remote profile. A face gives the env the CLI
// runs with, the operator it acts as, an env for a second user, and where the records end up (for
// what only the store shows, such as the audit). Both start from a copy of one seeded demo
// workspace (seedDemoTemplate), made once per test file: copying two files is cheap, `demo` is not.

export interface Face {
  readonly name: 'local' | 'remote';
  /** The env every command of the operator runs with. */
  readonly env: Record<string, string>;
  /** Who the operator's commands are recorded as. */
  readonly operator: string;
  /** The workspace the records are kept in: the local one, or the one the server serves. */
  readonly workspace: string;
  /** A directory of the test's own (editor scripts, reports), outside every workspace. */
  readonly scratch: string;
  /** The env of another user acting on the same records (locally FLOWDECK_USER; remotely their own token and profile). */
  as(email: string): Promise<Record<string, string>>;
  /** Stops what the face started; throws if anything was left that should not be there. */
  cleanup(): Promise<void>;
}

export interface Template {
  dir: string;
  cleanup: () => void;
}

async function cliOk(args: string[], env: Record<string, string>): Promise<CliResult> {
  const result = await runCli(args, env);
  if (result.code !== 0) throw new Error(`flowdeck ${args.join(' ')} → ${result.code}\n${result.stderr}${result.stdout}`);
  return result;
}

/**
 * `flowdeck demo --no-tui` once, into a workspace that every face copies. Two things are settled
 * in it so that every copy starts alike. The demo's automatic retries are taken off the errors:
 * due by the time a copy is used, they would be queued at once by whatever worker first sweeps the
 * workspace (a serve's from its start, locally the one the first retry starts), racing the
 * operator's own retries of the same records. And the stored flow-file paths are made stale, so
 * each copy re-syncs its flows from its own flows/ on first open rather than name the template's.
 */
export async function seedDemoTemplate(operator: string): Promise<Template> {
  const tmp = tempHome('flowdeck-demo-template-', { workspace: 'workspace' });
  const dir = join(tmp.home, 'workspace');
  await cliOk(['demo', '--no-tui'], { FLOWDECK_HOME: dir, FLOWDECK_USER: operator });
  const settle = [`UPDATE errors SET retry_at = NULL WHERE retry_at IS NOT NULL`, `DELETE FROM meta WHERE key IN ('catalog_digest', 'catalog_fingerprint')`];
  const server = storeOf(dir);
  if (server) {
    // On PostgreSQL the same two statements, on the template's own database (closed: the demo ended).
    for (const sql of settle) querySync(server, sql);
  } else {
    const db = new Database(join(dir, 'flowdeck.db'));
    try {
      for (const sql of settle) db.prepare(sql).run();
      // Everything in the main file: a copy needs no -wal or -shm beside it.
      db.pragma('wal_checkpoint(TRUNCATE)');
    } finally {
      db.close();
    }
  }
  return { dir, cleanup: tmp.cleanup };
}

export async function localFace(template: Template, operator: string): Promise<Face> {
  // A copy of the template (files, and on PostgreSQL its database), while nothing has either open.
  const tmp = copyHome(template.dir, 'flowdeck-face-local-', { workspace: 'workspace' });
  const workspace = join(tmp.home, 'workspace');
  const scratch = join(tmp.home, 'scratch');
  mkdirSync(scratch);
  const env = { FLOWDECK_HOME: workspace, FLOWDECK_USER: operator };
  return {
    name: 'local',
    env,
    operator,
    workspace,
    scratch,
    as: async (email) => ({ ...env, FLOWDECK_USER: email }),
    cleanup: async () => tmp.cleanup(),
  };
}

interface Serve {
  url: string;
  stop(): Promise<void>;
}

/** `flowdeck serve --port 0` as a process over `home`; its address read from the line it prints. */
export async function startServeProcess(env: Record<string, string>): Promise<Serve> {
  const child: ChildProcess = spawnCli(['serve', '--port', '0'], env);
  let said = '';
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    child.stderr!.on('data', (c: Buffer) => {
      said += c.toString();
      const m = /flowdeck serve: listening on (http:\/\/[\d.]+:\d+) /.exec(said);
      if (m) resolve(m[1]!);
    });
    void exited.then((code) => reject(new Error(`serve exited (${code}) before listening: ${said}`)));
  });
  return {
    url,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const code = await exited;
      // A clean stop: nothing was left running that the next start would have to resume.
      if (code !== 0) throw new Error(`flowdeck serve ended with ${code} on SIGTERM:\n${said}`);
    },
  };
}

/**
 * The workspace served by `flowdeck serve` (as a process, on a port of its own), and the operator
 * at another shell with a remote profile and a token of their own. That shell's FLOWDECK_HOME is a
 * directory that does not exist: a command that quietly acted locally would create it, and
 * cleanup() says so.
 */
export async function remoteFace(template: Template, operator: string): Promise<Face> {
  const tmp = copyHome(template.dir, 'flowdeck-face-remote-', { workspace: 'served' });
  const workspace = join(tmp.home, 'served');
  const scratch = join(tmp.home, 'scratch');
  const nowhere = join(tmp.home, 'no-local-workspace');
  mkdirSync(scratch);
  // The server's own operator is nobody who acts in the tests: whatever it records is a leak.
  const admin = { FLOWDECK_HOME: workspace, FLOWDECK_USER: 'serve.admin@acme.example' };
  let serve: Serve | undefined;
  let shells = 0;

  const token = async (email: string) => (await cliOk(['tokens', 'create', '--user', email, '--name', 'e2e'], admin)).stdout.trim();
  /** A shell of `email`'s: their own config directory, a profile "team" over the server, their token in its variable. */
  const shellOf = async (email: string, given?: string): Promise<Record<string, string>> => {
    const env = {
      FLOWDECK_HOME: nowhere,
      FLOWDECK_CONFIG_DIR: join(tmp.home, `config-${++shells}`),
      // Not who acts remotely (the token is): were it used anywhere, the records would say so.
      FLOWDECK_USER: `local.${shells}@shell.example`,
      FD_TEAM_TOKEN: given ?? (await token(email)),
    };
    await cliOk(['profile', 'add', 'team', '--url', serve!.url, '--token-env', 'FD_TEAM_TOKEN'], env);
    return { ...env, FLOWDECK_PROFILE: 'team' };
  };

  // The operator's token is made while the server starts (SQLite lets both at the workspace).
  const starting = startServeProcess(admin);
  const operatorToken = token(operator);
  operatorToken.catch(() => undefined); // awaited below; reported there
  try {
    serve = await starting;
    const env = await shellOf(operator, await operatorToken);
    return {
      name: 'remote',
      env,
      operator,
      workspace,
      scratch,
      as: (email) => shellOf(email),
      async cleanup() {
        try {
          await serve!.stop();
          if (existsSync(nowhere)) throw new Error(`a command on the remote profile acted locally: ${nowhere} was created`);
        } finally {
          tmp.cleanup();
        }
      },
    };
  } catch (e) {
    await (serve ?? (await starting.catch(() => undefined)))?.stop().catch(() => undefined);
    tmp.cleanup();
    throw e;
  }
}

/** The audit as the store keeps it, oldest first (read-only: a server may have the workspace open). */
export function auditOf(workspace: string): Array<{ actor: string; action: string; count: number; detail: unknown }> {
  const sql = 'SELECT actor, action, count, detail FROM audit ORDER BY id';
  const server = storeOf(workspace);
  let rows: Array<Record<string, unknown>>;
  if (server) rows = querySync(server, sql);
  else {
    const db = new Database(join(workspace, 'flowdeck.db'), { readonly: true });
    try {
      rows = db.prepare(sql).all() as Array<Record<string, unknown>>;
    } finally {
      db.close();
    }
  }
  // jsonb arrives parsed and bigint as text from PostgreSQL; SQLite gives JSON text and numbers.
  return rows.map((r) => ({
    actor: r.actor as string,
    action: r.action as string,
    count: Number(r.count),
    detail: typeof r.detail === 'string' ? (JSON.parse(r.detail) as unknown) : (r.detail ?? null),
  }));
}


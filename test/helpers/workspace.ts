import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { LocalBackend } from '../../src/backend/local-backend.js';
import { Workspace } from '../../src/workspace/workspace.js';
import { runFlowToEnd } from './jobs.js';
import { workspaceStore } from './store.js';

// Temporary workspaces for tests: a directory under the OS temp dir, flow files written into its
// flows/, and a LocalBackend over it. Callers close backends and call cleanup() in afterEach.

export interface TempHome {
  home: string;
  /** On the postgres test project: the workspace's own database (named in its config.json). */
  storeUrl?: string;
  cleanup: () => void;
}

/**
 * A new workspace directory. On the postgres project (FLOWDECK_TEST_STORE=postgres) it comes with
 * a fresh database, named in its config.json before anything opens it, which cleanup() drops.
 * `workspace`: the workspace is that subdirectory of the home (made here), for tests that keep
 * scratch files beside it.
 */
export function tempHome(prefix = 'flowdeck-test-', { workspace }: { workspace?: string } = {}): TempHome {
  const home = mkdtempSync(join(tmpdir(), prefix));
  const dir = workspace ? join(home, workspace) : home;
  if (workspace) mkdirSync(dir, { recursive: true });
  let store: ReturnType<typeof workspaceStore>;
  try {
    store = workspaceStore(dir);
  } catch (e) {
    rmSync(home, { recursive: true, force: true });
    throw e;
  }
  return {
    home,
    storeUrl: store.url,
    cleanup: () => {
      try {
        store.drop();
      } finally {
        rmSync(home, { recursive: true, force: true });
      }
    },
  };
}

/**
 * A copy of the closed workspace `from` in a new temporary home (`workspace`: as a subdirectory of
 * it, as for tempHome): its files, and on the postgres project a database cloned from the one its
 * config.json names. SQLite's -wal and -shm are left behind: a closed store has everything in
 * flowdeck.db.
 */
export function copyHome(from: string, prefix = 'flowdeck-copy-', { workspace }: { workspace?: string } = {}): TempHome {
  const home = mkdtempSync(join(tmpdir(), prefix));
  const dir = workspace ? join(home, workspace) : home;
  let store: ReturnType<typeof workspaceStore> | undefined;
  try {
    cpSync(from, dir, { recursive: true, filter: (src) => !/flowdeck\.db-(wal|shm)$/.test(src) });
    const source = storeOf(from);
    store = source ? workspaceStore(dir, { copyOf: source }) : undefined;
  } catch (e) {
    rmSync(home, { recursive: true, force: true });
    throw e;
  }
  return {
    home,
    storeUrl: store?.url,
    cleanup: () => {
      try {
        store?.drop();
      } finally {
        rmSync(home, { recursive: true, force: true });
      }
    },
  };
}

/** The database URL a workspace's config.json names as its store, if any. */
export function storeOf(dir: string): string | undefined {
  try {
    const { store } = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as { store?: unknown };
    return typeof store === 'string' ? store : undefined;
  } catch {
    return undefined;
  }
}

/** Writes `flows/<name>` in the workspace; returns the file's path. */
export function writeFlowFile(home: string, name: string, yamlText: string): string {
  const dir = join(home, 'flows');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, name);
  writeFileSync(file, yamlText);
  return file;
}

export async function openBackend(home: string, env: NodeJS.ProcessEnv = { ...process.env }): Promise<LocalBackend> {
  return new LocalBackend(await Workspace.open(home, env));
}

/** A flow file's text with one connection's timeoutMs changed (e.g. the demo's, made faster). */
export function withTimeout(yamlText: string, connectionName: string, timeoutMs: number): string {
  const doc = parseYaml(yamlText) as { connections: Array<{ name: string; http: { timeoutMs?: number } }> };
  const connection = doc.connections.find((c) => c.name === connectionName);
  if (!connection) throw new Error(`no connection "${connectionName}" in the flow file`);
  connection.http.timeoutMs = timeoutMs;
  return stringifyYaml(doc);
}

/**
 * Runs the demo's flows (all but the warehouse export) with the ERP's rate-limit clock stopped, so
 * exactly its limit of orders gets through and the rest are rate-limited, however slow the
 * machine (at real time a loaded machine sends fewer than the limit per second: no 429 at all).
 * Each run is followed to its end before the next starts.
 */
export async function runDemoFlows(backend: LocalBackend): Promise<void> {
  await backend.runtime.start();
  backend.runtime.mockSystems!.erp.setClock(() => 0);
  for (const flow of await backend.listFlows()) if (flow.name !== 'Orders to warehouse') await runFlowToEnd(backend, flow._id);
}

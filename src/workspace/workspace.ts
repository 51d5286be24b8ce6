import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import type Conf from 'conf';
import { loadCatalog, type Catalog } from '../flows/load.js';
import { definitionMasker } from '../runtime/connections.js';
import { SqliteStore } from '../store/sqlite-store.js';
import { ensureHomeDirectory, mustOpenReadOnly, openConfig } from './open-checks.js';
import { ensureSchema, openStore } from './store-checks.js';
import { recoverStaleJobs } from '../runtime/recovery.js';
import { ensureWorker } from '../runtime/worker.js';

// A workspace is a directory: flow files under flows/, the SQLite store, and config.json (conf).
// FLOWDECK_HOME selects it, so tests and users can keep several side by side.

export interface WorkspaceConfigShape {
  demo?: boolean;
  user?: { email?: string; name?: string };
  secrets?: Record<string, string>;
  [key: string]: unknown;
}

export function defaultHome(env: NodeJS.ProcessEnv = process.env): string {
  if (env.FLOWDECK_HOME) return resolve(env.FLOWDECK_HOME);
  const data = env.XDG_DATA_HOME || join(homedir(), '.local', 'share');
  return join(data, 'flowdeck');
}

export class Workspace {
  readonly flowsDir: string;
  readonly dbFile: string;
  readonly config: Conf<WorkspaceConfigShape>;
  readonly store: SqliteStore;
  private cachedCatalog: Catalog | undefined;
  /** What opening found: jobs of dead processes, failed or re-queued. */
  recovered = { failed: 0, requeued: 0 };
  /** Opened read-only (not writable, or FLOWDECK_READONLY=1): reads work, writes are refused. */
  readonly readonly: boolean;
  /** Indexes opening found missing and re-created (an earlier run was interrupted). */
  readonly repairedSchema: string[];

  private constructor(
    readonly home: string,
    readonly env: NodeJS.ProcessEnv,
  ) {
    ensureHomeDirectory(home);
    this.flowsDir = join(home, 'flows');
    this.dbFile = join(home, 'flowdeck.db');
    this.readonly = mustOpenReadOnly(home, this.dbFile, env);
    this.config = openConfig<WorkspaceConfigShape>(home);
    this.store = openStore(this.dbFile, this.readonly);
    try {
      this.repairedSchema = ensureSchema(this.store, this.dbFile);
    } catch (e) {
      this.store.close();
      throw e;
    }
  }

  /** Opens (creating when needed) the workspace, syncs its flow files and marks jobs whose process died. */
  static open(home: string = defaultHome(), env: NodeJS.ProcessEnv = process.env): Workspace {
    const ws = new Workspace(home, env);
    try {
      ws.catalog();
      if (!ws.readonly) {
        ws.recovered = recoverStaleJobs(ws.store, Date.now());
        // A re-queued retry job runs as a newly queued one does: a background worker picks it up.
        if (ws.recovered.requeued > 0) ensureWorker(ws);
      }
    } catch (e) {
      ws.close();
      throw e;
    }
    return ws;
  }

  /** The flow files' catalog, loaded once per process and mirrored into the store. */
  catalog(): Catalog {
    if (!this.cachedCatalog) {
      this.cachedCatalog = loadCatalog(this.flowsDir);
      this.store.syncCatalog(this.cachedCatalog, definitionMasker(this.cachedCatalog.connections.values()));
    }
    return this.cachedCatalog;
  }

  reloadCatalog(): Catalog {
    this.cachedCatalog = undefined;
    return this.catalog();
  }

  get isDemo(): boolean {
    return this.config.get('demo') === true;
  }

  /** Who is acting: FLOWDECK_USER, else `config set user.email`, else the OS user. */
  operator(): string {
    const email = (this.config.get('user') as WorkspaceConfigShape['user'] | undefined)?.email;
    // A hand-edited config.json may hold anything there; `flowdeck doctor` names it.
    return this.env.FLOWDECK_USER || (typeof email === 'string' && email ? email : `${this.env.USER ?? 'operator'}@localhost`);
  }

  close(): void {
    this.store.close();
  }
}

import { mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import Conf from 'conf';
import { loadCatalog, type Catalog } from '../flows/load.js';
import { definitionMasker } from '../runtime/connections.js';
import { SqliteStore } from '../store/sqlite-store.js';
import { recoverStaleJobs } from '../runtime/recovery.js';

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

  private constructor(
    readonly home: string,
    readonly env: NodeJS.ProcessEnv,
  ) {
    mkdirSync(home, { recursive: true });
    this.flowsDir = join(home, 'flows');
    this.dbFile = join(home, 'flowdeck.db');
    this.config = new Conf<WorkspaceConfigShape>({ cwd: home, configName: 'config', projectName: 'flowdeck', clearInvalidConfig: false });
    this.store = new SqliteStore(this.dbFile);
  }

  /** Opens (creating when needed) the workspace, syncs its flow files and marks jobs whose process died. */
  static open(home: string = defaultHome(), env: NodeJS.ProcessEnv = process.env): Workspace {
    const ws = new Workspace(home, env);
    try {
      ws.catalog();
      ws.recovered = recoverStaleJobs(ws.store, Date.now());
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
    return this.env.FLOWDECK_USER || (this.config.get('user') as WorkspaceConfigShape['user'])?.email || `${this.env.USER ?? 'operator'}@localhost`;
  }

  close(): void {
    this.store.close();
  }
}

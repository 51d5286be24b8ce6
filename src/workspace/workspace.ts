import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import type Conf from 'conf';
import { catalogFingerprint } from '../flows/fingerprint.js';
import { loadCatalog, type Catalog } from '../flows/load.js';
import { maskDefinition } from '../runtime/connections.js';
import { SqliteStore } from '../store/sqlite-store.js';
import { recoverStaleJobs } from '../runtime/recovery.js';

// A workspace is a directory: flow files under flows/, the SQLite store, and config.json (conf).
// FLOWDECK_HOME selects it, so tests and users can keep several side by side.

const require = createRequire(import.meta.url);
/** The store's meta key of the flow files' fingerprint when the catalog was last synced. */
export const CATALOG_FINGERPRINT_KEY = 'catalog_fingerprint';

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
  readonly store: SqliteStore;
  private cachedCatalog: Catalog | undefined;
  private configValue: Conf<WorkspaceConfigShape> | undefined;
  /** What opening found: jobs of dead processes, failed or re-queued. */
  recovered = { failed: 0, requeued: 0 };

  private constructor(
    readonly home: string,
    readonly env: NodeJS.ProcessEnv,
  ) {
    mkdirSync(home, { recursive: true });
    this.flowsDir = join(home, 'flows');
    this.dbFile = join(home, 'flowdeck.db');
    this.store = new SqliteStore(this.dbFile);
  }

  /**
   * Opens (creating when needed) the workspace, syncs its flow files when they changed since the
   * last sync, and marks jobs whose process died.
   */
  static open(home: string = defaultHome(), env: NodeJS.ProcessEnv = process.env): Workspace {
    const ws = new Workspace(home, env);
    try {
      ws.syncCatalogIfChanged();
      ws.recovered = recoverStaleJobs(ws.store, Date.now());
    } catch (e) {
      ws.close();
      throw e;
    }
    return ws;
  }

  /** config.json, read on first use: conf and its schema validator cost more to load than most commands take. */
  get config(): Conf<WorkspaceConfigShape> {
    if (!this.configValue) {
      const { default: ConfClass } = require('conf') as typeof import('conf');
      this.configValue = new ConfClass<WorkspaceConfigShape>({ cwd: this.home, configName: 'config', projectName: 'flowdeck', clearInvalidConfig: false });
    }
    return this.configValue;
  }

  /**
   * The flow files' catalog, loaded on first use (once per process) and mirrored into the store.
   * Listings read the store's mirror, so most commands never need it.
   */
  catalog(): Catalog {
    if (!this.cachedCatalog) {
      this.cachedCatalog = loadCatalog(this.flowsDir);
      this.store.syncCatalog(this.cachedCatalog, maskDefinition);
    }
    return this.cachedCatalog;
  }

  /** Whether this process has parsed the flow files (opening skips them when they did not change). */
  get catalogLoaded(): boolean {
    return this.cachedCatalog !== undefined;
  }

  reloadCatalog(): Catalog {
    this.cachedCatalog = undefined;
    this.syncCatalogIfChanged(true);
    return this.catalog();
  }

  /**
   * Parses, validates and syncs the flow files unless their fingerprint is the one stored at the
   * last sync. Taken before the files are read, so a file changed meanwhile reloads next time.
   */
  private syncCatalogIfChanged(force = false): void {
    const fingerprint = catalogFingerprint(this.flowsDir);
    if (!force && this.store.getMeta(CATALOG_FINGERPRINT_KEY) === fingerprint) return;
    this.catalog();
    try {
      this.store.setMeta(CATALOG_FINGERPRINT_KEY, fingerprint);
    } catch (e) {
      // Only a cache: a workspace opened read-only parses its flow files on every open instead.
      if ((e as { code?: string }).code !== 'SQLITE_READONLY') throw e;
    }
  }

  get isDemo(): boolean {
    return this.config.get('demo') === true;
  }

  /** Who is acting: FLOWDECK_USER, else `config set user.email`, else the OS user. */
  operator(): string {
    return this.env.FLOWDECK_USER || this.configUser()?.email || `${this.env.USER ?? 'operator'}@localhost`;
  }

  /**
   * config.json's user, read as plain JSON while conf is not loaded (the TUI's header and every
   * write's audit need it; conf costs ~80 ms to load). A file that does not parse goes through
   * conf, whose error names it.
   */
  private configUser(): WorkspaceConfigShape['user'] {
    if (!this.configValue) {
      let text: string | undefined;
      try {
        text = readFileSync(join(this.home, 'config.json'), 'utf8');
      } catch {
        return undefined; // no config.json yet: nothing set
      }
      try {
        const parsed = JSON.parse(text) as WorkspaceConfigShape | null;
        if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) return parsed.user;
      } catch {
        // fall through to conf
      }
    }
    return this.config.get('user') as WorkspaceConfigShape['user'];
  }

  close(): void {
    this.store.close();
  }
}

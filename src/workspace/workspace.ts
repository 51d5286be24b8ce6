import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import type Conf from 'conf';
import { MASKING_VERSION } from '../domain/mask.js';
import { catalogFingerprint } from '../flows/fingerprint.js';
import { loadCatalog, type Catalog } from '../flows/load.js';
import { definitionMasker } from '../runtime/connections.js';
import type { SqliteCore } from '../store/sqlite/core.js';
import { SqliteStore } from '../store/sqlite/sqlite-store.js';
import type { Store } from '../store/contract/store.js';
import { ensureHomeDirectory, mustOpenReadOnly, openConfig, readConfigFile } from './open-checks.js';
import { ensureSchema, openStore } from './store-checks.js';
import { recoverStaleJobs } from '../runtime/recovery.js';
import { ensureWorker } from '../runtime/worker.js';

// A workspace is a directory: flow files under flows/, the SQLite store, and config.json (conf).
// FLOWDECK_HOME selects it, so tests and users can keep several side by side.

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
  /** The store, through its contract. */
  readonly store: Store;
  /** The SQLite connection under it, synchronously (going away as callers move to the contract). */
  readonly sqlite: SqliteCore;
  private cachedCatalog: Catalog | undefined;
  private configValue: Conf<WorkspaceConfigShape> | undefined;
  /** config.json as opening read it (checked to parse; conf itself loads on first use). */
  private readonly configAtOpen: WorkspaceConfigShape | undefined;
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
    this.configAtOpen = readConfigFile<WorkspaceConfigShape>(home);
    this.sqlite = openStore(this.dbFile, this.readonly);
    try {
      this.repairedSchema = ensureSchema(this.sqlite, this.dbFile);
    } catch (e) {
      this.sqlite.close();
      throw e;
    }
    this.store = new SqliteStore(this.sqlite, this.dbFile);
  }

  /**
   * Opens (creating when needed) the workspace, syncs its flow files when they changed since the
   * last sync, and marks jobs whose process died.
   */
  static open(home: string = defaultHome(), env: NodeJS.ProcessEnv = process.env): Workspace {
    const ws = new Workspace(home, env);
    try {
      ws.syncCatalogIfChanged();
      if (!ws.readonly) {
        ws.recovered = recoverStaleJobs(ws.sqlite, Date.now());
        // A re-queued retry job runs as a newly queued one does: a background worker picks it up.
        if (ws.recovered.requeued > 0) ensureWorker(ws);
      }
    } catch (e) {
      ws.close();
      throw e;
    }
    return ws;
  }

  /** config.json, read on first use: conf and its schema validator cost more to load than most commands take. */
  get config(): Conf<WorkspaceConfigShape> {
    this.configValue ??= openConfig<WorkspaceConfigShape>(this.home);
    return this.configValue;
  }

  /**
   * The flow files' catalog, loaded on first use (once per process) and mirrored into the store.
   * Listings read the store's mirror, so most commands never need it.
   */
  catalog(): Catalog {
    if (!this.cachedCatalog) {
      this.cachedCatalog = loadCatalog(this.flowsDir);
      this.sqlite.syncCatalog(this.cachedCatalog, definitionMasker(this.cachedCatalog.connections.values()));
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
    // The masking's version is part of it: definitions stored by an older, narrower masking are
    // rewritten even when the flow files did not change.
    const fingerprint = `${catalogFingerprint(this.flowsDir)}:mask${MASKING_VERSION}`;
    if (!force && this.sqlite.getMeta(CATALOG_FINGERPRINT_KEY) === fingerprint) return;
    this.catalog();
    try {
      this.sqlite.setMeta(CATALOG_FINGERPRINT_KEY, fingerprint);
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
    const email = this.configUser()?.email;
    // A hand-edited config.json may hold anything there; `flowdeck doctor` names it.
    return this.env.FLOWDECK_USER || (typeof email === 'string' && email ? email : `${this.env.USER ?? 'operator'}@localhost`);
  }

  /**
   * config.json's user: as opening read it while conf is not loaded (the TUI's header and every
   * write's audit need it; conf costs ~80 ms to load), else conf's current value.
   */
  private configUser(): WorkspaceConfigShape['user'] {
    const config = this.configValue ? this.configValue.store : this.configAtOpen;
    const user = config?.user;
    return user && typeof user === 'object' ? user : undefined;
  }

  close(): void {
    this.sqlite.close();
  }
}

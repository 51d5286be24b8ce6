import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import type Conf from 'conf';
import { MASKING_VERSION } from '../domain/mask.js';
import { catalogFingerprint } from '../flows/fingerprint.js';
import { loadCatalog, type Catalog } from '../flows/load.js';
import { definitionMasker } from '../runtime/connections.js';
import type { Store } from '../store/contract/store.js';
import { openStore, repairedSchemaOf } from '../store/open-store.js';
import { ensureHomeDirectory, mustOpenReadOnly, openConfig, readConfigFile } from './open-checks.js';
import { recoverStaleJobs } from '../runtime/recovery.js';
import { ensureWorker } from '../runtime/worker.js';

// A workspace is a directory: flow files under flows/, config.json (conf), and the SQLite store,
// unless FLOWDECK_STORE_URL or config.json's `store` names a PostgreSQL one.
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
  private cachedCatalog: Catalog | undefined;
  /** The flow files' fingerprint this process last found the store's mirror at. */
  private syncedFingerprint: string | undefined;
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
    opened: { dbFile: string; readonly: boolean; configAtOpen: WorkspaceConfigShape | undefined; store: Store },
  ) {
    this.flowsDir = join(home, 'flows');
    this.dbFile = opened.dbFile;
    this.readonly = opened.readonly;
    this.configAtOpen = opened.configAtOpen;
    this.store = opened.store;
    this.repairedSchema = [...repairedSchemaOf(opened.store)];
  }

  /**
   * Opens (creating when needed) the workspace, syncs its flow files when they changed since the
   * last sync, and marks jobs whose process died.
   */
  static async open(home: string = defaultHome(), env: NodeJS.ProcessEnv = process.env): Promise<Workspace> {
    ensureHomeDirectory(home);
    const dbFile = join(home, 'flowdeck.db');
    const readonly = mustOpenReadOnly(home, dbFile, env);
    const configAtOpen = readConfigFile<WorkspaceConfigShape>(home);
    const store = await openStore({ home, dbFile, readonly, ...(env.FLOWDECK_STORE_URL !== undefined ? { url: env.FLOWDECK_STORE_URL } : {}) });
    const ws = new Workspace(home, env, { dbFile, readonly, configAtOpen, store });
    try {
      await ws.syncCatalogIfChanged();
      if (!ws.readonly) {
        ws.recovered = await recoverStaleJobs(ws.store, Date.now());
        // A re-queued retry job runs as a newly queued one does: a background worker picks it up.
        if (ws.recovered.requeued > 0) await ensureWorker(ws);
      }
    } catch (e) {
      await ws.close();
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
   * The flow files' catalog, parsed on first use (once per process). Listings read the store's
   * mirror, so most commands never need it; what runs flows takes catalogInStore().
   */
  catalog(): Catalog {
    this.cachedCatalog ??= loadCatalog(this.flowsDir);
    return this.cachedCatalog;
  }

  /** Whether this process has parsed the flow files (opening skips them when they did not change). */
  get catalogLoaded(): boolean {
    return this.cachedCatalog !== undefined;
  }

  /**
   * The catalog with the store's mirror known to match it (the steps' keys exist): files changed
   * since this process opened the workspace are synced first.
   */
  async catalogInStore(): Promise<Catalog> {
    await this.syncCatalogIfChanged();
    return this.catalog();
  }

  async reloadCatalog(): Promise<Catalog> {
    this.cachedCatalog = undefined;
    await this.syncCatalogIfChanged(true);
    return this.catalog();
  }

  /**
   * Parses, validates and syncs the flow files unless their fingerprint is the one stored at the
   * last sync. Taken before the files are read, so a file changed meanwhile reloads next time.
   */
  private async syncCatalogIfChanged(force = false): Promise<void> {
    // The masking's version is part of it: definitions stored by an older, narrower masking are
    // rewritten even when the flow files did not change.
    const fingerprint = `${catalogFingerprint(this.flowsDir)}:mask${MASKING_VERSION}`;
    if (!force && fingerprint === this.syncedFingerprint) return;
    if (!force && (await this.store.meta.getMeta(CATALOG_FINGERPRINT_KEY)) === fingerprint) {
      this.syncedFingerprint = fingerprint;
      return;
    }
    // Parsed afresh: what this process parsed before may predate the change.
    this.cachedCatalog = loadCatalog(this.flowsDir);
    if (this.store.readonly) {
      // Only a cache: a workspace opened read-only parses its flow files on every open instead.
      this.syncedFingerprint = fingerprint;
      return;
    }
    await this.store.catalog.syncCatalog(this.cachedCatalog, definitionMasker(this.cachedCatalog.connections.values()));
    await this.store.meta.setMeta(CATALOG_FINGERPRINT_KEY, fingerprint);
    this.syncedFingerprint = fingerprint;
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

  async close(): Promise<void> {
    await this.store.close();
  }
}

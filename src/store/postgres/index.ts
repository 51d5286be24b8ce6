import { WorkspaceError } from '../../domain/errors.js';
import type { Store } from '../contract/store.js';
import { migrate, schemaVersion, MIGRATIONS } from './migrations.js';
import { createPool, PostgresStore, redactedUrl } from './postgres-store.js';

// The PostgreSQL store's entry point: loaded only when a workspace's store is a postgres:// URL.

export interface PostgresStoreOptions {
  readonly?: boolean;
}

export { PostgresStore, redactedUrl } from './postgres-store.js';

/** Why a connection failed, in one line (node-postgres errors of a refused or unknown host carry no message of their own). */
function reason(e: unknown): string {
  const err = e as { message?: string; code?: string; errors?: Array<{ message?: string }> };
  const message = err.message || err.errors?.map((x) => x.message).filter(Boolean).join('; ') || err.code || String(e);
  return message.split('\n')[0]!;
}

/**
 * Connects, checks the server answers, and brings the schema to this flowdeck's version (a
 * read-only store is only checked). Fails with one line naming the URL without its password.
 */
export async function openPostgresStore(url: string, options: PostgresStoreOptions = {}): Promise<Store> {
  const where = redactedUrl(url);
  const pool = createPool(url, { readonly: options.readonly ?? false });
  try {
    await pool.query('SELECT 1');
  } catch (e) {
    await pool.end().catch(() => undefined);
    throw new WorkspaceError(`cannot reach PostgreSQL at ${where}: ${reason(e)}`);
  }
  try {
    if (options.readonly) {
      const version = await schemaVersion(pool);
      if (version > MIGRATIONS.length) throw new Error(`the PostgreSQL store is at schema version ${version}, newer than this flowdeck (${MIGRATIONS.length}); upgrade flowdeck`);
      if (version < MIGRATIONS.length) throw new Error(`the PostgreSQL store is at schema version ${version}; open it once writable to migrate it to ${MIGRATIONS.length}`);
    } else {
      await migrate(pool);
    }
  } catch (e) {
    await pool.end().catch(() => undefined);
    throw new WorkspaceError(`the PostgreSQL store at ${where} cannot be used: ${reason(e)}`);
  }
  return new PostgresStore(pool, url, options);
}

import { WorkspaceError } from '../../domain/errors.js';
import type { Store } from '../contract/store.js';

// The PostgreSQL store's entry point: loaded only when a workspace's store is a postgres:// URL.

export interface PostgresStoreOptions {
  readonly?: boolean;
}

export async function openPostgresStore(_url: string, _options: PostgresStoreOptions = {}): Promise<Store> {
  throw new WorkspaceError('the PostgreSQL store is being built (issue 13)');
}

import pg from 'pg';
import { Signer } from '../../domain/signature.js';
import type { StorePorts } from '../contract/ports.js';
import type { Store, StoreTx, TransactionOptions } from '../contract/store.js';
import { PgAudit } from './audit.js';
import { PgBulk } from './bulk.js';
import { PgCatalog } from './catalog.js';
import { readChangeStamp } from './change-stamp.js';
import { PgErrorRows } from './error-rows.js';
import { PgErrors } from './errors.js';
import { PgGroups } from './groups.js';
import { PgJobs } from './jobs.js';
import { PgMeta } from './meta.js';
import { PgRecords } from './records.js';
import { PgRetryItems } from './retry-items.js';
import { PG_TYPES, PoolSession, type PgSession } from './session.js';
import { PgTokens } from './tokens.js';
import { PgTriage } from './triage.js';
import { PgWorkers } from './workers.js';

// The team's store: the contract's ports over one pg.Pool. Outside a transaction every call runs
// on whichever connection is free; withTransaction takes one connection for its unit of work and
// hands `fn` ports bound to it (nested calls join it); a serialization failure or a deadlock runs
// the unit again (see PoolSession.transaction).

export const POOL_SIZE = 10;

/** The URL without its password, for messages and `doctor`. */
export function redactedUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '';
    return u.toString().replace(/^(postgres(?:ql)?:\/\/[^:@/]*):?@/, '$1@');
  } catch {
    return url.replace(/:[^:@/]*@/, '@');
  }
}

export interface PgPoolOptions {
  readonly?: boolean;
  max?: number;
}

/** The pool of a store: the application name, its own type parsers, read-only sessions when asked. */
export function createPool(url: string, options: PgPoolOptions = {}): pg.Pool {
  const pool = new pg.Pool({
    connectionString: url,
    max: options.max ?? POOL_SIZE,
    application_name: 'flowdeck',
    types: PG_TYPES,
    // Every connection's transactions are read-only: a write fails (ReadOnlyWorkspaceError), whatever runs it.
    ...(options.readonly ? { options: '-c default_transaction_read_only=on' } : {}),
  });
  // An idle connection the server drops (restart, timeout) must not crash the process: the next query reconnects.
  pool.on('error', () => undefined);
  return pool;
}

function portsOver(session: PgSession, pool: pg.Pool, readonly: boolean, signer: Signer): StorePorts {
  return {
    meta: new PgMeta(session),
    catalog: new PgCatalog(session, readonly),
    jobs: new PgJobs(session),
    retries: new PgRetryItems(session),
    errors: new PgErrors(session, new PgErrorRows(session, signer)),
    groups: new PgGroups(session),
    triage: new PgTriage(session),
    records: new PgRecords(session),
    auditLog: new PgAudit(session),
    tokens: new PgTokens(session),
    workers: new PgWorkers(session),
    bulk: new PgBulk(session, pool),
  };
}

export class PostgresStore implements Store {
  readonly kind = 'postgres' as const;
  readonly sharedWorkers = true;
  readonly location: string;
  readonly readonly: boolean;
  private readonly session: PoolSession;
  private readonly signer = new Signer();
  private readonly closeHooks: Array<() => void> = [];
  private closed = false;

  readonly meta;
  readonly catalog;
  readonly jobs;
  readonly retries;
  readonly errors;
  readonly groups;
  readonly triage;
  readonly records;
  readonly auditLog;
  readonly tokens;
  readonly workers;
  readonly bulk;

  /** Over a pool whose database is migrated already (openPostgresStore does both). */
  constructor(
    readonly pool: pg.Pool,
    url: string,
    options: { readonly?: boolean } = {},
  ) {
    this.location = redactedUrl(url);
    this.readonly = options.readonly ?? false;
    this.session = new PoolSession(pool, this.location);
    ({
      meta: this.meta,
      catalog: this.catalog,
      jobs: this.jobs,
      retries: this.retries,
      errors: this.errors,
      groups: this.groups,
      triage: this.triage,
      records: this.records,
      auditLog: this.auditLog,
      tokens: this.tokens,
      workers: this.workers,
      bulk: this.bulk,
    } = portsOver(this.session, pool, this.readonly, this.signer));
  }

  withTransaction<T>(fn: (tx: StoreTx) => Promise<T>, options: TransactionOptions = {}): Promise<T> {
    return this.session.transaction((session) => fn(this.txOver(session)), options);
  }

  private txOver(session: PgSession): StoreTx {
    const tx: StoreTx = {
      ...portsOver(session, this.pool, this.readonly, this.signer),
      withTransaction: (fn, options) => session.transaction(() => fn(tx), options),
    };
    return tx;
  }

  changeStamp(): Promise<string> {
    return readChangeStamp(this.session);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.end();
    for (const fn of this.closeHooks.splice(0)) fn();
  }

  onClose(fn: () => void): void {
    this.closeHooks.push(fn);
  }
}

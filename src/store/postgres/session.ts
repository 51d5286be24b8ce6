import pg from 'pg';
import type { Pool, PoolClient, QueryResultRow } from 'pg';
import Cursor from 'pg-cursor';
import { ReadOnlyWorkspaceError } from '../../domain/errors.js';

// What the PostgreSQL ports run their SQL on: the pool (outside a transaction: each statement on
// whichever connection is free) or one client (inside a transaction). The ports never see which.

export interface PgTransactionOptions {
  /** A named transaction-scoped advisory lock held to the end (see TransactionOptions.exclusive). */
  exclusive?: string;
}

export interface PgSession {
  /** The rows of one statement ($1, $2… parameters). */
  query<R extends QueryResultRow = Record<string, unknown>>(text: string, params?: readonly unknown[]): Promise<R[]>;
  /** Rows affected (UPDATE/DELETE/INSERT without RETURNING). */
  execute(text: string, params?: readonly unknown[]): Promise<number>;
  /** A long read in batches through a server-side cursor (the CSV export): never the whole set in memory. */
  cursor<R extends QueryResultRow = Record<string, unknown>>(text: string, params: readonly unknown[], batch: number): AsyncIterable<R[]>;
  /** Runs `fn` in one transaction on one connection; inside a transaction it joins it. */
  transaction<T>(fn: (session: PgSession) => Promise<T>, options?: PgTransactionOptions): Promise<T>;
}

const INT8 = 20;

/**
 * The type parsers of the store's connections (not node-postgres's global ones): bigint columns
 * (row ids, epoch-ms times, counts) read as numbers. Every value the store keeps is below 2^53.
 */
export const PG_TYPES = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === INT8 && format !== 'binary') return (v: string) => Number(v);
    return pg.types.getTypeParser(oid, format as 'text');
  },
} as unknown as pg.CustomTypesConfig;

/** Serialization failures and deadlocks: the transaction is run again, a few times. */
const RETRYABLE = new Set(['40001', '40P01']);
const TRANSACTION_ATTEMPTS = 5;
const EXCLUSIVE_LOCK = 'SELECT pg_advisory_xact_lock(hashtext($1))';

/** A write on a read-only store, as the SQLite store reports it; other errors as they are. */
function translate(e: unknown, location: string): unknown {
  if ((e as { code?: string }).code === '25006') return new ReadOnlyWorkspaceError(location);
  return e;
}

async function* readCursor<R extends QueryResultRow>(client: PoolClient, text: string, params: readonly unknown[], batch: number): AsyncGenerator<R[]> {
  const cursor = client.query(new Cursor<R>(text, params as unknown[], { types: PG_TYPES } as never));
  try {
    for (;;) {
      const rows = await cursor.read(batch);
      if (rows.length === 0) return;
      yield rows;
    }
  } finally {
    await cursor.close();
  }
}

/** Statements on one client inside its transaction. */
export class ClientSession implements PgSession {
  constructor(
    readonly client: PoolClient,
    private readonly location = 'PostgreSQL',
  ) {}

  async query<R extends QueryResultRow>(text: string, params: readonly unknown[] = []): Promise<R[]> {
    try {
      return (await this.client.query<R>(text, params as unknown[])).rows;
    } catch (e) {
      throw translate(e, this.location);
    }
  }

  async execute(text: string, params: readonly unknown[] = []): Promise<number> {
    try {
      return (await this.client.query(text, params as unknown[])).rowCount ?? 0;
    } catch (e) {
      throw translate(e, this.location);
    }
  }

  cursor<R extends QueryResultRow>(text: string, params: readonly unknown[], batch: number): AsyncIterable<R[]> {
    return readCursor<R>(this.client, text, params, batch);
  }

  async transaction<T>(fn: (session: PgSession) => Promise<T>, options: PgTransactionOptions = {}): Promise<T> {
    if (options.exclusive !== undefined) await this.query(EXCLUSIVE_LOCK, [options.exclusive]);
    return fn(this);
  }
}

/** Statements on the pool; a cursor and a transaction take a connection of their own for as long as they run. */
export class PoolSession implements PgSession {
  constructor(
    readonly pool: Pool,
    private readonly location = 'PostgreSQL',
  ) {}

  async query<R extends QueryResultRow>(text: string, params: readonly unknown[] = []): Promise<R[]> {
    try {
      return (await this.pool.query<R>(text, params as unknown[])).rows;
    } catch (e) {
      throw translate(e, this.location);
    }
  }

  async execute(text: string, params: readonly unknown[] = []): Promise<number> {
    try {
      return (await this.pool.query(text, params as unknown[])).rowCount ?? 0;
    } catch (e) {
      throw translate(e, this.location);
    }
  }

  async *cursor<R extends QueryResultRow>(text: string, params: readonly unknown[], batch: number): AsyncIterable<R[]> {
    const client = await this.pool.connect();
    let ended = false;
    try {
      // REPEATABLE READ: the export reads one snapshot, whatever commits while it streams.
      await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      yield* readCursor<R>(client, text, params, batch);
      await client.query('COMMIT');
      ended = true;
    } finally {
      // Also when the reader stopped early (return()) or failed: the connection goes back clean.
      if (!ended) await client.query('ROLLBACK').catch(() => undefined);
      client.release();
    }
  }

  async transaction<T>(fn: (session: PgSession) => Promise<T>, options: PgTransactionOptions = {}): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      const client = await this.pool.connect();
      let broken: Error | undefined;
      try {
        await client.query('BEGIN');
        const session = new ClientSession(client, this.location);
        if (options.exclusive !== undefined) await session.query(EXCLUSIVE_LOCK, [options.exclusive]);
        const result = await fn(session);
        await client.query('COMMIT');
        return result;
      } catch (e) {
        try {
          await client.query('ROLLBACK');
        } catch (rollbackFailed) {
          broken = rollbackFailed as Error; // the connection is gone: do not pool it again
        }
        if (attempt < TRANSACTION_ATTEMPTS && RETRYABLE.has((e as { code?: string }).code ?? '')) continue;
        throw translate(e, this.location);
      } finally {
        client.release(broken);
      }
    }
  }
}

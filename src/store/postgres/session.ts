import type { Pool, PoolClient, QueryResultRow } from 'pg';
import Cursor from 'pg-cursor';

// What the PostgreSQL ports run their SQL on: the pool (outside a transaction: each statement on
// whichever connection is free) or one client (inside a transaction). The ports never see which.

export interface PgSession {
  /** The rows of one statement ($1, $2… parameters). */
  query<R extends QueryResultRow = Record<string, unknown>>(text: string, params?: readonly unknown[]): Promise<R[]>;
  /** Rows affected (UPDATE/DELETE/INSERT without RETURNING). */
  execute(text: string, params?: readonly unknown[]): Promise<number>;
  /** A long read in batches through a server-side cursor (the CSV export): never the whole set in memory. */
  cursor<R extends QueryResultRow = Record<string, unknown>>(text: string, params: readonly unknown[], batch: number): AsyncIterable<R[]>;
}

async function* readCursor<R extends QueryResultRow>(client: PoolClient, text: string, params: readonly unknown[], batch: number): AsyncGenerator<R[]> {
  const cursor = client.query(new Cursor<R>(text, params as unknown[]));
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

/** Statements on one client: a transaction's, or a cursor's own connection. */
export class ClientSession implements PgSession {
  constructor(readonly client: PoolClient) {}

  async query<R extends QueryResultRow>(text: string, params: readonly unknown[] = []): Promise<R[]> {
    return (await this.client.query<R>(text, params as unknown[])).rows;
  }

  async execute(text: string, params: readonly unknown[] = []): Promise<number> {
    return (await this.client.query(text, params as unknown[])).rowCount ?? 0;
  }

  cursor<R extends QueryResultRow>(text: string, params: readonly unknown[], batch: number): AsyncIterable<R[]> {
    return readCursor<R>(this.client, text, params, batch);
  }
}

/** Statements on the pool; a cursor takes a connection of its own for as long as it reads. */
export class PoolSession implements PgSession {
  constructor(readonly pool: Pool) {}

  async query<R extends QueryResultRow>(text: string, params: readonly unknown[] = []): Promise<R[]> {
    return (await this.pool.query<R>(text, params as unknown[])).rows;
  }

  async execute(text: string, params: readonly unknown[] = []): Promise<number> {
    return (await this.pool.query(text, params as unknown[])).rowCount ?? 0;
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
}

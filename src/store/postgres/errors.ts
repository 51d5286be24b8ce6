import type { ErrorsPort } from '../contract/ports.js';
import type { ErrorListQuery, QueryContext } from '../contract/queries.js';
import type { ErrorRow, StepErrorStats } from '../contract/rows.js';
import type { PgSession } from './session.js';
import { num, toErrorRow } from './error-columns.js';
import { compileWalk, pgErrorListing } from './error-listing.js';

// The errors port on PostgreSQL: the listing reads (keyset pages, ids for bulk actions, counts,
// plans, step summaries) here; writing and reading single errors is the error rows' (PgErrorRows).

export type ErrorRowsPort = Pick<ErrorsPort, 'insertError' | 'getError' | 'errorKeys'>;

export class PgErrors implements ErrorsPort {
  constructor(
    private readonly session: PgSession,
    private readonly rows: ErrorRowsPort,
  ) {}

  insertError(...args: Parameters<ErrorsPort['insertError']>): ReturnType<ErrorsPort['insertError']> {
    return this.rows.insertError(...args);
  }

  getError(id: number): Promise<ErrorRow | undefined> {
    return this.rows.getError(id);
  }

  errorKeys(rowIds: readonly number[]): ReturnType<ErrorsPort['errorKeys']> {
    return this.rows.errorKeys(rowIds);
  }

  async listErrors(q: ErrorListQuery, ctx: QueryContext): Promise<ErrorRow[]> {
    const { sql, params } = await pgErrorListing(this.session, q, ctx);
    return (await this.session.query(sql, params)).map(toErrorRow);
  }

  async selectErrorIds(q: Omit<ErrorListQuery, 'limit'> & { limit?: number }, ctx: QueryContext): Promise<number[]> {
    const { sql, params } = await pgErrorListing(this.session, q, ctx, { idsOnly: true });
    return (await this.session.query<{ id: string | number }>(sql, params)).map((r) => Number(r.id));
  }

  async countErrors(q: Omit<ErrorListQuery, 'limit'>, ctx: QueryContext): Promise<number> {
    const { walk, p } = await compileWalk(this.session, q, ctx);
    const [row] = await this.session.query<{ n: string | number }>(`SELECT count(*) AS n FROM ${walk.from} WHERE ${walk.where.join(' AND ')}`, p.values);
    return Number(row!.n);
  }

  async explainListErrors(q: ErrorListQuery, ctx: QueryContext): Promise<string[]> {
    const { sql, params } = await pgErrorListing(this.session, q, ctx);
    return (await this.session.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${sql}`, params)).map((r) => r['QUERY PLAN']);
  }

  async stepErrorStats(step: number): Promise<StepErrorStats> {
    const [count] = await this.session.query<{ n: string }>('SELECT count(*) AS n FROM errors WHERE step = $1 AND resolved = false', [step]);
    const [last] = await this.session.query<{ id: string | number; occurred_at: string | number }>(
      'SELECT id, occurred_at FROM errors WHERE step = $1 AND resolved = false ORDER BY id DESC LIMIT 1',
      [step],
    );
    return { step, open: Number(count!.n), lastErrorId: num(last?.id), lastErrorAt: num(last?.occurred_at) };
  }

  async stepErrorFacets(step: number, field: 'classification' | 'code' | 'source'): Promise<Array<{ value: string; count: number }>> {
    const column = { classification: 'classification', code: 'code', source: 'source' }[field];
    const rows = await this.session.query<{ value: string; count: string }>(
      `SELECT coalesce(${column}, 'none') AS value, count(*) AS count FROM errors WHERE step = $1 AND resolved = false GROUP BY ${column} ORDER BY count DESC`,
      [step],
    );
    return rows.map((r) => ({ value: r.value, count: Number(r.count) }));
  }
}

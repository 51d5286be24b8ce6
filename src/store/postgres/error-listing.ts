import type { ErrorListQuery, IdRange, QueryContext } from '../contract/queries.js';
import type { QueryTerm } from '../../domain/query.js';
import type { PgSession } from './session.js';
import { compilePgErrorQuery, PgParams, type PgCompiledQuery, type PgQueryTimes } from './error-query.js';
import { ERROR_COLUMNS } from './error-columns.js';

// What a listing, a group count or an export walks on PostgreSQL: the driver (the step's errors,
// a tag's error_tags entries, or the errors.search matches) in id order by `key`, and the filters.
// since/until become a row-id range too (ids are handed out in time order, within a skew), so an
// old window is a seek, not a walk from the newest row; occurred_at is still compared exactly.

/** As SQLite's ID_TIME_SKEW_MS: how far an id may be out of occurred_at order. */
const ID_TIME_SKEW_MS = 60_000;

export interface PgWalk {
  from: string;
  key: string;
  where: string[];
}

/** The walk of a step's errors for compiled terms; its placeholders go into `p`. */
export function pgErrorWalk(step: number, resolved: boolean, compiled: PgCompiledQuery, p: PgParams): PgWalk {
  const where: string[] = [];
  let from = 'errors e';
  let key = 'e.id';
  if (compiled.driver?.kind === 'tag') {
    from = 'error_tags d JOIN errors e ON e.id = d.error';
    key = 'd.error';
    where.push(`d.tag = ${p.add(compiled.driver.code)}`, `d.step = ${p.add(step)}`, `d.resolved = ${p.add(resolved)}`);
  } else if (compiled.driver?.kind === 'text') {
    where.push(`e.search @@ to_tsquery('simple', ${p.add(compiled.driver.query)})`);
  }
  if (compiled.needsRetryData) from += ' LEFT JOIN retry_data r ON r.id = e.retry_data';
  where.push(`e.step = ${p.add(step)}`, `e.resolved = ${p.add(resolved)}`, ...compiled.where);
  return { from, key, where };
}

export function addPgIdRange(where: string[], p: PgParams, key: string, range: Pick<IdRange, 'lower' | 'upper'>): void {
  if (range.lower !== undefined) where.push(`${key} >= ${p.add(range.lower)}::bigint`);
  if (range.upper !== undefined) where.push(`${key} < ${p.add(range.upper)}::bigint`);
}

/** The smallest error row id whose occurred_at is at or after `time` (one past the last when none is), by binary search over ids. */
export async function firstErrorIdAt(session: PgSession, time: number): Promise<number> {
  const [top] = await session.query<{ last: string | number | null }>('SELECT max(id) AS last FROM errors');
  let lo = 1;
  let hi = Number(top?.last ?? 0) + 1;
  while (lo < hi) {
    const mid = lo + Math.floor((hi - lo) / 2);
    const [row] = await session.query<{ id: string | number; at: string | number }>(
      'SELECT id, occurred_at AS at FROM errors WHERE id >= $1 ORDER BY id LIMIT 1',
      [mid],
    );
    if (Number(row!.at) >= time) hi = mid;
    else lo = Number(row!.id) + 1; // no row between mid and row.id: the answer is past both
  }
  return lo;
}

/** The listing's cursor and its times as one row-id range of the walk. */
export async function pgIdRange(session: PgSession, q: Pick<ErrorListQuery, 'fromId' | 'beforeId'>, times: PgQueryTimes): Promise<IdRange> {
  const ascending = q.fromId !== undefined;
  let lower = q.fromId;
  let upper = ascending ? undefined : q.beforeId;
  if (times.since !== undefined) {
    const id = await firstErrorIdAt(session, times.since - ID_TIME_SKEW_MS);
    lower = Math.max(lower ?? id, id);
  }
  if (times.until !== undefined) {
    const id = await firstErrorIdAt(session, times.until + ID_TIME_SKEW_MS + 1);
    upper = Math.min(upper ?? id, id);
  }
  const range: IdRange = { ascending };
  if (lower !== undefined) range.lower = lower;
  if (upper !== undefined) range.upper = upper;
  return range;
}

export interface PgStatement {
  sql: string;
  params: unknown[];
}

/** A step's errors matching terms, compiled with their time range (the one async part: id bounds). */
export async function compileWalk(
  session: PgSession,
  q: { step: number; resolved: boolean; terms: readonly QueryTerm[]; fromId?: number | undefined; beforeId?: number | undefined },
  ctx: QueryContext,
): Promise<{ walk: PgWalk; range: IdRange; p: PgParams }> {
  const p = new PgParams();
  const compiled = compilePgErrorQuery(q.terms, ctx, p);
  const range = await pgIdRange(session, q, compiled);
  const walk = pgErrorWalk(q.step, q.resolved, compiled, p);
  addPgIdRange(walk.where, p, walk.key, range);
  return { walk, range, p };
}

/** The listing's statement: ErrorRow columns (or ids), id order, `limit` rows (none: no limit). */
export async function pgErrorListing(
  session: PgSession,
  q: Omit<ErrorListQuery, 'limit'> & { limit?: number },
  ctx: QueryContext,
  options: { idsOnly?: boolean } = {},
): Promise<PgStatement> {
  const { walk, range, p } = await compileWalk(session, q, ctx);
  const columns = options.idsOnly ? 'e.id' : ERROR_COLUMNS;
  const limit = q.limit !== undefined && q.limit >= 0 ? ` LIMIT ${p.add(q.limit)}` : '';
  const sql = `SELECT ${columns} FROM ${walk.from} WHERE ${walk.where.join(' AND ')} ORDER BY ${walk.key} ${range.ascending ? 'ASC' : 'DESC'}${limit}`;
  return { sql, params: p.values };
}

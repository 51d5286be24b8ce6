import type { CsvChunkQuery, QueryContext } from '../contract/queries.js';
import type { PgSession } from './session.js';
import { num } from './error-columns.js';
import { compilePgErrorQuery, PgParams } from './error-query.js';
import { addPgIdRange, pgErrorWalk } from './error-listing.js';

// The CSV export's reads on PostgreSQL: the rows of the SQLite adapter's csvChunkStatement (raw
// arrays in CSV_SLOTS order, after the step id for whole-flow exports and resolvedAt, resolvedBy
// for resolved ones), ascending from `fromId`, in batches of `chunk` from one server-side cursor
// (one snapshot for the whole export).

/** The CSV_SLOTS columns (records-repo.ts), each with whether it is a number to read as one. */
const CSV_COLUMNS: ReadonlyArray<[sql: string, numeric: boolean]> = [
  ['e.occurred_at', true],
  ['e.source', false],
  ['e.code', false],
  ['e.message', false],
  ['e.trace_key', false],
  ['e.retry_data_sec', true],
  ['e.trace_sec', true],
  ['e.o_index', false],
  ['e.retry_data', true],
  ['e.id', true],
  ['NULL::text', false],
  ['e.trace', true],
  ['e.purge_at', true],
  // As SQLite stores it: the JSON text of the codes (the exporter parses it).
  ['e.tags::text', false],
  ['e.assignee', false],
  ['e.assigned_by', false],
  ['e.assignee_user', true],
];

function tagsText(v: unknown): unknown {
  // jsonb prints `["a", "b"]`; SQLite holds JSON.stringify's `["a","b"]`.
  return typeof v === 'string' ? JSON.stringify(JSON.parse(v)) : v;
}

export async function* pgCsvRows(session: PgSession, q: CsvChunkQuery, ctx: QueryContext, fromId: number, chunk: number): AsyncIterable<unknown[][]> {
  const p = new PgParams();
  const lead: Array<[string, boolean]> = [];
  if (q.stepColumn !== undefined) lead.push([`${p.add(q.stepColumn)}::text`, false]);
  if (q.resolved) lead.push(['e.resolved_at', true], ['e.resolved_by', false]);
  const compiled = compilePgErrorQuery(q.terms, ctx, p);
  const walk = pgErrorWalk(q.step, q.resolved, compiled, p);
  addPgIdRange(walk.where, p, walk.key, { lower: fromId });
  const columns = [...lead, ...CSV_COLUMNS];
  const tagsAt = lead.length + 13;
  const select = columns.map(([sql], i) => `${sql} AS c${i}`).join(', ');
  const sql = `SELECT ${select} FROM ${walk.from} WHERE ${walk.where.join(' AND ')} ORDER BY ${walk.key} ASC`;
  for await (const batch of session.cursor<Record<string, unknown>>(sql, p.values, chunk)) {
    yield batch.map((row) =>
      columns.map(([, numeric], i) => {
        const v = row[`c${i}`];
        if (i === tagsAt) return tagsText(v);
        return numeric ? num(v) : (v ?? null);
      }),
    );
  }
}

import { describe, expect, it } from 'vitest';
import { encodeId } from '../../src/domain/ids.js';
import { parseQuery } from '../../src/domain/query.js';
import type { QueryContext } from '../../src/store/contract/queries.js';
import { compilePgErrorQuery, PgParams, tsQueryText } from '../../src/store/postgres/error-query.js';

// The query language compiled to PostgreSQL: placeholders in order, the same terms as SQLite's
// compiler; what the rows are is checked against SQLite in test/integration/pg-listing.test.ts.

const NOW = Date.UTC(2026, 0, 15, 12, 0, 0);
const ctx: QueryContext = {
  me: 'ana@acme.example',
  now: NOW,
  tagCodes: (v) => ({ investigating: ['investigating'], Investigating: ['investigating'], 'n*': ['needs_review', 'new'] } as Record<string, string[]>)[v] ?? [],
};

function compile(text: string, offset = 0) {
  const p = new PgParams();
  for (let i = 0; i < offset; i++) p.add(i);
  const compiled = compilePgErrorQuery(parseQuery(text).terms, ctx, p);
  return { ...compiled, params: p.values.slice(offset) };
}

describe('compilePgErrorQuery', () => {
  it('numbers placeholders after those already taken', () => {
    const c = compile('code:429 source:connection', 2);
    expect(c.where).toEqual(['e.code = $3', 'e.source = $4']);
    expect(c.params).toEqual(['429', 'connection']);
  });

  it('compiles wildcards to ILIKE with an escape, and keeps empty columns under negation', () => {
    const c = compile('code:4_2* !source:connection !traceKey:a%b?');
    expect(c.where).toEqual([
      "coalesce(e.code, '') ILIKE $1 ESCAPE '\\'",
      'NOT (e.source IS NOT DISTINCT FROM $2)',
      "NOT (coalesce(e.trace_key, '') ILIKE $3 ESCAPE '\\')",
    ]);
    expect(c.params).toEqual(['4\\_2%', 'connection', 'a\\%b_']);
  });

  it('compares assignees without case; me and none', () => {
    expect(compile('assignee:me').where).toEqual(['lower(e.assignee) = lower($1)']);
    expect(compile('assignee:me').params).toEqual(['ana@acme.example']);
    expect(compile('assignee:none').where).toEqual(['e.assignee IS NULL']);
    expect(compile('!assignee:none').where).toEqual(['NOT (e.assignee IS NULL)']);
    expect(compile('!assignee:Ben@x').where).toEqual(['NOT (lower(e.assignee) IS NOT DISTINCT FROM lower($1))']);
  });

  it('lets the first single tag or text drive, and the rest filter', () => {
    const c = compile('tag:Investigating tag:n* timed');
    expect(c.driver).toEqual({ kind: 'tag', code: 'investigating' });
    expect(c.where).toEqual([
      'e.id IN (SELECT t.error FROM error_tags t WHERE t.tag = ANY($1::text[]) AND t.step = e.step AND t.resolved = e.resolved)',
      "e.search @@ to_tsquery('simple', $2)",
    ]);
    expect(c.params).toEqual([['needs_review', 'new'], 'timed:*']);
    expect(compile('"timed out" !tag:investigating').driver).toEqual({ kind: 'text', query: 'timed <-> out' });
    expect(() => compile('tag:nope')).toThrow(/unknown tag "nope"/);
  });

  it('turns text into FTS5-like tsqueries: one word a prefix, words a phrase', () => {
    expect(tsQueryText('Timed')).toBe('timed:*');
    expect(tsQueryText('timed out')).toBe('timed <-> out');
    expect(tsQueryText('customer_email')).toBe('customer <-> email:*');
    expect(tsQueryText('127.0.0.1:40001')).toBe('127 <-> 0 <-> 0 <-> 1 <-> 40001');
    expect(tsQueryText("it's")).toBe('it <-> s');
    expect(() => tsQueryText('--')).toThrow(/has no words/);
  });

  it('reads data paths from jsonb, strings exactly and anything by wildcard', () => {
    const c = compile('data.customer.email:x@y data.items[0].sku:A* !data.a:1');
    expect(c.needsRetryData).toBe(true);
    expect(c.where).toEqual([
      '(r.data::jsonb #> $1::text[]) = to_jsonb($2::text)',
      "coalesce(CASE jsonb_typeof((r.data::jsonb #> $3::text[])) WHEN 'boolean' THEN ((r.data::jsonb #> $3::text[]) = 'true'::jsonb)::int::text ELSE (r.data::jsonb #> $3::text[]) #>> '{}' END, '') ILIKE $4 ESCAPE '\\'",
      'NOT ((r.data::jsonb #> $5::text[]) IS NOT DISTINCT FROM to_jsonb($6::text))',
    ]);
    expect(c.params).toEqual([['customer', 'email'], 'x@y', ['items', '0', 'sku'], 'A%', ['a'], '1']);
  });

  it('gives since/until as bounds and comparisons; ids decode to row ids', () => {
    const c = compile('since:2026-01-10 until:2026-01-12 since:2026-01-11');
    expect(c.since).toBe(Date.UTC(2026, 0, 11));
    expect(c.until).toBe(Date.UTC(2026, 0, 12));
    expect(c.where).toEqual(['e.occurred_at >= $1', 'e.occurred_at <= $2', 'e.occurred_at >= $3']);
    const job = encodeId('job', 42, NOW);
    expect(compile(`job:${job}`).where).toEqual(['e.job = $1']);
    expect(compile(`job:${job}`).params).toEqual([42]);
    expect(compile('errorId:nothex').params).toEqual([-1]);
    expect(() => compile('job:nothex')).toThrow(/is not a job id/);
    expect(compile('retryable:yes').where).toEqual(['e.retry_data IS NOT NULL']);
    expect(compile('!retryable:yes').where).toEqual(['NOT (e.retry_data IS NOT NULL)']);
  });

  it('compares signatures as numbers', () => {
    expect(compile('sig:00000000000f').where).toEqual(['e.sig = $1']);
    expect(compile('sig:00000000000f').params).toEqual([15]);
    expect(() => compile('sig:xyz')).toThrow(/invalid signature/);
  });
});

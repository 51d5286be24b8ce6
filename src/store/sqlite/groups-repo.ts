import type { QueryTerm } from '../../domain/query.js';
import { messageTemplate } from '../../domain/signature.js';

/** Whether every error of one signature passes or fails the term alike (the signature fixes its column). */
function fixedBySignature(t: QueryTerm): boolean {
  return t.kind === 'field' && (t.field === 'code' || t.field === 'source' || t.field === 'classification' || t.field === 'sig');
}
import { compileErrorQuery, type IndexedTerm, type QueryContext, type QueryTimes } from './error-query.js';
import { addIdRange, errorWalk, idRange, type SqliteCore } from './core.js';
import type { GroupQuery, GroupCount, GroupDetail } from '../contract/queries.js';
export type { GroupQuery, GroupCount, GroupDetail } from '../contract/queries.js';

// The SQL of error groups: a step's (optionally filtered) errors counted per signature. Unfiltered,
// `GROUP BY sig` over `step = ? AND resolved = ?` is one pass over ix_errors_sig (step, resolved, sig,
// rowid) that reads no row: the count, the oldest and the newest row id of every group come from the
// index, in sig order, so no sort either. A filter walks what a listing with it walks, except terms
// that a signature decides (code, source, classification, sig), which are checked once per group.
// Only the groups shown are then looked up (their signature row, their newest and oldest error): a
// handful of seeks.




export class GroupsRepo {
  constructor(private readonly store: SqliteCore) {}

  /**
   * Every group of the step's errors matching the terms, with counts; in no particular order.
   * Terms on what a signature fixes (code, source, classification, sig) are decided per group from
   * error_sigs instead of per error, so they cost nothing; the other terms are walked as a listing
   * walks them, and then the groups come with their oldest and newest row ids too.
   */
  countGroups(q: GroupQuery, ctx: QueryContext): GroupCount[] {
    const fixed = q.terms.filter(fixedBySignature);
    const rest = q.terms.filter((t) => !fixedBySignature(t));
    const { sql, params } = this.groupSql({ ...q, terms: rest }, ctx);
    let groups = (this.store.stmt(sql).all(...params) as Array<{ sig: number | null; n: number; lo?: number; hi?: number }>).map((r) => {
      const g: GroupCount = { sig: r.sig, count: r.n };
      if (r.lo !== undefined && r.hi !== undefined) {
        g.firstId = r.lo;
        g.lastId = r.hi;
      }
      return g;
    });
    if (fixed.length > 0) {
      const allowed = this.signaturesMatching(q.step, fixed, ctx);
      groups = groups.filter((g) => g.sig !== null && allowed.has(g.sig));
    }
    return groups;
  }

  /** The group's oldest and newest row ids: those countGroups gave, or two seeks of ix_errors_sig. */
  edges(step: number, resolved: boolean, g: GroupCount & { sig: number }): { firstId: number; lastId: number } | undefined {
    if (g.firstId !== undefined && g.lastId !== undefined) return { firstId: g.firstId, lastId: g.lastId };
    const seek = (dir: 'ASC' | 'DESC') =>
      this.store.stmt(`SELECT id FROM errors WHERE step = ? AND resolved = ? AND sig = ? ORDER BY id ${dir} LIMIT 1`).pluck().get(step, resolved ? 1 : 0, g.sig) as number | undefined;
    const firstId = seek('ASC');
    const lastId = seek('DESC');
    return firstId !== undefined && lastId !== undefined ? { firstId, lastId } : undefined;
  }

  /** The step's signatures whose parts pass the terms (each a code/source/classification/sig term). */
  private signaturesMatching(step: number, terms: readonly QueryTerm[], ctx: QueryContext): Set<number> {
    // Compiled without an index choice, each term is a plain comparison of e.<column>: run here over
    // error_sigs under the same names, so the terms mean exactly what they mean for errors.
    const compiled = compileErrorQuery(terms, ctx, { step });
    const sql = `SELECT e.sig FROM (SELECT id AS sig, code, source, classification FROM error_sigs WHERE step = ?) e WHERE ${compiled.where.join(' AND ')}`;
    return new Set(this.store.stmt(sql).pluck().all(step, ...compiled.params) as number[]);
  }

  /** The query plan of countGroups, for tests that prove it reads no error row. */
  explainCountGroups(q: GroupQuery, ctx: QueryContext): string[] {
    const { sql, params } = this.groupSql(q, ctx);
    return (this.store.db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params) as Array<{ detail: string }>).map((r) => r.detail);
  }

  /** What a group shows: its signature's parts and its first and last error in the set counted. */
  detail(group: { sig: number; firstId: number; lastId: number }): GroupDetail | undefined {
    const sig = this.store.stmt('SELECT step, code, source, classification, template, first_at FROM error_sigs WHERE id = ?').get(group.sig) as
      | { step: number; code: string; source: string; classification: string | null; template: string; first_at: number }
      | undefined;
    const last = this.store.stmt('SELECT occurred_at, message FROM errors WHERE id = ?').get(group.lastId) as { occurred_at: number; message: string } | undefined;
    const first = this.store.stmt('SELECT occurred_at FROM errors WHERE id = ?').pluck().get(group.firstId) as number | undefined;
    if (!last || first === undefined) return undefined;
    // No signature row (its writer's transaction rolled back after another had used it): the
    // group's own errors say the same, so it is described from them and never hidden.
    const parts = sig ?? this.partsFromErrors(group.lastId, first);
    if (!parts) return undefined;
    return {
      sig: group.sig,
      step: parts.step,
      code: parts.code,
      source: parts.source,
      classification: parts.classification,
      template: parts.template,
      firstRecordedAt: parts.first_at,
      firstAt: first,
      lastAt: last.occurred_at,
      sampleMessage: last.message,
    };
  }

  private partsFromErrors(lastId: number, firstAt: number): { step: number; code: string; source: string; classification: string | null; template: string; first_at: number } | undefined {
    const r = this.store.stmt('SELECT step, code, source, classification, message FROM errors WHERE id = ?').get(lastId) as
      | { step: number; code: string; source: string; classification: string | null; message: string }
      | undefined;
    return r ? { step: r.step, code: r.code, source: r.source, classification: r.classification, template: messageTemplate(r.message), first_at: firstAt } : undefined;
  }

  private groupSql(q: GroupQuery, ctx: QueryContext): { sql: string; params: unknown[] } {
    const stats = this.store;
    let range: ReturnType<typeof idRange> | undefined;
    const rangeFor = (times: QueryTimes) => (range ??= idRange({}, times, stats));
    const compiled = compileErrorQuery(q.terms, ctx, {
      step: q.step,
      pickIndexedDriver: (terms: readonly IndexedTerm[], times: QueryTimes) => stats.sparsestIndexedTerm(q.step, q.resolved, terms, rangeFor(times)),
    });
    const { lower, upper } = rangeFor(compiled);
    const walk = errorWalk(q.step, q.resolved, compiled);
    const { key, where, params } = walk;
    // A time window is a row-id range of ix_errors_step: walking only it (and sorting its groups)
    // beats walking the whole step in sig order, which the planner would pick to save the sort.
    const from = walk.from === 'errors e' && (lower !== undefined || upper !== undefined) ? 'errors e INDEXED BY ix_errors_step' : walk.from;
    addIdRange(where, params, key, lower, upper);
    // Unfiltered, counting alone is one index-only pass (min/max per row would cost as much again);
    // the few groups shown get their edges by seeks (edges()).
    const columns = q.terms.length === 0 ? 'e.sig AS sig, count(*) AS n' : 'e.sig AS sig, count(*) AS n, min(e.id) AS lo, max(e.id) AS hi';
    return { sql: `SELECT ${columns} FROM ${from} WHERE ${where.join(' AND ')} GROUP BY e.sig`, params };
  }
}

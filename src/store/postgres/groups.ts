import type { QueryTerm } from '../../domain/query.js';
import { messageTemplate } from '../../domain/signature.js';
import type { GroupsPort } from '../contract/ports.js';
import type { GroupCount, GroupDetail, GroupQuery, QueryContext } from '../contract/queries.js';
import type { PgSession } from './session.js';
import { compilePgErrorQuery, PgParams } from './error-query.js';
import { compileWalk, type PgStatement } from './error-listing.js';
import { num } from './error-columns.js';

// Error groups on PostgreSQL, as the SQLite adapter's GroupsRepo counts them: a step's errors
// matching the terms counted per signature; terms a signature decides (code, source,
// classification, sig) are checked once per group against error_sigs. Unfiltered, the count is one
// pass over ix_errors_sig (step, resolved, sig, id), an index-only scan once the table is vacuumed.

/** Whether every error of one signature passes or fails the term alike (the signature fixes its column). */
function fixedBySignature(t: QueryTerm): boolean {
  return t.kind === 'field' && (t.field === 'code' || t.field === 'source' || t.field === 'classification' || t.field === 'sig');
}

type SigParts = { step: number; code: string; source: string; classification: string | null; template: string; first_at: number };

export class PgGroups implements GroupsPort {
  constructor(private readonly session: PgSession) {}

  async countGroups(q: GroupQuery, ctx: QueryContext): Promise<GroupCount[]> {
    const fixed = q.terms.filter(fixedBySignature);
    const rest = q.terms.filter((t) => !fixedBySignature(t));
    const { sql, params } = await this.groupSql({ ...q, terms: rest }, ctx);
    const rows = await this.session.query<{ sig: string | number | null; n: string; lo?: string | number; hi?: string | number }>(sql, params);
    let groups = rows.map((r) => {
      const g: GroupCount = { sig: num(r.sig), count: Number(r.n) };
      if (r.lo !== undefined && r.hi !== undefined) {
        g.firstId = Number(r.lo);
        g.lastId = Number(r.hi);
      }
      return g;
    });
    if (fixed.length > 0) {
      const allowed = await this.signaturesMatching(q.step, fixed, ctx);
      groups = groups.filter((g) => g.sig !== null && allowed.has(g.sig));
    }
    return groups;
  }

  async edges(step: number, resolved: boolean, g: GroupCount & { sig: number }): Promise<{ firstId: number; lastId: number } | undefined> {
    if (g.firstId !== undefined && g.lastId !== undefined) return { firstId: g.firstId, lastId: g.lastId };
    const seek = async (dir: 'ASC' | 'DESC') => {
      const [row] = await this.session.query<{ id: string | number }>(
        `SELECT id FROM errors WHERE step = $1 AND resolved = $2 AND sig = $3 ORDER BY id ${dir} LIMIT 1`,
        [step, resolved, g.sig],
      );
      return num(row?.id) ?? undefined;
    };
    const firstId = await seek('ASC');
    const lastId = await seek('DESC');
    return firstId !== undefined && lastId !== undefined ? { firstId, lastId } : undefined;
  }

  async explainCountGroups(q: GroupQuery, ctx: QueryContext): Promise<string[]> {
    const { sql, params } = await this.groupSql(q, ctx);
    return (await this.session.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${sql}`, params)).map((r) => r['QUERY PLAN']);
  }

  async detail(group: { sig: number; firstId: number; lastId: number }): Promise<GroupDetail | undefined> {
    const [sig] = await this.session.query<Record<string, unknown>>(
      'SELECT step, code, source, classification, template, first_at FROM error_sigs WHERE id = $1',
      [group.sig],
    );
    const [last] = await this.session.query<{ occurred_at: string | number; message: string }>('SELECT occurred_at, message FROM errors WHERE id = $1', [group.lastId]);
    const [first] = await this.session.query<{ occurred_at: string | number }>('SELECT occurred_at FROM errors WHERE id = $1', [group.firstId]);
    if (!last || !first) return undefined;
    // No signature row (its writer's transaction rolled back after another had used it): the
    // group's own errors say the same, so it is described from them and never hidden.
    const parts: SigParts | undefined = sig
      ? {
          step: Number(sig.step),
          code: sig.code as string,
          source: sig.source as string,
          classification: (sig.classification as string | null) ?? null,
          template: sig.template as string,
          first_at: Number(sig.first_at),
        }
      : await this.partsFromErrors(group.lastId, Number(first.occurred_at));
    if (!parts) return undefined;
    return {
      sig: group.sig,
      step: parts.step,
      code: parts.code,
      source: parts.source,
      classification: parts.classification,
      template: parts.template,
      firstRecordedAt: parts.first_at,
      firstAt: Number(first.occurred_at),
      lastAt: Number(last.occurred_at),
      sampleMessage: last.message,
    };
  }

  private async partsFromErrors(lastId: number, firstAt: number): Promise<SigParts | undefined> {
    const [r] = await this.session.query<{ step: string | number; code: string; source: string; classification: string | null; message: string }>(
      'SELECT step, code, source, classification, message FROM errors WHERE id = $1',
      [lastId],
    );
    return r ? { step: Number(r.step), code: r.code, source: r.source, classification: r.classification, template: messageTemplate(r.message), first_at: firstAt } : undefined;
  }

  /** The step's signatures whose parts pass the terms (each a code/source/classification/sig term). */
  private async signaturesMatching(step: number, terms: readonly QueryTerm[], ctx: QueryContext): Promise<Set<number>> {
    // Each term is a plain comparison of e.<column>: run over error_sigs under the same names.
    const p = new PgParams();
    const stepParam = p.add(step);
    const compiled = compilePgErrorQuery(terms, ctx, p);
    const sql = `SELECT e.sig FROM (SELECT id AS sig, code, source, classification FROM error_sigs WHERE step = ${stepParam}) e WHERE ${compiled.where.join(' AND ')}`;
    return new Set((await this.session.query<{ sig: string | number }>(sql, p.values)).map((r) => Number(r.sig)));
  }

  private async groupSql(q: GroupQuery, ctx: QueryContext): Promise<PgStatement> {
    const { walk, p } = await compileWalk(this.session, q, ctx);
    // Unfiltered, counting alone is one index pass; the few groups shown get their edges by seeks (edges()).
    const columns = q.terms.length === 0 ? 'e.sig AS sig, count(*) AS n' : 'e.sig AS sig, count(*) AS n, min(e.id) AS lo, max(e.id) AS hi';
    return { sql: `SELECT ${columns} FROM ${walk.from} WHERE ${walk.where.join(' AND ')} GROUP BY e.sig`, params: p.values };
  }
}

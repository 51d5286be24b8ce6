import { SUPERSEDED_BY } from '../contract/rows.js';
import type { TriagePort } from '../contract/ports.js';
import type { TagChange, TagRow, TouchedError } from '../contract/queries.js';
import type { PgSession } from './session.js';
import type { Raw } from './rows.js';

// The triage mutations on PostgreSQL, as the SQLite adapter's TriageRepo does them: batches of at
// most BATCH row ids (one bigint[] parameter each), guarded on the state they expect, RETURNING
// exactly the rows they changed; errors.tags (jsonb) and error_tags are changed together.

const BATCH = 1000;

const touched = (r: Raw): TouchedError => ({ id: r.id as number, occurredAt: r.occurred_at as number, resolved: r.resolved === true });

function chunks<T>(items: readonly T[], size = BATCH): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** The tags of errors.tags in their order, with their positions. */
const CURRENT = `jsonb_array_elements_text(coalesce(errors.tags, '[]'::jsonb)) WITH ORDINALITY`;

export class PgTriage implements TriagePort {
  constructor(private readonly session: PgSession) {}

  async userByEmail(email: string): Promise<{ id: number; email: string; name: string | null } | undefined> {
    const [r] = await this.session.query<{ id: number; email: string; name: string | null }>('SELECT id, email, name FROM users WHERE lower(email) = lower($1)', [email]);
    return r;
  }

  assign(rowIds: readonly number[], assignee: { email: string; userId: number }, assignedBy: string): Promise<TouchedError[]> {
    return this.each(rowIds, (ids) =>
      this.session.query(
        `UPDATE errors SET assignee = $1, assigned_by = $2, assignee_user = $3
         WHERE id = ANY($4::bigint[]) AND resolved = false RETURNING id, occurred_at, resolved`,
        [assignee.email, assignedBy, assignee.userId, ids],
      ),
    );
  }

  unassign(rowIds: readonly number[]): Promise<TouchedError[]> {
    return this.each(rowIds, (ids) =>
      this.session.query(
        `UPDATE errors SET assignee = NULL, assigned_by = NULL, assignee_user = NULL
         WHERE id = ANY($1::bigint[]) AND resolved = false AND (assignee IS NOT NULL OR assignee_user IS NOT NULL) RETURNING id, occurred_at, resolved`,
        [ids],
      ),
    );
  }

  resolve(rowIds: readonly number[], at: number, by: string): Promise<TouchedError[]> {
    return this.each(rowIds, async (ids) => {
      const rows = await this.session.query(
        `UPDATE errors SET resolved = true, resolved_at = $1, resolved_by = $2, retry_at = NULL
         WHERE id = ANY($3::bigint[]) AND resolved = false RETURNING id, occurred_at, resolved, tags IS NOT NULL AS tagged`,
        [at, by, ids],
      );
      const tagged = rows.filter((r) => r.tagged === true).map((r) => r.id);
      if (tagged.length > 0) await this.session.execute('UPDATE error_tags SET resolved = true WHERE error = ANY($1::bigint[]) AND resolved = false', [tagged]);
      return rows;
    });
  }

  superseded(rowIds: readonly number[]): Promise<TouchedError[]> {
    return this.each(rowIds, (ids) =>
      this.session.query('SELECT id, occurred_at, resolved FROM errors WHERE id = ANY($1::bigint[]) AND resolved_by = $2 ORDER BY id', [ids, SUPERSEDED_BY]),
    );
  }

  reopen(rowIds: readonly number[]): Promise<TouchedError[]> {
    // A superseded error stays resolved: its record lives on in the newer error that replaced it.
    return this.each(rowIds, async (ids) => {
      const rows = await this.session.query(
        `UPDATE errors SET resolved = false, resolved_at = NULL, resolved_by = NULL
         WHERE id = ANY($1::bigint[]) AND resolved = true AND resolved_by IS DISTINCT FROM $2 RETURNING id, occurred_at, resolved, tags IS NOT NULL AS tagged`,
        [ids, SUPERSEDED_BY],
      );
      const tagged = rows.filter((r) => r.tagged === true).map((r) => r.id);
      if (tagged.length > 0) await this.session.execute('UPDATE error_tags SET resolved = false WHERE error = ANY($1::bigint[]) AND resolved = true', [tagged]);
      return rows;
    });
  }

  /** Deletes resolved errors (their tag rows by cascade) and the traces and snapshots nothing else uses. */
  deleteResolved(rowIds: readonly number[]): Promise<TouchedError[]> {
    return this.each(rowIds, async (ids) => {
      const rows = await this.session.query(
        'DELETE FROM errors WHERE id = ANY($1::bigint[]) AND resolved = true RETURNING id, occurred_at, resolved, trace, retry_data',
        [ids],
      );
      if (rows.length === 0) return rows;
      const traceIds = [...new Set(rows.map((r) => r.trace).filter((t) => t !== null))];
      if (traceIds.length > 0) {
        await this.session.execute('DELETE FROM traces WHERE id = ANY($1::bigint[]) AND NOT EXISTS (SELECT 1 FROM errors WHERE trace = traces.id)', [traceIds]);
      }
      const dataIds = [...new Set(rows.map((r) => r.retry_data).filter((d) => d !== null))];
      if (dataIds.length > 0) {
        // Durable retry jobs keep their items' snapshots for as long as the job's history is kept.
        await this.session.execute(
          `DELETE FROM retry_data WHERE id = ANY($1::bigint[]) AND NOT EXISTS (SELECT 1 FROM errors WHERE retry_data = retry_data.id)
             AND NOT EXISTS (SELECT 1 FROM retry_items WHERE retry_data = retry_data.id)`,
          [dataIds],
        );
      }
      return rows;
    });
  }

  setTags(rowIds: readonly number[], change: TagChange): Promise<TouchedError[]> {
    return this.each(rowIds, async (ids) => {
      if (change.set !== undefined) {
        const tags = change.set.length > 0 ? JSON.stringify(change.set) : null;
        await this.session.execute('UPDATE errors SET tags = $1::jsonb WHERE id = ANY($2::bigint[]) AND tags IS DISTINCT FROM $1::jsonb', [tags, ids]);
        await this.session.execute('DELETE FROM error_tags WHERE error = ANY($1::bigint[]) AND NOT (tag = ANY($2::text[]))', [ids, change.set]);
        if (change.set.length > 0) await this.addTagRows(ids, change.set);
      } else {
        const remove = change.remove ?? [];
        const add = change.add ?? [];
        // Per error: its tags minus `remove`, in their order, then those of `add` it lacks; none → NULL.
        await this.session.execute(
          `UPDATE errors SET tags = (
             SELECT CASE WHEN count(*) = 0 THEN NULL ELSE jsonb_agg(v ORDER BY k, o) END FROM (
               SELECT c.v, 0 AS k, c.o FROM ${CURRENT} AS c(v, o) WHERE NOT (c.v = ANY($2::text[]))
               UNION ALL
               SELECT a.v, 1, a.o FROM unnest($3::text[]) WITH ORDINALITY AS a(v, o)
                 WHERE NOT (a.v = ANY($2::text[])) AND NOT EXISTS (SELECT 1 FROM ${CURRENT} AS c(v, o) WHERE c.v = a.v)
             ) x
           ) WHERE id = ANY($1::bigint[])
             AND (EXISTS (SELECT 1 FROM ${CURRENT} AS c(v, o) WHERE c.v = ANY($2::text[]))
               OR EXISTS (SELECT 1 FROM unnest($3::text[]) AS a(v) WHERE NOT EXISTS (SELECT 1 FROM ${CURRENT} AS c(v, o) WHERE c.v = a.v)))`,
          [ids, remove, add],
        );
        if (remove.length > 0) await this.session.execute('DELETE FROM error_tags WHERE error = ANY($1::bigint[]) AND tag = ANY($2::text[])', [ids, remove]);
        if (add.length > 0) await this.addTagRows(ids, add);
      }
      return this.session.query('SELECT id, occurred_at, resolved FROM errors WHERE id = ANY($1::bigint[]) ORDER BY id', [ids]);
    });
  }

  private async addTagRows(ids: number[], codes: readonly string[]): Promise<void> {
    await this.session.execute(
      `INSERT INTO error_tags (tag, step, resolved, error)
       SELECT DISTINCT t.code, e.step, e.resolved, e.id FROM errors e, unnest($2::text[]) AS t(code) WHERE e.id = ANY($1::bigint[])
       ON CONFLICT DO NOTHING`,
      [ids, codes],
    );
  }

  async tags(): Promise<Array<TagRow & { open: number; resolved: number }>> {
    const tags = await this.session.query<{ code: string; name: string; created_at: number }>('SELECT code, name, created_at FROM tags ORDER BY lower(name), name');
    const out: Array<TagRow & { open: number; resolved: number }> = [];
    for (const t of tags) {
      const byState = await this.session.query<{ resolved: boolean; n: number }>('SELECT resolved, count(*) AS n FROM error_tags WHERE tag = $1 GROUP BY resolved', [t.code]);
      out.push({
        code: t.code,
        name: t.name,
        createdAt: t.created_at,
        open: byState.find((c) => !c.resolved)?.n ?? 0,
        resolved: byState.find((c) => c.resolved)?.n ?? 0,
      });
    }
    return out;
  }

  async findTag(ref: string): Promise<TagRow | undefined> {
    return (await this.tagByCode(ref.toUpperCase())) ?? this.tagByName(ref);
  }

  async tagByCode(code: string): Promise<TagRow | undefined> {
    const [r] = await this.session.query<{ code: string; name: string; created_at: number }>('SELECT code, name, created_at FROM tags WHERE code = $1', [code]);
    return r ? { code: r.code, name: r.name, createdAt: r.created_at } : undefined;
  }

  /** Names are unique regardless of case (SQLite: COLLATE NOCASE; here a unique index on lower(name)). */
  async tagByName(name: string): Promise<TagRow | undefined> {
    const [r] = await this.session.query<{ code: string; name: string; created_at: number }>('SELECT code, name, created_at FROM tags WHERE lower(name) = lower($1)', [name]);
    return r ? { code: r.code, name: r.name, createdAt: r.created_at } : undefined;
  }

  async createTag(code: string, name: string, at: number): Promise<void> {
    await this.session.execute('INSERT INTO tags (code, name, created_at) VALUES ($1, $2, $3)', [code, name, at]);
  }

  async deleteTag(code: string): Promise<number> {
    const carriers = (await this.session.query<{ error: number }>('SELECT error FROM error_tags WHERE tag = $1', [code])).map((r) => r.error);
    for (const batch of chunks(carriers)) {
      await this.session.execute(
        `UPDATE errors SET tags = (
           SELECT CASE WHEN count(*) = 0 THEN NULL ELSE jsonb_agg(c.v ORDER BY c.o) END FROM ${CURRENT} AS c(v, o) WHERE c.v <> $1
         ) WHERE id = ANY($2::bigint[])`,
        [code, batch],
      );
    }
    await this.session.execute('DELETE FROM error_tags WHERE tag = $1', [code]);
    await this.session.execute('DELETE FROM tags WHERE code = $1', [code]);
    return carriers.length;
  }

  async tagCatalog(): Promise<Array<{ code: string; name: string }>> {
    return this.session.query('SELECT code, name FROM tags ORDER BY lower(name), name');
  }

  async users(): Promise<Array<{ id: number; email: string; name: string | null; synthetic: boolean; createdAt: number }>> {
    const rows = await this.session.query<{ id: number; email: string; name: string | null; synthetic: boolean; created_at: number }>(
      'SELECT * FROM users ORDER BY lower(email), email',
    );
    return rows.map((r) => ({ id: r.id, email: r.email, name: r.name, synthetic: r.synthetic, createdAt: r.created_at }));
  }

  async upsertUser(email: string, name: string | null, synthetic: boolean, at: number): Promise<number> {
    for (;;) {
      const [existing] = await this.session.query<{ id: number }>('SELECT id FROM users WHERE lower(email) = lower($1)', [email]);
      if (existing) {
        if (!synthetic) await this.session.execute('UPDATE users SET name = coalesce($1, name), synthetic = false WHERE id = $2', [name, existing.id]);
        return existing.id;
      }
      // Another process may insert the same email meanwhile: then its row is the one.
      const [inserted] = await this.session.query<{ id: number }>(
        'INSERT INTO users (email, name, synthetic, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING RETURNING id',
        [email, name, synthetic, at],
      );
      if (inserted) return inserted.id;
    }
  }

  private async each(rowIds: readonly number[], fn: (batch: number[]) => Promise<Raw[]>): Promise<TouchedError[]> {
    const out: TouchedError[] = [];
    for (const batch of chunks(rowIds)) {
      // Ascending ids within a batch, as SQLite walks an `IN (json_each…)` list.
      const rows = (await fn(batch)).map(touched).sort((a, b) => a.id - b.id);
      out.push(...rows);
    }
    return out;
  }
}

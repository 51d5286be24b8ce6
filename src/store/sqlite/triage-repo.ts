import type { Statement } from 'better-sqlite3';
import { SUPERSEDED_BY } from '../contract/rows.js';
import type { SqliteCore } from './core.js';
import type { TouchedError, TagRow, TagChange } from '../contract/queries.js';
export type { TouchedError, TagRow, TagChange } from '../contract/queries.js';

// SQL of the triage mutations: assign, unassign, tag, resolve, reopen, delete resolved, and the tag
// catalog. Every bulk statement works on a batch of at most BATCH row ids passed as one JSON array
// (`id IN (SELECT value FROM json_each(?))`), so 100k errors are 100 set-based statements, not 100k
// row-by-row ones. Callers wrap a whole command in one transaction: a failure in any batch changes
// nothing. Statements guard on the state they expect (`resolved = 0`…) and RETURNING reports
// exactly the rows they changed.

export const BATCH = 1000;




type Raw = Record<string, unknown>;

const touched = (r: Raw): TouchedError => ({ id: r.id as number, occurredAt: r.occurred_at as number, resolved: r.resolved === 1 });

function chunks<T>(items: readonly T[], size = BATCH): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

const IDS = 'SELECT value FROM json_each(?)';

export class TriageRepo {
  private retryItemsTable: boolean | undefined;

  constructor(private readonly store: SqliteCore) {}

  // ---- assignment ---------------------------------------------------------------------------

  userByEmail(email: string): { id: number; email: string; name: string | null } | undefined {
    return this.store.stmt('SELECT id, email, name FROM users WHERE email = ?').get(email) as { id: number; email: string; name: string | null } | undefined;
  }

  /** Sets the assignee of the open errors among `rowIds`. */
  assign(rowIds: readonly number[], assignee: { email: string; userId: number }, assignedBy: string): TouchedError[] {
    const stmt = this.store.stmt(`UPDATE errors SET assignee = ?, assigned_by = ?, assignee_user = ?
      WHERE id IN (${IDS}) AND resolved = 0 RETURNING id, occurred_at, resolved`);
    return this.each(rowIds, (batch) => stmt.all(assignee.email, assignedBy, assignee.userId, batch) as Raw[]);
  }

  /** Clears the assignee of the open errors among `rowIds` that have one. */
  unassign(rowIds: readonly number[]): TouchedError[] {
    const stmt = this.store.stmt(`UPDATE errors SET assignee = NULL, assigned_by = NULL, assignee_user = NULL
      WHERE id IN (${IDS}) AND resolved = 0 AND (assignee IS NOT NULL OR assignee_user IS NOT NULL) RETURNING id, occurred_at, resolved`);
    return this.each(rowIds, (batch) => stmt.all(batch) as Raw[]);
  }

  // ---- resolve, reopen, delete --------------------------------------------------------------

  /** Moves the open errors among `rowIds` to resolved; they leave the automatic-retry schedule. */
  resolve(rowIds: readonly number[], at: number, by: string): TouchedError[] {
    const update = this.store.stmt(`UPDATE errors SET resolved = 1, resolved_at = ?, resolved_by = ?, retry_at = NULL
      WHERE id IN (${IDS}) AND resolved = 0 RETURNING id, occurred_at, resolved, tags IS NOT NULL AS tagged`);
    const tags = this.store.stmt(`UPDATE error_tags SET resolved = 1 WHERE error IN (${IDS}) AND resolved = 0`);
    return this.each(rowIds, (batch) => {
      const rows = update.all(at, by, batch) as Raw[];
      const tagged = rows.filter((r) => r.tagged === 1).map((r) => r.id);
      if (tagged.length > 0) tags.run(JSON.stringify(tagged));
      return rows;
    });
  }

  /** Those of `rowIds` that a failed retry superseded. */
  superseded(rowIds: readonly number[]): TouchedError[] {
    const stmt = this.store.stmt(`SELECT id, occurred_at, resolved FROM errors WHERE id IN (${IDS}) AND resolved_by = '${SUPERSEDED_BY}'`);
    return this.each(rowIds, (batch) => stmt.all(batch) as Raw[]);
  }

  /** Moves the resolved errors among `rowIds` back to open. */
  reopen(rowIds: readonly number[]): TouchedError[] {
    // A superseded error stays resolved: its record lives on in the newer error that replaced it.
    const update = this.store.stmt(`UPDATE errors SET resolved = 0, resolved_at = NULL, resolved_by = NULL
      WHERE id IN (${IDS}) AND resolved = 1 AND resolved_by IS NOT '${SUPERSEDED_BY}' RETURNING id, occurred_at, resolved, tags IS NOT NULL AS tagged`);
    const tags = this.store.stmt(`UPDATE error_tags SET resolved = 0 WHERE error IN (${IDS}) AND resolved = 1`);
    return this.each(rowIds, (batch) => {
      const rows = update.all(batch) as Raw[];
      const tagged = rows.filter((r) => r.tagged === 1).map((r) => r.id);
      if (tagged.length > 0) tags.run(JSON.stringify(tagged));
      return rows;
    });
  }

  /**
   * Permanently deletes the resolved errors among `rowIds`: their search rows, tag rows (by the
   * foreign key's cascade), request traces and retry-data snapshots that no remaining error uses.
   */
  deleteResolved(rowIds: readonly number[]): TouchedError[] {
    const del = this.store.stmt(`DELETE FROM errors WHERE id IN (${IDS}) AND resolved = 1 RETURNING id, occurred_at, resolved, trace, retry_data`);
    const fts = this.store.stmt(`DELETE FROM errors_fts WHERE rowid IN (${IDS})`);
    const traces = this.store.stmt(`DELETE FROM traces WHERE id IN (${IDS}) AND NOT EXISTS (SELECT 1 FROM errors WHERE trace = traces.id)`);
    const retryData = this.store.stmt(
      `DELETE FROM retry_data WHERE id IN (${IDS}) AND NOT EXISTS (SELECT 1 FROM errors WHERE retry_data = retry_data.id)` +
        // Durable retry jobs keep their items' snapshots for as long as the job's history is kept.
        (this.hasRetryItems() ? ' AND NOT EXISTS (SELECT 1 FROM retry_items WHERE retry_data = retry_data.id)' : ''),
    );
    return this.each(rowIds, (batch) => {
      const rows = del.all(batch) as Raw[];
      if (rows.length === 0) return rows;
      fts.run(JSON.stringify(rows.map((r) => r.id)));
      const traceIds = [...new Set(rows.map((r) => r.trace).filter((t) => t !== null))];
      if (traceIds.length > 0) traces.run(JSON.stringify(traceIds));
      const dataIds = [...new Set(rows.map((r) => r.retry_data).filter((d) => d !== null))];
      if (dataIds.length > 0) retryData.run(JSON.stringify(dataIds));
      return rows;
    });
  }

  // ---- tags ---------------------------------------------------------------------------------

  /**
   * Applies a tag change to every error among `rowIds` (open or resolved): rows whose tag set
   * really changes get the new JSON array (or NULL when empty) and the matching error_tags rows
   * are added or removed, so the column and the index table never disagree. Returns every listed
   * error (a full replace touches them all), with its state.
   */
  setTags(rowIds: readonly number[], change: TagChange): TouchedError[] {
    const current = `json_each(coalesce(errors.tags, '[]'))`;
    let update: Statement;
    let params: Record<string, string | null>;
    let drop: Statement | undefined;
    let add: string | undefined;
    if (change.set !== undefined) {
      const tags = change.set.length > 0 ? JSON.stringify(change.set) : null;
      update = this.store.stmt(`UPDATE errors SET tags = :tags WHERE id IN (SELECT value FROM json_each(:ids)) AND tags IS NOT :tags`);
      params = { tags };
      drop = this.store.stmt(`DELETE FROM error_tags WHERE error IN (SELECT value FROM json_each(:ids)) AND tag NOT IN (SELECT value FROM json_each(:keep))`);
      add = JSON.stringify(change.set);
    } else {
      // Per error: its tags minus `remove`, in their order, then those of `add` it lacks; none → NULL.
      update = this.store.stmt(`UPDATE errors SET tags = (
          SELECT CASE WHEN count(*) = 0 THEN NULL ELSE json_group_array(v ORDER BY k, o) END FROM (
            SELECT value AS v, 0 AS k, key AS o FROM ${current}
              WHERE value NOT IN (SELECT value FROM json_each(:remove))
            UNION ALL
            SELECT value, 1, key FROM json_each(:add)
              WHERE value NOT IN (SELECT value FROM ${current}) AND value NOT IN (SELECT value FROM json_each(:remove))
          )
        ) WHERE id IN (SELECT value FROM json_each(:ids))
          AND (EXISTS (SELECT 1 FROM ${current} WHERE value IN (SELECT value FROM json_each(:remove)))
            OR EXISTS (SELECT 1 FROM json_each(:add) WHERE value NOT IN (SELECT value FROM ${current})))`);
      params = { remove: JSON.stringify(change.remove ?? []), add: JSON.stringify(change.add ?? []) };
      if (change.remove?.length) {
        drop = this.store.stmt(`DELETE FROM error_tags WHERE error IN (SELECT value FROM json_each(:ids)) AND tag IN (SELECT value FROM json_each(:remove))`);
      }
      if (change.add?.length) add = params.add!;
    }
    const insert = this.store.stmt(`INSERT OR IGNORE INTO error_tags (tag, step, resolved, error)
      SELECT t.value, e.step, e.resolved, e.id FROM errors e, json_each(:add) t WHERE e.id IN (SELECT value FROM json_each(:ids))`);
    const listed = this.store.stmt(`SELECT id, occurred_at, resolved FROM errors WHERE id IN (${IDS})`);
    return this.each(rowIds, (ids) => {
      update.run({ ...params, ids });
      if (drop) drop.run(change.set !== undefined ? { ids, keep: add! } : { ids, remove: params.remove! });
      if (add && add !== '[]') insert.run({ ids, add });
      return listed.all(ids) as Raw[];
    });
  }

  tags(): Array<TagRow & { open: number; resolved: number }> {
    const counts = this.store.stmt('SELECT resolved, count(*) AS n FROM error_tags WHERE tag = ? GROUP BY resolved');
    return (this.store.stmt('SELECT code, name, created_at FROM tags ORDER BY name').all() as Raw[]).map((r) => {
      const byState = counts.all(r.code) as Array<{ resolved: number; n: number }>;
      return {
        code: r.code as string,
        name: r.name as string,
        createdAt: r.created_at as number,
        open: byState.find((c) => c.resolved === 0)?.n ?? 0,
        resolved: byState.find((c) => c.resolved === 1)?.n ?? 0,
      };
    });
  }

  /** The tag whose code (first) or name is `ref`, case-insensitive. */
  findTag(ref: string): TagRow | undefined {
    return this.tagByCode(ref.toUpperCase()) ?? this.tagByName(ref);
  }

  tagByCode(code: string): TagRow | undefined {
    const r = this.store.stmt('SELECT code, name, created_at FROM tags WHERE code = ?').get(code) as Raw | undefined;
    return r ? { code: r.code as string, name: r.name as string, createdAt: r.created_at as number } : undefined;
  }

  /** Names are unique regardless of case (the column is COLLATE NOCASE). */
  tagByName(name: string): TagRow | undefined {
    const r = this.store.stmt('SELECT code, name, created_at FROM tags WHERE name = ?').get(name) as Raw | undefined;
    return r ? { code: r.code as string, name: r.name as string, createdAt: r.created_at as number } : undefined;
  }

  createTag(code: string, name: string, at: number): void {
    this.store.insertTag(code, name, at);
  }

  /** Removes a tag from the catalog and from every error carrying it; returns how many errors. */
  deleteTag(code: string): number {
    const carriers = this.store.stmt('SELECT error FROM error_tags WHERE tag = ?').pluck().all(code) as number[];
    const strip = this.store.stmt(`UPDATE errors SET tags = (
        SELECT CASE WHEN count(*) = 0 THEN NULL ELSE json_group_array(value ORDER BY key) END
        FROM json_each(coalesce(errors.tags, '[]')) WHERE value <> ?
      ) WHERE id IN (${IDS})`);
    for (const batch of chunks(carriers)) strip.run(code, JSON.stringify(batch));
    this.store.stmt('DELETE FROM error_tags WHERE tag = ?').run(code);
    this.store.stmt('DELETE FROM tags WHERE code = ?').run(code);
    return carriers.length;
  }

  // ---- helpers ------------------------------------------------------------------------------

  private each(rowIds: readonly number[], fn: (batch: string) => Raw[]): TouchedError[] {
    const out: TouchedError[] = [];
    for (const batch of chunks(rowIds)) for (const r of fn(JSON.stringify(batch))) out.push(touched(r));
    return out;
  }

  private hasRetryItems(): boolean {
    this.retryItemsTable ??= this.store.stmt("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'retry_items'").get() !== undefined;
    return this.retryItemsTable;
  }
}

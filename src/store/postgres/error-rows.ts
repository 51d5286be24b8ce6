import { Signer } from '../../domain/signature.js';
import type { ErrorKey, ErrorRow, NewError } from '../contract/rows.js';
import type { PgSession } from './session.js';
import type { ErrorRowsPort } from './errors.js';
import { ERROR_COLUMNS, toErrorRow } from './error-columns.js';
import { pgIdSecondsSql } from './rows.js';

// Writing and reading single errors. insertError derives what SQLite's does, in one statement: the
// signature row (first error of a signature records its parts), the key seconds of the trace and
// snapshot the error points at, and the error_tags mirror; errors.search is a generated column.

const INSERT_ERROR = `
  WITH sig AS (
    INSERT INTO error_sigs (id, step, code, source, classification, template, first_at) VALUES ($20, $1, $4, $3, $9, $21, $2)
    ON CONFLICT (id) DO NOTHING
  ), e AS (
    INSERT INTO errors (step, resolved, occurred_at, source, code, message, o_index, job, trace_key, classification,
      classified_by, trace, trace_sec, retry_data, retry_data_sec, purge_at, retry_at, tags, assignee, assigned_by, assignee_user, sig)
    VALUES ($1, false, $2, $3, $4, $5, $6, $7, $8, $9,
      $10, $11, (SELECT ${pgIdSecondsSql('time')} FROM traces WHERE id = $11),
      $12, (SELECT ${pgIdSecondsSql('created_at')} FROM retry_data WHERE id = $12),
      $13, $14, $15::jsonb, $16, $17, $18, $20)
    RETURNING id
  ), t AS (
    INSERT INTO error_tags (tag, step, resolved, error) SELECT DISTINCT tag, $1::bigint, false, e.id FROM e, unnest($19::text[]) tag
  )
  SELECT id FROM e`;

export class PgErrorRows implements ErrorRowsPort {
  constructor(
    private readonly session: PgSession,
    /** Signs recorded errors (memoised templates: a run repeats its messages); one per store, shared by its transactions. */
    private readonly signer = new Signer(),
  ) {}

  async insertError(e: NewError): Promise<number> {
    const tags = e.tags && e.tags.length > 0 ? e.tags : undefined;
    // The signature of the message as stored (masked), so a group never shows a secret either.
    const { sig, template } = this.signer.sign(e);
    const [row] = await this.session.query<{ id: number }>(INSERT_ERROR, [
      e.step,
      e.occurredAt,
      e.source,
      e.code,
      e.message,
      e.oIndex ?? null,
      e.job ?? null,
      e.traceKey ?? null,
      e.classification,
      e.classifiedBy,
      e.trace ?? null,
      e.retryData ?? null,
      e.purgeAt ?? null,
      e.retryAt ?? null,
      tags ? JSON.stringify(tags) : null,
      e.assignee ?? null,
      e.assignedBy ?? null,
      e.assigneeUser ?? null,
      tags ?? [],
      sig,
      template,
    ]);
    return row!.id;
  }

  async getError(id: number): Promise<ErrorRow | undefined> {
    const [r] = await this.session.query(`SELECT ${ERROR_COLUMNS} FROM errors e WHERE e.id = $1`, [id]);
    return r ? toErrorRow(r) : undefined;
  }

  async errorKeys(rowIds: readonly number[]): Promise<ErrorKey[]> {
    const out: ErrorKey[] = [];
    for (let i = 0; i < rowIds.length; i += 1000) {
      const rows = await this.session.query<{ id: number; step: number; resolved: boolean; occurred_at: number }>(
        'SELECT id, step, resolved, occurred_at FROM errors WHERE id = ANY($1::bigint[]) ORDER BY id',
        [rowIds.slice(i, i + 1000)],
      );
      for (const r of rows) out.push({ id: r.id, step: r.step, resolved: r.resolved, occurredAt: r.occurred_at });
    }
    return out;
  }
}

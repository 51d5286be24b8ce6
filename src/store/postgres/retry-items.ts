import { isDeadLocalOwner } from '../shared/owners.js';
import type { RetryItemCounts } from '../../backend/contract/retry.js';
import type { ItemState, RetryItemsPort } from '../contract/ports.js';
import type { LatestError, RetryItem } from '../contract/queries.js';
import type { PgSession } from './session.js';
import { jsonText } from './rows.js';

// Durable retry jobs on PostgreSQL, shared by any number of workers. Items are claimed in batches
// with the claiming pattern of pg-boss and graphile-worker (one UPDATE over a SELECT … FOR UPDATE
// SKIP LOCKED): two claimers never lock, let alone get, the same row; the claim is a lease
// (lease_owner, lease_until) its owner renews on its heartbeat, that settling or postponing ends,
// and that anyone may take over once it has expired (a worker killed mid-way). Neither engine is
// used itself: an item's outcome commits with its errors, in flowdeck's own tables and transaction.

const ITEM_STATE_COUNT: Record<string, keyof RetryItemCounts> = {
  pending: 'pending',
  resolved: 'resolved',
  failed: 'failed',
  skipped: 'skipped',
  resolved_meanwhile: 'resolvedMeanwhile',
};

const ACTIVE = `('queued', 'running', 'retrying', 'canceling')`;

/**
 * The item's lease is free or expired. Not the owner's own live lease either: a worker starting its
 * next pass must not take again the items it still has in flight.
 */
const CLAIMABLE = '(lease_owner IS NULL OR lease_until <= $3)';

/** $1 job, $2 owner, $3 now, $4 limit, $5 lease until, $6 $7 the (next_at, seq) cursor. */
export const CLAIM_DUE_ITEMS = `UPDATE retry_items SET lease_owner = $2, lease_until = $5
  WHERE (job, seq) IN (
    SELECT job, seq FROM retry_items
    WHERE job = $1 AND state = 'pending' AND next_at <= $3 AND (next_at, seq) > ($6::bigint, $7::bigint) AND ${CLAIMABLE}
    ORDER BY next_at, seq LIMIT $4
    FOR UPDATE SKIP LOCKED)
  RETURNING seq, retry_data, attempts, next_at`;

function batches<T>(items: readonly T[], size = 1000): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

export class PgRetryItems implements RetryItemsPort {
  constructor(private readonly session: PgSession) {}

  async retryDataOf(errorRowIds: readonly number[]): Promise<number[]> {
    const out = new Set<number>();
    for (const batch of batches(errorRowIds)) {
      const rows = await this.session.query<{ retry_data: number }>(
        'SELECT DISTINCT retry_data FROM errors WHERE id = ANY($1::bigint[]) AND resolved = false AND retry_data IS NOT NULL',
        [batch],
      );
      for (const r of rows) out.add(r.retry_data);
    }
    return [...out].sort((a, b) => a - b);
  }

  async openErrorSnapshots(rowIds: readonly number[]): Promise<Array<{ id: number; occurredAt: number; retryData: number; retryDataSeconds: number }>> {
    const out: Array<{ id: number; occurredAt: number; retryData: number; retryDataSeconds: number }> = [];
    for (const batch of batches(rowIds)) {
      const rows = await this.session.query<{ id: number; occurred_at: number; retry_data: number; retry_data_sec: number }>(
        `SELECT id, occurred_at, retry_data, retry_data_sec FROM errors
         WHERE id = ANY($1::bigint[]) AND resolved = false AND retry_data IS NOT NULL AND retry_data_sec IS NOT NULL ORDER BY id`,
        [batch],
      );
      for (const r of rows) out.push({ id: r.id, occurredAt: r.occurred_at, retryData: r.retry_data, retryDataSeconds: r.retry_data_sec });
    }
    return out;
  }

  async pendingElsewhere(retryData: readonly number[]): Promise<Set<number>> {
    const out = new Set<number>();
    for (const batch of batches(retryData)) {
      const rows = await this.session.query<{ retry_data: number }>(
        `SELECT i.retry_data FROM retry_items i JOIN jobs j ON j.id = i.job
         WHERE i.state = 'pending' AND j.status IN ${ACTIVE} AND i.retry_data = ANY($1::bigint[])`,
        [batch],
      );
      for (const r of rows) out.add(r.retry_data);
    }
    return out;
  }

  async holdersOf(retryData: readonly number[]): Promise<number[]> {
    const out = new Set<number>();
    for (const batch of batches(retryData)) {
      const rows = await this.session.query<{ job: number }>(
        `SELECT DISTINCT i.job FROM retry_items i JOIN jobs j ON j.id = i.job
         WHERE i.state = 'pending' AND j.status IN ${ACTIVE} AND i.retry_data = ANY($1::bigint[])`,
        [batch],
      );
      for (const r of rows) out.add(r.job);
    }
    return [...out].sort((a, b) => a - b);
  }

  async insertItems(job: number, retryData: readonly number[]): Promise<void> {
    for (let i = 0; i < retryData.length; i += 10_000) {
      await this.session.execute(
        'INSERT INTO retry_items (job, seq, retry_data) SELECT $1, $2 + o - 1, v FROM unnest($3::bigint[]) WITH ORDINALITY AS u(v, o)',
        [job, i, retryData.slice(i, i + 10_000)],
      );
    }
  }

  async claimDueItems(job: number, owner: string, now: number, limit: number, leaseUntil: number, after: { nextAt: number; seq: number } = { nextAt: -1, seq: -1 }): Promise<RetryItem[]> {
    const rows = await this.session.query<{ seq: number; retry_data: number; attempts: number; next_at: number }>(
      CLAIM_DUE_ITEMS,
      [job, owner, now, limit, leaseUntil, after.nextAt, after.seq],
    );
    const items = rows.map((r) => ({ seq: r.seq, retryData: r.retry_data, attempts: r.attempts, nextAt: r.next_at }));
    if (items.length < limit && (await this.releaseDeadOwners(job, owner, now))) {
      const more = await this.session.query<{ seq: number; retry_data: number; attempts: number; next_at: number }>(
        CLAIM_DUE_ITEMS,
        [job, owner, now, limit - items.length, leaseUntil, after.nextAt, after.seq],
      );
      items.push(...more.map((r) => ({ seq: r.seq, retryData: r.retry_data, attempts: r.attempts, nextAt: r.next_at })));
    }
    return items.sort((a, b) => a.nextAt - b.nextAt || a.seq - b.seq);
  }

  /** Gives back the live leases of runners of this host whose process has ended; whether there were any. */
  private async releaseDeadOwners(job: number, owner: string, now: number): Promise<boolean> {
    const owners = await this.session.query<{ owner: string }>(
      `SELECT DISTINCT lease_owner AS owner FROM retry_items WHERE job = $1 AND state = 'pending' AND lease_owner IS NOT NULL AND lease_owner <> $2 AND lease_until > $3`,
      [job, owner, now],
    );
    let released = false;
    for (const { owner: other } of owners) {
      if (!isDeadLocalOwner(other)) continue;
      await this.releaseItemLeases(job, other);
      released = true;
    }
    return released;
  }

  async renewItemLeases(job: number, owner: string, leaseUntil: number): Promise<number> {
    return this.session.execute(`UPDATE retry_items SET lease_until = $3 WHERE job = $1 AND lease_owner = $2 AND state = 'pending'`, [job, owner, leaseUntil]);
  }

  async releaseItemLeases(job: number, owner: string): Promise<void> {
    await this.session.execute(`UPDATE retry_items SET lease_owner = NULL, lease_until = NULL WHERE job = $1 AND lease_owner = $2 AND state = 'pending'`, [job, owner]);
  }

  /** Leases of runners of this host whose process has ended do not count: they are given back here. */
  async liveLeases(job: number, now: number): Promise<number> {
    await this.releaseDeadOwners(job, '', now);
    const rows = await this.session.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM retry_items WHERE job = $1 AND state = 'pending' AND lease_owner IS NOT NULL AND lease_until > $2`,
      [job, now],
    );
    return rows[0]!.n;
  }

  async pendingCount(job: number): Promise<number> {
    const [row] = await this.session.query<{ n: number }>(`SELECT count(*) AS n FROM retry_items WHERE job = $1 AND state = 'pending'`, [job]);
    return row!.n;
  }

  async nextDueAt(job: number): Promise<number | undefined> {
    const [row] = await this.session.query<{ at: number | null }>(`SELECT min(next_at) AS at FROM retry_items WHERE job = $1 AND state = 'pending'`, [job]);
    return row?.at ?? undefined;
  }

  async counts(job: number): Promise<RetryItemCounts> {
    const rows = await this.session.query<{ state: string; n: number }>('SELECT state, count(*) AS n FROM retry_items WHERE job = $1 GROUP BY state', [job]);
    const counts: RetryItemCounts = { pending: 0, resolved: 0, failed: 0, skipped: 0, resolvedMeanwhile: 0 };
    for (const r of rows) counts[ITEM_STATE_COUNT[r.state]!] = r.n;
    return counts;
  }

  async items(job: number): Promise<Array<{ seq: number; retryData: number; state: string; attempts: number; resultError: number | null; detail: string | null }>> {
    return this.session.query(
      'SELECT seq, retry_data AS "retryData", state, attempts, result_error AS "resultError", detail FROM retry_items WHERE job = $1 ORDER BY seq',
      [job],
    );
  }

  async postpone(job: number, seq: number, attempts: number, nextAt: number, detail: string): Promise<void> {
    await this.session.execute('UPDATE retry_items SET attempts = $1, next_at = $2, detail = $3, lease_owner = NULL, lease_until = NULL WHERE job = $4 AND seq = $5', [
      attempts,
      nextAt,
      detail,
      job,
      seq,
    ]);
  }

  async settle(job: number, seq: number, state: ItemState, attempts: number, resultError: number | null, detail: string | null): Promise<void> {
    await this.session.execute(
      `UPDATE retry_items SET state = $1, attempts = $2, result_error = $3, detail = $4, lease_owner = NULL, lease_until = NULL
       WHERE job = $5 AND seq = $6 AND state = 'pending'`,
      [state, attempts, resultError, detail, job, seq],
    );
  }

  async settleResolved(job: number, seqs: readonly number[]): Promise<void> {
    await this.session.execute(
      `UPDATE retry_items SET state = 'resolved', attempts = attempts + 1, lease_owner = NULL, lease_until = NULL
       WHERE job = $1 AND seq = ANY($2::bigint[]) AND state = 'pending'`,
      [job, seqs],
    );
  }

  async skipPending(job: number, detail: string): Promise<number> {
    return this.session.execute(`UPDATE retry_items SET state = 'skipped', detail = $1, lease_owner = NULL, lease_until = NULL WHERE job = $2 AND state = 'pending'`, [
      detail,
      job,
    ]);
  }

  async endedJobsWithPendingItems(): Promise<Array<{ id: number; status: string; note: string | null }>> {
    // The distinct jobs of the pending-items index (a skip scan: one probe per job, as on SQLite).
    return this.session.query(
      `WITH RECURSIVE pending(job) AS (
         (SELECT job FROM retry_items WHERE state = 'pending' ORDER BY job LIMIT 1)
         UNION ALL
         SELECT (SELECT i.job FROM retry_items i WHERE i.state = 'pending' AND i.job > pending.job ORDER BY i.job LIMIT 1) FROM pending WHERE pending.job IS NOT NULL
       )
       SELECT j.id, j.status, j.note FROM pending JOIN jobs j ON j.id = pending.job
       WHERE j.status IN ('completed', 'failed', 'canceled') ORDER BY j.id`,
    );
  }

  async latestOpenErrors(retryData: readonly number[]): Promise<Map<number, LatestError>> {
    const rows = await this.session.query<{ retry_data: number; id: number; tags: unknown; assignee: string | null; assigned_by: string | null; assignee_user: number | null; trace_key: string | null; o_index: string | null }>(
      `SELECT DISTINCT ON (retry_data) retry_data, id, tags, assignee, assigned_by, assignee_user, trace_key, o_index
       FROM errors WHERE retry_data = ANY($1::bigint[]) AND resolved = false ORDER BY retry_data, id DESC`,
      [retryData],
    );
    return new Map(
      rows.map((r) => [
        r.retry_data,
        { retryData: r.retry_data, id: r.id, tags: jsonText(r.tags), assignee: r.assignee, assignedBy: r.assigned_by, assigneeUser: r.assignee_user, traceKey: r.trace_key, oIndex: r.o_index },
      ]),
    );
  }

  async snapshots(ids: readonly number[]): Promise<Map<number, { data: string; attempts: number; traceKey: string | null }>> {
    const rows = await this.session.query<{ id: number; data: string; attempts: number; trace_key: string | null }>(
      `SELECT r.id, r.data, r.attempts, r.trace_key FROM retry_data r WHERE r.id = ANY($1::bigint[])
         AND EXISTS (SELECT 1 FROM errors e WHERE e.retry_data = r.id AND e.resolved = false)`,
      [ids],
    );
    return new Map(rows.map((r) => [r.id, { id: r.id, data: r.data, attempts: r.attempts, traceKey: r.trace_key }]));
  }

  async resolveManyByRetryData(ids: readonly number[], by: string, at: number): Promise<Set<number>> {
    const rows = await this.session.query<{ id: number; tagged: boolean; retry_data: number }>(
      `UPDATE errors SET resolved = true, resolved_at = $1, resolved_by = $2, retry_at = NULL
       WHERE retry_data = ANY($3::bigint[]) AND resolved = false RETURNING id, tags IS NOT NULL AS tagged, retry_data`,
      [at, by, ids],
    );
    const tagged = rows.filter((r) => r.tagged).map((r) => r.id);
    if (tagged.length > 0) await this.session.execute('UPDATE error_tags SET resolved = true WHERE error = ANY($1::bigint[])', [tagged]);
    return new Set(rows.map((r) => r.retry_data));
  }

  async resolveMatchingTraceKey(flowId: string, traceKey: string, olderThanId: number, at: number): Promise<number> {
    const rows = await this.session.query<{ id: number }>(
      'SELECT e.id FROM errors e JOIN steps s ON s.id = e.step WHERE e.trace_key = $1 AND e.resolved = false AND e.id < $2 AND s.flow_id = $3',
      [traceKey, olderThanId, flowId],
    );
    if (rows.length === 0) return 0;
    const ids = rows.map((r) => r.id);
    await this.session.execute('UPDATE error_tags SET resolved = true WHERE error = ANY($1::bigint[])', [ids]);
    return this.session.execute(`UPDATE errors SET resolved = true, resolved_at = $1, resolved_by = 'auto', retry_at = NULL WHERE id = ANY($2::bigint[])`, [at, ids]);
  }

  async setAttempts(retryData: number, attempts: number): Promise<void> {
    await this.session.execute('UPDATE retry_data SET attempts = $1 WHERE id = $2', [attempts, retryData]);
  }

  async dueAutomaticRetries(now: number, limit: number, exceptSteps: readonly number[] = []): Promise<Array<{ step: number; errorId: number; retryData: number | null }>> {
    const params: unknown[] = [now, exceptSteps];
    let sql = `SELECT step, id AS "errorId", retry_data AS "retryData" FROM errors
      WHERE retry_at IS NOT NULL AND resolved = false AND retry_at <= $1 AND NOT (step = ANY($2::bigint[])) ORDER BY retry_at, id`;
    if (limit > 0) {
      params.push(limit);
      sql += ' LIMIT $3';
    }
    return this.session.query(sql, params);
  }

  async countDue(now: number): Promise<number> {
    const [row] = await this.session.query<{ n: number }>('SELECT count(*) AS n FROM errors WHERE retry_at IS NOT NULL AND resolved = false AND retry_at <= $1', [now]);
    return row!.n;
  }

  async clearRetryAt(errorIds: readonly number[]): Promise<void> {
    await this.session.execute('UPDATE errors SET retry_at = NULL WHERE id = ANY($1::bigint[])', [errorIds]);
  }
}

import type { SqliteCore } from './core.js';
import { isDeadLocalOwner } from '../shared/owners.js';
import type { RetryItemCounts } from '../../backend/contract/retry.js';
import type { RetryItem, LatestError } from '../contract/queries.js';
export type { RetryItem, LatestError } from '../contract/queries.js';

// SQL of durable retry jobs. A retry job's records are rows of retry_items; each record's outcome
// (its errors resolved or superseded, the item settled, the job's counters) commits in one
// transaction, so a kill at any point leaves every record either done once or still pending.



// A job's records by item state: the contract's shape, counted here.
export type { RetryItemCounts } from '../../backend/contract/retry.js';

/** How an item's state is stored (retry_items.state) and counted. */
const ITEM_STATE_COUNT: Record<string, keyof RetryItemCounts> = {
  pending: 'pending',
  resolved: 'resolved',
  failed: 'failed',
  skipped: 'skipped',
  resolved_meanwhile: 'resolvedMeanwhile',
};

export class RetryRepo {
  constructor(private readonly store: SqliteCore) {}

  /** Distinct snapshots behind the given open errors, oldest record first. */
  retryDataOf(errorRowIds: readonly number[]): number[] {
    const out = new Set<number>();
    const stmt = this.store.stmt(
      `SELECT DISTINCT retry_data FROM errors WHERE id IN (SELECT value FROM json_each(?)) AND resolved = 0 AND retry_data IS NOT NULL ORDER BY retry_data`,
    );
    for (let i = 0; i < errorRowIds.length; i += 1000) {
      for (const id of stmt.pluck().all(JSON.stringify(errorRowIds.slice(i, i + 1000))) as number[]) out.add(id);
    }
    return [...out].sort((a, b) => a - b);
  }

  /**
   * The open errors among `rowIds` that carry a snapshot, with what their ids and keys are made of
   * (a retry's preview), 1000 per statement: a preview of 400k errors is 400 reads, not 400k.
   */
  openErrorSnapshots(rowIds: readonly number[]): Array<{ id: number; occurredAt: number; retryData: number; retryDataSeconds: number }> {
    const stmt = this.store
      .stmt(`SELECT id, occurred_at, retry_data, retry_data_sec FROM errors
        WHERE id IN (SELECT value FROM json_each(?)) AND resolved = 0 AND retry_data IS NOT NULL AND retry_data_sec IS NOT NULL`)
      .raw();
    const out: Array<{ id: number; occurredAt: number; retryData: number; retryDataSeconds: number }> = [];
    for (let i = 0; i < rowIds.length; i += 1000) {
      for (const [id, occurredAt, retryData, retryDataSeconds] of stmt.all(JSON.stringify(rowIds.slice(i, i + 1000))) as Array<[number, number, number, number]>) {
        out.push({ id, occurredAt, retryData, retryDataSeconds });
      }
    }
    return out;
  }

  /** Snapshots already queued in an unfinished retry job: retrying them twice at once is refused. */
  pendingElsewhere(retryData: readonly number[]): Set<number> {
    // Only jobs that will still run count: items a finished job left pending hold nothing.
    const stmt = this.store.stmt(`SELECT i.retry_data FROM retry_items i JOIN jobs j ON j.id = i.job
      WHERE i.state = 'pending' AND j.status IN ('queued', 'running', 'retrying', 'canceling') AND i.retry_data IN (SELECT value FROM json_each(?))`);
    const out = new Set<number>();
    for (let i = 0; i < retryData.length; i += 1000) {
      for (const id of stmt.pluck().all(JSON.stringify(retryData.slice(i, i + 1000))) as number[]) out.add(id);
    }
    return out;
  }

  /** The unfinished retry jobs that hold (have pending) any of these snapshots, oldest first. */
  holdersOf(retryData: readonly number[]): number[] {
    const stmt = this.store.stmt(`SELECT DISTINCT i.job FROM retry_items i JOIN jobs j ON j.id = i.job
      WHERE i.state = 'pending' AND j.status IN ('queued', 'running', 'retrying', 'canceling') AND i.retry_data IN (SELECT value FROM json_each(?))`);
    const out = new Set<number>();
    for (let i = 0; i < retryData.length; i += 1000) {
      for (const id of stmt.pluck().all(JSON.stringify(retryData.slice(i, i + 1000))) as number[]) out.add(id);
    }
    return [...out].sort((a, b) => a - b);
  }

  /** The job's items, seq = position in `retryData`; a statement per 10,000, not per item. */
  insertItems(job: number, retryData: readonly number[]): void {
    const insert = this.store.stmt('INSERT INTO retry_items (job, seq, retry_data) SELECT ?, ? + key, value FROM json_each(?)');
    for (let i = 0; i < retryData.length; i += 10_000) insert.run(job, i, JSON.stringify(retryData.slice(i, i + 10_000)));
  }

  /**
   * Claims the job's next due items whose lease is free or expired for `owner`: one statement picks
   * them in (next_at, seq) order behind the cursor and writes the lease. SQLite serialises writers,
   * so two claims never overlap. A lease left by a runner of this host whose process is gone (a
   * kill) is given back first, so a job resumed by the next worker does not wait out the lease.
   */
  claimDueItems(job: number, owner: string, now: number, limit: number, leaseUntil: number, after: { nextAt: number; seq: number } = { nextAt: -1, seq: -1 }): RetryItem[] {
    const claim = (n = limit) =>
      (
        this.store
          .stmt(`UPDATE retry_items SET lease_owner = ?, lease_until = ? WHERE job = ? AND seq IN (
            SELECT seq FROM retry_items WHERE job = ? AND state = 'pending' AND next_at <= ? AND (next_at, seq) > (?, ?)
              AND (lease_until IS NULL OR lease_until <= ?) ORDER BY next_at, seq LIMIT ?)
          RETURNING seq, retry_data AS retryData, attempts, next_at AS nextAt`)
          .all(owner, leaseUntil, job, job, now, after.nextAt, after.seq, now, n) as RetryItem[]
      ).sort((a, b) => a.nextAt - b.nextAt || a.seq - b.seq);
    const items = claim();
    if (items.length === limit || !this.releaseDeadOwners(job, owner, now)) return items;
    return [...items, ...claim(limit - items.length)].sort((x, y) => x.nextAt - y.nextAt || x.seq - y.seq);
  }

  /** Gives back the live leases of runners of this host whose process has ended; whether there were any. */
  private releaseDeadOwners(job: number, owner: string, now: number): boolean {
    const owners = this.store
      .stmt(`SELECT DISTINCT lease_owner FROM retry_items INDEXED BY ix_retry_items_leased WHERE job = ? AND lease_owner IS NOT NULL AND lease_owner != ? AND lease_until > ?`)
      .pluck()
      .all(job, owner, now) as string[];
    let released = false;
    for (const other of owners) {
      if (!isDeadLocalOwner(other)) continue;
      this.releaseItemLeases(job, other);
      released = true;
    }
    return released;
  }

  renewItemLeases(job: number, owner: string, leaseUntil: number): number {
    return this.store
      .stmt(`UPDATE retry_items INDEXED BY ix_retry_items_leased SET lease_until = ? WHERE job = ? AND lease_owner = ? AND state = 'pending'`)
      .run(leaseUntil, job, owner).changes;
  }

  releaseItemLeases(job: number, owner: string): void {
    this.store
      .stmt(`UPDATE retry_items INDEXED BY ix_retry_items_leased SET lease_owner = NULL, lease_until = NULL WHERE job = ? AND lease_owner = ?`)
      .run(job, owner);
  }

  /** Leases of runners of this host whose process has ended do not count: they are given back here. */
  liveLeases(job: number, now: number): number {
    this.releaseDeadOwners(job, '', now);
    return this.store
      .stmt(`SELECT count(*) FROM retry_items INDEXED BY ix_retry_items_leased WHERE job = ? AND lease_owner IS NOT NULL AND lease_until > ? AND state = 'pending'`)
      .pluck()
      .get(job, now) as number;
  }

  /** Pending items due by `now`, in (next_at, seq) order, after a cursor in that order (leases aside). */
  dueItems(job: number, now: number, limit: number, after: { nextAt: number; seq: number } = { nextAt: -1, seq: -1 }): RetryItem[] {
    return this.store
      .stmt(`SELECT seq, retry_data AS retryData, attempts, next_at AS nextAt FROM retry_items
        WHERE job = ? AND state = 'pending' AND next_at <= ? AND (next_at, seq) > (?, ?) ORDER BY next_at, seq LIMIT ?`)
      .all(job, now, after.nextAt, after.seq, limit) as RetryItem[];
  }

  pendingCount(job: number): number {
    return this.store.stmt(`SELECT count(*) FROM retry_items WHERE job = ? AND state = 'pending'`).pluck().get(job) as number;
  }

  nextDueAt(job: number): number | undefined {
    const row = this.store.stmt(`SELECT min(next_at) AS at FROM retry_items WHERE job = ? AND state = 'pending'`).get(job) as { at: number | null };
    return row.at ?? undefined;
  }

  counts(job: number): RetryItemCounts {
    const rows = this.store.stmt('SELECT state, count(*) AS n FROM retry_items WHERE job = ? GROUP BY state').all(job) as Array<{ state: string; n: number }>;
    const counts: RetryItemCounts = { pending: 0, resolved: 0, failed: 0, skipped: 0, resolvedMeanwhile: 0 };
    for (const r of rows) counts[ITEM_STATE_COUNT[r.state]!] = r.n;
    return counts;
  }

  items(job: number): Array<{ seq: number; retryData: number; state: string; attempts: number; resultError: number | null; detail: string | null }> {
    return this.store
      .stmt('SELECT seq, retry_data AS retryData, state, attempts, result_error AS resultError, detail FROM retry_items WHERE job = ? ORDER BY seq')
      .all(job) as Array<{ seq: number; retryData: number; state: string; attempts: number; resultError: number | null; detail: string | null }>;
  }

  /** Postpones an item after a transient failure (back-off); its lease ends. */
  postpone(job: number, seq: number, attempts: number, nextAt: number, detail: string): void {
    this.store
      .stmt('UPDATE retry_items SET attempts = ?, next_at = ?, detail = ?, lease_owner = NULL, lease_until = NULL WHERE job = ? AND seq = ?')
      .run(attempts, nextAt, detail, job, seq);
  }

  settle(job: number, seq: number, state: 'resolved' | 'failed' | 'skipped' | 'resolved_meanwhile', attempts: number, resultError: number | null, detail: string | null): void {
    this.store
      .stmt('UPDATE retry_items SET state = ?, attempts = ?, result_error = ?, detail = ?, lease_owner = NULL, lease_until = NULL WHERE job = ? AND seq = ? AND state = \'pending\'')
      .run(state, attempts, resultError, detail, job, seq);
  }

  skipPending(job: number, detail: string): number {
    return this.store.stmt(`UPDATE retry_items SET state = 'skipped', detail = ?, lease_owner = NULL, lease_until = NULL WHERE job = ? AND state = 'pending'`).run(detail, job).changes;
  }

  /**
   * Ended retry jobs that still have pending items (the store refused their release when the job
   * failed, e.g. on a full disk). One index seek per job with pending items (the running ones and
   * any such leftover): cheap enough for every workspace open and worker tick, and only a read.
   */
  endedJobsWithPendingItems(): Array<{ id: number; status: string; note: string | null }> {
    const next = this.store.stmt(`SELECT min(job) FROM retry_items WHERE state = 'pending' AND job > ?`).pluck();
    const job = this.store.stmt('SELECT id, status, note FROM jobs WHERE id = ?');
    const out: Array<{ id: number; status: string; note: string | null }> = [];
    for (let id = next.get(-1) as number | null; id !== null; id = next.get(id) as number | null) {
      const row = job.get(id) as { id: number; status: string; note: string | null } | undefined;
      if (row && (row.status === 'completed' || row.status === 'failed' || row.status === 'canceled')) out.push(row);
    }
    return out;
  }

  /** The newest open error of each snapshot: what a failed retry carries its tags and assignee from. */
  latestOpenErrors(retryData: readonly number[]): Map<number, LatestError> {
    const rows = this.store
      .stmt(`SELECT retry_data AS retryData, max(id) AS id, tags, assignee, assigned_by AS assignedBy, assignee_user AS assigneeUser,
          trace_key AS traceKey, o_index AS oIndex
        FROM errors WHERE retry_data IN (SELECT value FROM json_each(?)) AND resolved = 0 GROUP BY retry_data`)
      .all(JSON.stringify(retryData)) as Array<LatestError & { retryData: number }>;
    return new Map(rows.map((r) => [r.retryData, r]));
  }

  /** The snapshots of a batch in one read. */
  /** Snapshots of a batch that still have an open error (one resolved meanwhile is not re-sent). */
  snapshots(ids: readonly number[]): Map<number, { data: string; attempts: number; traceKey: string | null }> {
    const rows = this.store
      .stmt(`SELECT r.id, r.data, r.attempts, r.trace_key AS traceKey FROM retry_data r WHERE r.id IN (SELECT value FROM json_each(?))
        AND EXISTS (SELECT 1 FROM errors e WHERE e.retry_data = r.id AND e.resolved = 0)`)
      .all(JSON.stringify(ids)) as Array<{ id: number; data: string; attempts: number; traceKey: string | null }>;
    return new Map(rows.map((r) => [r.id, r]));
  }

  /**
   * Resolves the open errors of many snapshots at once: one pass over the errors, whose RETURNING
   * says which had tags, so only their error_tags rows are touched (no second lookup of the errors).
   * Returns the snapshots that had an open error (the others were resolved or deleted before).
   */
  resolveManyByRetryData(ids: readonly number[], by: string, at: number): Set<number> {
    const rows = this.store
      .stmt('UPDATE errors SET resolved = 1, resolved_at = ?, resolved_by = ?, retry_at = NULL WHERE retry_data IN (SELECT value FROM json_each(?)) AND resolved = 0 RETURNING id, tags IS NOT NULL AS tagged, retry_data')
      .raw()
      .all(at, by, JSON.stringify(ids)) as Array<[number, number, number]>;
    const tagged = rows.filter((r) => r[1] === 1).map((r) => r[0]);
    if (tagged.length > 0) this.store.stmt('UPDATE error_tags SET resolved = 1 WHERE error IN (SELECT value FROM json_each(?))').run(JSON.stringify(tagged));
    return new Set(rows.map((r) => r[2]));
  }

  settleResolved(job: number, seqs: readonly number[]): void {
    this.store
      .stmt(`UPDATE retry_items SET state = 'resolved', attempts = attempts + 1, lease_owner = NULL, lease_until = NULL WHERE job = ? AND seq IN (SELECT value FROM json_each(?)) AND state = 'pending'`)
      .run(job, JSON.stringify(seqs));
  }

  /** autoResolveMatchingTraceKeys: older open errors of the flow with this traceKey are resolved by `auto`. */
  resolveMatchingTraceKey(flowId: string, traceKey: string, olderThanId: number, at: number): number {
    const ids = this.store
      .stmt(`SELECT e.id FROM errors e JOIN steps s ON s.id = e.step WHERE e.trace_key = ? AND e.resolved = 0 AND e.id < ? AND s.flow_id = ?`)
      .pluck()
      .all(traceKey, olderThanId, flowId) as number[];
    if (ids.length === 0) return 0;
    const list = JSON.stringify(ids);
    this.store.stmt(`UPDATE error_tags SET resolved = 1 WHERE error IN (SELECT value FROM json_each(?))`).run(list);
    return this.store
      .stmt(`UPDATE errors SET resolved = 1, resolved_at = ?, resolved_by = 'auto', retry_at = NULL WHERE id IN (SELECT value FROM json_each(?))`)
      .run(at, list).changes;
  }

  setAttempts(retryData: number, attempts: number): void {
    this.store.stmt('UPDATE retry_data SET attempts = ? WHERE id = ?').run(attempts, retryData);
  }

  /**
   * Open errors whose automatic retry is due, oldest due first, leaving out the steps in `exceptSteps`
   * (those an automatic job is still working on). A limit of 0 reads every one.
   */
  dueAutomaticRetries(now: number, limit: number, exceptSteps: readonly number[] = []): Array<{ step: number; errorId: number; retryData: number | null }> {
    return this.store
      .stmt(
        `SELECT step, id AS errorId, retry_data AS retryData FROM errors WHERE retry_at IS NOT NULL AND resolved = 0 AND retry_at <= ?
           AND step NOT IN (SELECT value FROM json_each(?)) ORDER BY retry_at LIMIT ?`,
      )
      .all(now, JSON.stringify(exceptSteps), limit > 0 ? limit : -1) as Array<{ step: number; errorId: number; retryData: number | null }>;
  }

  /** How many open errors are due for an automatic retry (the partial retry_at index answers it). */
  countDue(now: number): number {
    return this.store.stmt('SELECT count(*) FROM errors WHERE retry_at IS NOT NULL AND resolved = 0 AND retry_at <= ?').pluck().get(now) as number;
  }

  clearRetryAt(errorIds: readonly number[]): void {
    this.store.stmt('UPDATE errors SET retry_at = NULL WHERE id IN (SELECT value FROM json_each(?))').run(JSON.stringify(errorIds));
  }
}

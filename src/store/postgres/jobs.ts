import type { JobStatus } from '../../domain/api.js';
import type { JobFilter, JobPatch, JobsPort, NewJob } from '../contract/ports.js';
import type { JobCounters, JobRow } from '../contract/rows.js';
import type { PgSession } from './session.js';
import { toJobRow } from './rows.js';
import { COUNTER_FIELDS, JOB_FIELDS } from '../shared/job-columns.js';

// Flow runs and retry jobs: their rows, statuses and counters.


export class PgJobs implements JobsPort {
  constructor(private readonly session: PgSession) {}

  async insertJob(job: NewJob): Promise<number> {
    const [row] = await this.session.query<{ id: number }>(
      `INSERT INTO jobs (type, status, flow_id, step, parent_id, retry_of, created_at, last_modified, triggered_by, log_mode, options)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $7, $8, $9, $10) RETURNING id`,
      [
        job.type,
        job.status,
        job.flowId ?? null,
        job.step ?? null,
        job.parentId ?? null,
        job.retryOf ?? null,
        job.createdAt,
        job.triggeredBy ?? null,
        job.logMode ?? null,
        job.options === undefined ? null : JSON.stringify(job.options),
      ],
    );
    return row!.id;
  }

  async updateJob(id: number, patch: JobPatch, at: number): Promise<void> {
    const params: unknown[] = [at];
    const sets: string[] = ['last_modified = $1'];
    for (const [key, value] of Object.entries(patch)) {
      const column = JOB_FIELDS[key];
      if (!column) continue;
      params.push(value ?? null);
      sets.push(`${column} = $${params.length}`);
    }
    params.push(id);
    await this.session.execute(`UPDATE jobs SET ${sets.join(', ')} WHERE id = $${params.length}`, params);
  }

  async setJobStatusIf(id: number, from: readonly JobStatus[], to: JobStatus, at: number): Promise<boolean> {
    const changed = await this.session.execute('UPDATE jobs SET status = $1, last_modified = $2 WHERE id = $3 AND status = ANY($4::text[])', [to, at, id, from]);
    return changed === 1;
  }

  async addJobCounters(id: number, counters: JobCounters, at: number): Promise<void> {
    const params: unknown[] = [at];
    const sets: string[] = ['last_modified = $1'];
    for (const [key, value] of Object.entries(counters)) {
      if (!value) continue;
      const column = COUNTER_FIELDS[key as keyof JobCounters];
      params.push(value);
      sets.push(`${column} = ${column} + $${params.length}`);
    }
    params.push(id);
    await this.session.execute(`UPDATE jobs SET ${sets.join(', ')} WHERE id = $${params.length}`, params);
  }

  async getJob(id: number): Promise<JobRow | undefined> {
    const [r] = await this.session.query('SELECT * FROM jobs WHERE id = $1', [id]);
    return r ? toJobRow(r) : undefined;
  }

  async listJobs(filter: JobFilter): Promise<JobRow[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    const add = (sql: (p: string) => string, value: unknown) => {
      params.push(value);
      where.push(sql(`$${params.length}`));
    };
    // triggered_by compares without case, as SQLite's COLLATE NOCASE (ASCII: the "C" collation's lower()).
    if (filter.triggeredBy !== undefined) add((p) => `lower(triggered_by) = lower(${p})`, filter.triggeredBy);
    if (filter.beforeId !== undefined) add((p) => `id < ${p}`, filter.beforeId);
    if (filter.flowId) add((p) => `flow_id = ${p}`, filter.flowId);
    if (filter.type) add((p) => `type = ${p}`, filter.type);
    if (filter.status) add((p) => `status = ${p}`, filter.status);
    if (filter.topLevel) where.push('parent_id IS NULL');
    params.push(filter.limit);
    const sql = `SELECT * FROM jobs ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT $${params.length}`;
    return (await this.session.query(sql, params)).map(toJobRow);
  }

  async childJobs(parentId: number): Promise<JobRow[]> {
    return (await this.session.query('SELECT * FROM jobs WHERE parent_id = $1 ORDER BY id', [parentId])).map(toJobRow);
  }

  async activeJobs(): Promise<JobRow[]> {
    return (await this.session.query(`SELECT * FROM jobs WHERE status IN ('queued', 'running', 'retrying', 'canceling') ORDER BY id`)).map(toJobRow);
  }

  async jobErrorCounts(job: number, step?: number): Promise<{ open: number; resolved: number }> {
    const rows =
      step === undefined
        ? await this.session.query<{ resolved: boolean; n: number }>('SELECT resolved, count(*) AS n FROM errors WHERE job = $1 GROUP BY resolved', [job])
        : await this.session.query<{ resolved: boolean; n: number }>('SELECT resolved, count(*) AS n FROM errors WHERE job = $1 AND step = $2 GROUP BY resolved', [job, step]);
    return { open: rows.find((r) => !r.resolved)?.n ?? 0, resolved: rows.find((r) => r.resolved)?.n ?? 0 };
  }
}

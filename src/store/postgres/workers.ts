import { processAlive } from '../shared/owners.js';
import { hostname } from 'node:os';
import type { WorkerIdentity, WorkersPort } from '../contract/ports.js';
import type { PgSession } from './session.js';

// Worker processes on any host (sharedWorkers): each registers a row and keeps its heartbeat
// fresh; they share jobs through item leases, so registering never keeps another worker out.

/** Rows whose heartbeat is this many stale periods old are dropped when a worker registers. */
const FORGET_AFTER_STALE_PERIODS = 10;

export class PgWorkers implements WorkersPort {
  constructor(private readonly session: PgSession) {}

  async acquire(worker: WorkerIdentity, now: number, staleMs: number): Promise<boolean> {
    await this.session.execute('DELETE FROM workers WHERE heartbeat_at < $1', [now - FORGET_AFTER_STALE_PERIODS * staleMs]);
    await this.session.execute(
      `INSERT INTO workers (id, host, pid, heartbeat_at, started_at) VALUES ($1, $2, $3, $4, $4)
       ON CONFLICT (id) DO UPDATE SET heartbeat_at = excluded.heartbeat_at`,
      [worker.id, worker.host, worker.pid, now],
    );
    return true;
  }

  async renew(worker: WorkerIdentity, now: number): Promise<boolean> {
    return (await this.session.execute('UPDATE workers SET heartbeat_at = $1 WHERE id = $2', [now, worker.id])) === 1;
  }

  async release(worker: WorkerIdentity): Promise<void> {
    await this.session.execute('DELETE FROM workers WHERE id = $1', [worker.id]);
  }

  async anyAlive(now: number, staleMs: number): Promise<boolean> {
    const fresh = await this.session.query<{ host: string; pid: number }>('SELECT host, pid FROM workers WHERE heartbeat_at > $1', [now - staleMs]);
    // A worker of this host is checked alive by its pid; one elsewhere is trusted by its heartbeat.
    const here = hostname();
    return fresh.some((w) => w.host !== here || processAlive(w.pid));
  }
}

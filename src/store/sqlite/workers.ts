import type { WorkerIdentity } from '../contract/ports.js';
import type { SqliteCore } from './core.js';
import { processAlive } from '../shared/owners.js';

// One worker per SQLite workspace: a lease in meta (pid and heartbeat) that the worker renews
// with compare-and-set; a live pid with a fresh heartbeat keeps every other worker out.

const LEASE_KEY = 'worker_lease';

interface Lease {
  pid: number;
  heartbeat: number;
  staleMs?: number;
}


export class SqliteWorkers {
  constructor(private readonly core: SqliteCore) {}

  private lease(): Lease | undefined {
    const raw = this.core.getMeta(LEASE_KEY);
    return raw ? (JSON.parse(raw) as Lease) : undefined;
  }

  acquire(worker: WorkerIdentity, now: number, staleMs: number): boolean {
    return this.core.transaction(() => {
      const lease = this.lease();
      if (lease && lease.pid !== worker.pid && processAlive(lease.pid) && now - lease.heartbeat < staleMs) return false;
      this.core.setMeta(LEASE_KEY, JSON.stringify({ pid: worker.pid, heartbeat: now, staleMs }));
      return true;
    });
  }

  renew(worker: WorkerIdentity, now: number): boolean {
    const staleMs = this.lease()?.staleMs;
    return this.core.setMetaIf(LEASE_KEY, 'pid', worker.pid, JSON.stringify({ pid: worker.pid, heartbeat: now, staleMs }));
  }

  release(worker: WorkerIdentity): void {
    this.core.transaction(() => {
      if (this.lease()?.pid === worker.pid) this.core.deleteMeta(LEASE_KEY);
    });
  }

  anyAlive(now: number, staleMs: number): boolean {
    const lease = this.lease();
    return !!lease && processAlive(lease.pid) && now - lease.heartbeat < staleMs;
  }
}

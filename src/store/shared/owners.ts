import { hostname } from 'node:os';

// Worker owner ids are `${host}:${pid}:${random}`: a lease held by a process of this host that has
// ended can be given back at once instead of waiting out its expiry (a restart after a kill -9
// resumes straight away). Other hosts' processes cannot be checked; their leases expire.

export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Whether `owner` names a process of this host that is no longer running. */
export function isDeadLocalOwner(owner: string): boolean {
  const host = `${hostname()}:`;
  if (!owner.startsWith(host)) return false;
  const pid = Number(owner.slice(host.length).split(':')[0]);
  return Number.isInteger(pid) && pid > 0 && !processAlive(pid);
}

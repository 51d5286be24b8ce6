import { readFileSync } from 'node:fs';

// A process's own peak RSS in MB. Linux's getrusage maxrss (process.resourceUsage().maxRSS) keeps
// the high-water mark across execve, so a child forked from a big benchmark process reports the
// parent's size (566 MB for a 111 MB export). VmHWM is the peak of the memory of this program only.

export function ownPeakRssMB(): number {
  try {
    const hwm = /^VmHWM:\s+(\d+)\s+kB/m.exec(readFileSync('/proc/self/status', 'utf8'));
    if (hwm) return Number(hwm[1]) / 1024;
  } catch {
    // not Linux: fall through
  }
  return process.resourceUsage().maxRSS / 1024;
}

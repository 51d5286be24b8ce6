import type { Job } from '../domain/api.js';
import { formatCount } from './output.js';

// A progress bar on stderr for long jobs: redrawn in place on a terminal, silent otherwise
// (scripts read the final summary instead).

/** A bar filled to done/total; with no known total (a flow job), only the count. */
export function progressBar(done: number, total: number | undefined, width = 30): string {
  if (!total) return formatCount(done);
  const ratio = Math.min(1, done / total);
  const filled = Math.round(ratio * width);
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${formatCount(done)}/${formatCount(total)}`;
}

export function jobProgressLine(job: Job, total: number | undefined): string {
  const done = (job.numSuccess ?? 0) + (job.numError ?? 0) + (job.numIgnore ?? 0);
  return `${progressBar(done, total)}  ${formatCount(job.numSuccess ?? 0)} resolved, ${formatCount(job.numError ?? 0)} failing  (${job.status})`;
}

export function makeProgress(stream: NodeJS.WritableStream & { isTTY?: boolean }, initialTotal?: number) {
  let last = 0;
  let drawn = false;
  let total = initialTotal;
  return {
    /** The records the job holds, once known (a retry job's count when it was queued). */
    setTotal(n: number) {
      total = n;
    },
    update(job: Job, force = false) {
      if (!stream.isTTY) return;
      const now = Date.now();
      if (!force && now - last < 100) return;
      last = now;
      drawn = true;
      stream.write(`\r${jobProgressLine(job, total)}\x1b[K`);
    },
    done() {
      if (stream.isTTY) stream.write('\r\x1b[K');
      drawn = false;
    },
    /** Following stopped before the job ended (the server went away): the last bar stays, and what
     * is said next starts on a line of its own instead of at the bar's end. */
    interrupted() {
      if (drawn) stream.write('\n');
      drawn = false;
    },
  };
}

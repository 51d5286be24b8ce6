import type { Job } from '../domain/api.js';

// A progress bar on stderr for long jobs: redrawn in place on a terminal, silent otherwise
// (scripts read the final summary instead).

export function progressBar(done: number, total: number, width = 30): string {
  const ratio = total > 0 ? Math.min(1, done / total) : 0;
  const filled = Math.round(ratio * width);
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${done}/${total}`;
}

export function jobProgressLine(job: Job, total: number): string {
  const done = (job.numSuccess ?? 0) + (job.numError ?? 0) + (job.numIgnore ?? 0);
  return `${progressBar(done, total)}  ${job.numSuccess ?? 0} resolved, ${job.numError ?? 0} failing  (${job.status})`;
}

export function makeProgress(stream: NodeJS.WritableStream & { isTTY?: boolean }, total: number) {
  let last = 0;
  return {
    update(job: Job) {
      if (!stream.isTTY) return;
      const now = Date.now();
      if (now - last < 100) return;
      last = now;
      stream.write(`\r${jobProgressLine(job, total)}\x1b[K`);
    },
    done() {
      if (stream.isTTY) stream.write('\r\x1b[K');
    },
  };
}

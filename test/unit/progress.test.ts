import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { jobProgressLine, makeProgress, progressBar } from '../../src/cli/progress.js';

// The CLI's progress bar fills up to the job's real total (a retry job's records, known when it is
// queued), never "8000/0"; with no total known (a flow job) it shows the count alone.

describe('progress', () => {
  it('fills up to the real total; with none known, shows the count alone', () => {
    expect(progressBar(4000, 8000, 10)).toBe('[#####-----] 4,000/8,000');
    expect(progressBar(8000, undefined, 10)).toBe('8,000');
    expect(progressBar(8000, 0, 10)).toBe('8,000');
  });

  it('takes the total once the job is queued, and draws at once when told', () => {
    const out = Object.assign(new PassThrough(), { isTTY: true });
    const chunks: string[] = [];
    out.on('data', (c: Buffer) => chunks.push(c.toString('utf8')));
    const progress = makeProgress(out);
    progress.setTotal(8000);
    const job = { _id: 'j', type: 'retry' as const, status: 'queued' as const, numSuccess: 0, numError: 0 };
    progress.update(job, true);
    expect(chunks.join('')).toContain('0/8,000  0 resolved, 0 failing  (queued)');
    expect(jobProgressLine({ ...job, status: 'running', numSuccess: 7990, numError: 10 }, 8000)).toMatch(/^\[#{30}\] 8,000\/8,000  7,990 resolved, 10 failing  \(running\)$/);
  });

  it('ends the bar\'s line when following stops early, so the error that follows has a line of its own', () => {
    const out = Object.assign(new PassThrough(), { isTTY: true });
    const chunks: string[] = [];
    out.on('data', (c: Buffer) => chunks.push(c.toString('utf8')));
    const progress = makeProgress(out, 182);
    progress.interrupted();
    expect(chunks.join('')).toBe('');
    progress.update({ _id: 'j', type: 'retry', status: 'running', numSuccess: 0, numError: 125 }, true);
    progress.interrupted();
    expect(chunks.join('')).toMatch(/125\/182  0 resolved, 125 failing  \(running\)\x1b\[K\n$/);
  });
});

import type { Writable } from 'node:stream';
import type { TextDownload } from './contract/index.js';

// A download (CSV text chunks from a local export or a server's signed URL) written to its file,
// the rows counted as they pass for the progress bar.

/** Counts CSV records (RFC 4180: a line break inside quotes is part of a field) across chunks. */
export class CsvRecordCounter {
  private inQuotes = false;
  private lines = 0;

  add(text: string): void {
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c === 34) this.inQuotes = !this.inQuotes; // an escaped "" toggles twice
      else if (c === 10 && !this.inQuotes) this.lines++;
    }
  }

  /** Records after the header. */
  get rows(): number {
    return Math.max(0, this.lines - 1);
  }
}

/**
 * Writes every chunk to `out` (left open), waiting for it to drain when it asks to; a write error
 * ends the download. Answers how many records followed the header.
 */
export async function saveDownload(download: TextDownload, out: Writable, onRows?: (rows: number) => void): Promise<{ rows: number }> {
  const counter = new CsvRecordCounter();
  let failure: Error | undefined;
  const onError = (e: Error) => {
    failure ??= e;
  };
  out.on('error', onError);
  try {
    for await (const text of download) {
      if (failure) throw failure;
      counter.add(text);
      if (!out.write(text)) await drainOrError(out);
      if (failure) throw failure;
      onRows?.(counter.rows);
    }
  } finally {
    out.off('error', onError);
  }
  return { rows: counter.rows };
}

/** Resolves when `out` drains or fails, leaving no listener behind either way. */
function drainOrError(out: Writable): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      out.off('drain', done);
      out.off('error', done);
      resolve();
    };
    out.on('drain', done);
    out.on('error', done);
  });
}

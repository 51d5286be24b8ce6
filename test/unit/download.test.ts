import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { CsvRecordCounter, saveDownload } from '../../src/backend/download.js';

// A download (CSV text chunks) written to its file by the client, its records counted as they
// pass: a line break inside quotes is part of a field, a chunk may end anywhere (inside a quoted
// field too), the header is no record, and a destination that fails ends the download.

const HEADER = 'occurredAt,message,errorId\n';
const RECORDS = ['2026-11-01T12:00:00.000Z,plain,e1\n', '2026-11-01T12:00:01.000Z,"Line one, ""quoted""\nline two",e2\n', '2026-11-01T12:00:02.000Z,"a\n\nb ""\n"" c",e3\n'];
const TEXT = HEADER + RECORDS.join('');

function count(...chunks: string[]): number {
  const counter = new CsvRecordCounter();
  for (const c of chunks) counter.add(c);
  return counter.rows;
}

/** A download of these chunks that records how far it was read and whether it was ended early. */
function downloadOf(chunks: string[]) {
  const state = { pulled: 0, returned: false };
  async function* generate() {
    try {
      for (const c of chunks) {
        state.pulled++;
        yield c;
      }
    } finally {
      state.returned = state.pulled < chunks.length;
    }
  }
  return { download: generate(), state };
}

class Collect extends Writable {
  text = '';
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (e?: Error) => void): void {
    this.text += chunk.toString();
    cb();
  }
}

describe('CsvRecordCounter', () => {
  it('counts records, not lines: a line break inside quotes is part of the field, "" an escaped quote', () => {
    expect(count(TEXT)).toBe(3);
    expect(count(HEADER, '1,"say ""hi""",x\n')).toBe(1);
  });

  it('a header alone is 0 rows, and so is nothing at all', () => {
    expect(count(HEADER)).toBe(0);
    expect(count('')).toBe(0);
    expect(count()).toBe(0);
  });

  it('gives the same count wherever the chunks split the text, inside a quoted field or between its doubled quotes', () => {
    for (let i = 0; i <= TEXT.length; i++) expect(count(TEXT.slice(0, i), TEXT.slice(i)), `split at ${i}`).toBe(3);
    // One character at a time: every boundary at once.
    expect(count(...TEXT)).toBe(3);
  });
});

describe('saveDownload', () => {
  it('writes every chunk in order, leaves the destination open and answers the rows, reporting them as they pass', async () => {
    const { download } = downloadOf([HEADER, ...RECORDS]);
    const out = new Collect();
    const seen: number[] = [];
    const result = await saveDownload(download, out, (rows) => seen.push(rows));
    expect(result).toEqual({ rows: 3 });
    expect(out.text).toBe(TEXT);
    expect(out.writableEnded).toBe(false);
    expect(seen).toEqual([0, 1, 2, 3]);
  });

  it('a header-only download is 0 rows, the header written', async () => {
    const out = new Collect();
    expect(await saveDownload(downloadOf([HEADER]).download, out)).toEqual({ rows: 0 });
    expect(out.text).toBe(HEADER);
  });

  it('a chunk that ends inside a quoted field is counted with the next one', async () => {
    const cut = TEXT.indexOf('line two');
    const out = new Collect();
    const seen: number[] = [];
    expect(await saveDownload(downloadOf([TEXT.slice(0, cut), TEXT.slice(cut)]).download, out, (rows) => seen.push(rows))).toEqual({ rows: 3 });
    // The first chunk holds one whole record and the start of the next: one row so far, not two.
    expect(seen).toEqual([1, 3]);
    expect(out.text).toBe(TEXT);
  });

  it('reads no further while the destination is over its high-water mark', async () => {
    const chunks = [HEADER, ...Array.from({ length: 200 }, (_, i) => `2026-11-01T12:00:00.000Z,"record ${i}\n${'x'.repeat(300)}",e${i}\n`)];
    const { download, state } = downloadOf(chunks);
    let written = 0;
    let maxAhead = 0;
    const slow = new Writable({
      highWaterMark: 256,
      write(_chunk: Buffer, _enc, cb) {
        // Chunks read but not yet written, this one included.
        maxAhead = Math.max(maxAhead, state.pulled - written);
        setImmediate(() => {
          written++;
          cb();
        });
      },
    });
    expect(await saveDownload(download, slow)).toEqual({ rows: 200 });
    // Every chunk but the header is over the mark, so each waits for the one before it to drain.
    expect(maxAhead).toBeLessThanOrEqual(2);
    expect(state.pulled).toBe(chunks.length);
  });

  it('leaves no listener behind on the destination however often it waited for it to drain', async () => {
    const chunks = [HEADER, ...Array.from({ length: 200 }, (_, i) => `x,"${'y'.repeat(300)}",e${i}\n`)];
    const slow = new Writable({
      highWaterMark: 256,
      write(_chunk: Buffer, _enc, cb) {
        setImmediate(cb);
      },
    });
    const before = { error: slow.listenerCount('error'), drain: slow.listenerCount('drain') };
    const warnings: Error[] = [];
    const onWarning = (w: Error) => warnings.push(w);
    process.on('warning', onWarning);
    try {
      expect(await saveDownload(downloadOf(chunks).download, slow)).toEqual({ rows: 200 });
      // A warning is emitted on the next tick: let it arrive before looking.
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      process.off('warning', onWarning);
    }
    // 200 waits for 'drain' must not leave 200 'error' listeners on the caller's stream (a million-row
    // export to a file would print a MaxListenersExceededWarning on the operator's terminal).
    expect({ error: slow.listenerCount('error'), drain: slow.listenerCount('drain') }).toEqual(before);
    expect(warnings.map((w) => w.name)).not.toContain('MaxListenersExceededWarning');
  });

  it('a write error ends the download: it rejects with that error and reads no more', async () => {
    const { download, state } = downloadOf([HEADER, ...RECORDS, ...RECORDS, ...RECORDS]);
    // A destination that is slow to take a write (highWaterMark 1: every write waits) and then fails.
    const failing = new Writable({
      highWaterMark: 1,
      write(_chunk, _enc, cb) {
        setImmediate(() => cb(Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' })));
      },
    });
    await expect(saveDownload(download, failing)).rejects.toThrow(/ENOSPC/);
    // The first chunk's write failed: no other chunk was read, and the download was ended (its finally ran).
    expect(state.pulled).toBe(1);
    expect(state.returned).toBe(true);
  });

  it('a write that fails at once ends it at the first chunk', async () => {
    const failing = new Writable({
      write(_chunk, _enc, cb) {
        cb(new Error('EIO: i/o error, write'));
      },
    });
    const { download, state } = downloadOf([HEADER, ...RECORDS]);
    await expect(saveDownload(download, failing)).rejects.toThrow(/EIO/);
    expect(state).toEqual({ pulled: 1, returned: true });
  });
});

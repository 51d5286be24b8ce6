import { once } from 'node:events';
import { createWriteStream, rmSync, type WriteStream } from 'node:fs';
import { Writable } from 'node:stream';
import { isClosedPipe } from '../../src/cli/closed-pipe.js';
import { Command } from 'commander';
import { saveDownload } from '../../src/backend/download.js';
import { withBackend, type CommandIO } from '../../src/cli/context.js';
import { addFilterOptions, queryTextFromOptions, type FilterOptions } from '../../src/cli/filters.js';
import { formatCount } from '../../src/cli/output.js';
import { assertWritableFile } from '../../src/cli/input.js';
import type { Backend, CsvExportOptions } from '../../src/backend/contract/index.js';

interface ExportOptions extends FilterOptions {
  resolved?: boolean;
  output?: string;
  startAt?: string;
}

/**
 * A file opened on its first write. The export writes nothing before it has accepted its input, so
 * a rejected flag or an unknown step neither creates the file nor truncates one that exists.
 */
class LazyFile extends Writable {
  private inner: WriteStream | undefined;

  constructor(private readonly path: string) {
    super({ decodeStrings: false });
  }

  get opened(): boolean {
    return this.inner !== undefined;
  }

  private file(): WriteStream {
    if (!this.inner) {
      this.inner = createWriteStream(this.path);
      this.inner.on('error', (e) => this.destroy(e));
    }
    return this.inner;
  }

  override _write(chunk: string | Buffer, encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    if (this.file().write(chunk, encoding)) callback();
    else this.inner!.once('drain', () => callback());
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.file().end(() => callback());
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    if (this.inner && !this.inner.destroyed) this.inner.destroy();
    callback(error);
  }

  /** Closes and removes a file this export created but did not finish. */
  async discard(): Promise<void> {
    if (!this.inner) return;
    if (!this.inner.closed) {
      const closed = once(this.inner, 'close').catch(() => undefined);
      this.inner.destroy();
      await closed;
    }
    rmSync(this.path, { force: true });
  }
}

/** A progress reporter for stderr: redrawn in place on a terminal, a line every few seconds otherwise. */
function progressReporter(stderr: CommandIO['stderr'], file: string, total?: number) {
  // Quiet for the first moments: a small export needs no progress, only its final line.
  let last = Date.now();
  let shown = false;
  const tty = stderr.isTTY === true;
  const every = tty ? 200 : 5000;
  return {
    update(rows: number) {
      const now = Date.now();
      if (now - last < every) return;
      last = now;
      shown = true;
      const text = total ? `Exporting to ${file}: ${formatCount(rows)}/${formatCount(total)} rows (${Math.min(100, Math.floor((rows / total) * 100))}%)` : `Exporting to ${file}: ${formatCount(rows)} rows`;
      stderr.write(tty ? `\r${text}\x1b[K` : `${text}\n`);
    },
    done() {
      if (tty && shown) stderr.write('\r\x1b[K');
    },
  };
}

/**
 * How many rows the export will write, for the bar's total: counted like the export selects them
 * (not when resuming at an errorId, which leaves an unknown part out; nor where a server cannot count).
 */
async function exportTotal(backend: Backend, flow: string, step: string | undefined, options: CsvExportOptions): Promise<number | undefined> {
  if (options.startAtErrorId !== undefined) return undefined;
  const params = { ...(options.query ? { query: options.query } : {}), ...(options.resolved ? { resolved: true } : {}) };
  try {
    const steps = step !== undefined ? [step] : (await backend.getFlow(flow)).steps.map((s) => s._id);
    let total = 0;
    for (const s of steps) total += await backend.countErrors(flow, s, params);
    return total;
  } catch {
    return undefined; // the export itself says what is wrong, if anything is
  }
}

export function errorsExportCommand(io: CommandIO): Command {
  const command = new Command('export')
    .description("export a step's errors (or a whole flow's, step id first) as CSV with the API's columns")
    .argument('<flow>', 'flow id or name')
    .argument('[step]', 'step id or name; every step of the flow when left out')
    .option('--resolved', 'resolved errors (resolvedAt, resolvedBy first) instead of open ones')
    .option('-o, --output <file>', 'write to a file (progress on stderr) instead of stdout')
    .option('--start-at <errorId>', 'resume: leave out errors whose ids sort before this one');
  addFilterOptions(command);
  return command.action(async (flow: string, step: string | undefined, opts: ExportOptions) => {
    const query = queryTextFromOptions(opts);
    const options: CsvExportOptions = {
      ...(opts.resolved ? { resolved: true } : {}),
      ...(opts.startAt !== undefined ? { startAtErrorId: opts.startAt } : {}),
      ...(query ? { query } : {}),
    };
    await withBackend(io, async (backend) => {
      if (!opts.output) {
        // Asked before anything is written: a bad request prints nothing on stdout.
        const download = await backend.records.exportErrors(flow, step, options);
        try {
          await saveDownload(download, io.stdout as NodeJS.WritableStream as import('node:stream').Writable);
        } catch (e) {
          // A reader that stops early (| head) is not a failure of the export.
          if (isClosedPipe(e)) return;
          throw e;
        }
        return;
      }
      const file = opts.output;
      assertWritableFile(file, 'output');
      const download = await backend.records.exportErrors(flow, step, options);
      const out = new LazyFile(file);
      // A write that fails later (disk full) ends the export with one line, not an unhandled event.
      let writeError: Error | undefined;
      out.on('error', (e) => (writeError ??= e));
      const progress = progressReporter(io.stderr, file, await exportTotal(backend, flow, step, options));
      try {
        const result = await saveDownload(download, out, (rows) => progress.update(rows));
        if (writeError) throw writeError;
        out.end();
        await once(out, 'finish');
        progress.done();
        io.stderr.write(`Wrote ${formatCount(result.rows)} row${result.rows === 1 ? '' : 's'} to ${file}\n`);
      } catch (e) {
        progress.done();
        out.destroy();
        await out.discard();
        throw e;
      }
    });
  });
}

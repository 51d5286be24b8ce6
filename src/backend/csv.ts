import { stringify } from 'csv-stringify/sync';
import { InvalidInputError } from '../domain/errors.js';
import { decodeId, ID_KINDS, idSeconds } from '../domain/ids.js';
import { parseQuery } from '../domain/query.js';
import { CSV_SLOTS } from '../store/contract/csv.js';
import type { CsvChunkQuery, QueryContext } from '../store/contract/queries.js';
import type { Store } from '../store/contract/store.js';
import type { LocalBackend } from './local-backend.js';
import type { CsvExportOptions, TextDownload } from './contract/index.js';

// The CSV export of a step's (or a whole flow's) open or resolved errors, with exactly the columns
// the API's signedURL endpoints document. Built for a million rows: the store hands back raw arrays in
// keyset chunks, each array is rewritten in place into the output row (no per-row objects), each
// chunk becomes one string of CSV records, and that string is one write that respects the
// destination's backpressure. The header is always written, also for zero rows.
//
// The format is csv-stringify's (default options: `,` between fields, `\n` after every record, a
// field quoted when it holds `"`, `,` or `\n`, quotes doubled, null and empty as nothing). The header,
// and any record holding a value other than a string, number, null or undefined, are written by
// csv-stringify itself; the records of an export (strings and nulls only) take the fast path
// `csvRecord`, which writes the same bytes (test/unit/csv.test.ts compares them on tricky values)
// without csv-stringify's per-field casting and per-record Transform-stream round trip, which cost
// about a third of an export's time.

export const OPEN_ERROR_CSV_COLUMNS = [
  'occurredAt',
  'source',
  'code',
  'message',
  'traceKey',
  'exportDataURI',
  'importDataURI',
  'oIndex',
  'retryDataKey',
  'errorId',
  'legacyId',
  'reqAndResKey',
  'purgeAt',
  'tags',
  'assignedTo',
  'assignedBy',
  '_assignedToUserId',
] as const;

export const RESOLVED_ERROR_CSV_COLUMNS = ['resolvedAt', 'resolvedBy', ...OPEN_ERROR_CSV_COLUMNS] as const;

/** The leading column of a whole-flow export: which step a row belongs to. */
export const STEP_CSV_COLUMN = '_expOrImpId';

export function csvColumns(resolved: boolean, wholeFlow: boolean): string[] {
  return [...(wholeFlow ? [STEP_CSV_COLUMN] : []), ...(resolved ? RESOLVED_ERROR_CSV_COLUMNS : OPEN_ERROR_CSV_COLUMNS)];
}

const HEX_ROW_PAD = '00000000000000';
export const KIND_HEX = {
  error: ID_KINDS.error.toString(16).padStart(2, '0'),
  retryData: ID_KINDS.retryData.toString(16).padStart(2, '0'),
  trace: ID_KINDS.trace.toString(16).padStart(2, '0'),
  user: ID_KINDS.user.toString(16).padStart(2, '0'),
};
const MAX_FOUR_DIGIT_YEAR_MS = 253402300799999;

const DAY_MS = 86_400_000;
const TWO_DIGITS = Array.from({ length: 60 }, (_, i) => String(i).padStart(2, '0'));
const THREE_DIGITS = Array.from({ length: 1000 }, (_, i) => String(i).padStart(3, '0'));
const HEX_BYTE = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/**
 * ISO 8601 text of epoch ms exactly as Date#toISOString writes it, without a Date per value: the
 * date part is cached per day (an export walks rows in time order, so a day spans many rows), the
 * time of day comes from small tables.
 */
export class IsoFormatter {
  private day = Number.NaN;
  private prefix = '';

  format(ms: number): string {
    if (ms < 0 || ms > MAX_FOUR_DIGIT_YEAR_MS || !Number.isInteger(ms)) return new Date(ms).toISOString();
    const day = Math.floor(ms / DAY_MS);
    if (day !== this.day) {
      this.day = day;
      this.prefix = new Date(day * DAY_MS).toISOString().slice(0, 11);
    }
    let rest = ms - day * DAY_MS;
    const h = Math.floor(rest / 3_600_000);
    rest -= h * 3_600_000;
    const m = Math.floor(rest / 60_000);
    rest -= m * 60_000;
    const sec = Math.floor(rest / 1000);
    return `${this.prefix}${TWO_DIGITS[h]}:${TWO_DIGITS[m]}:${TWO_DIGITS[sec]}.${THREE_DIGITS[rest - sec * 1000]}Z`;
  }
}

/** encodeId(kind, rowId, ms) for one kind: the high 24 bits of the seconds change every 256 s, so they are cached. */
export class IdFormatter {
  private high = -1;
  private highHex = '';

  constructor(private readonly kindHex: string) {}

  format(rowId: number, ms: number): string {
    return this.formatSeconds(rowId, idSeconds(ms));
  }

  /** encodeIdAtSeconds(kind, rowId, second), for ids whose seconds are stored (idSeconds). */
  formatSeconds(rowId: number, second: number): string {
    const high = second >>> 8;
    if (high !== this.high) {
      this.high = high;
      this.highHex = high.toString(16).padStart(6, '0');
    }
    const hex = rowId.toString(16);
    return `${this.highHex}${HEX_BYTE[second & 0xff]}${this.kindHex}${HEX_ROW_PAD.slice(hex.length)}${hex}`;
  }
}

/**
 * Rewrites raw rows into output rows. Each time column and id kind has its own formatter (and so its
 * own cache): the columns of one row are far apart in time (purgeAt is 30 days after occurredAt),
 * the same column of consecutive rows is not.
 */
class RowFormatter {
  private readonly occurredAt = new IsoFormatter();
  private readonly purgeAt = new IsoFormatter();
  private readonly resolvedAt = new IsoFormatter();
  private readonly errorId = new IdFormatter(KIND_HEX.error);
  private readonly retryDataKey = new IdFormatter(KIND_HEX.retryData);
  private readonly reqAndResKey = new IdFormatter(KIND_HEX.trace);
  private readonly userId = new IdFormatter(KIND_HEX.user);
  private readonly tagCache = new Map<string, string>();

  constructor(
    private readonly tagNames: Map<string, string>,
    private readonly usersCreatedAt: Map<number, number>,
  ) {}

  tags(json: string): string {
    let text = this.tagCache.get(json);
    if (text === undefined) {
      const codes = JSON.parse(json) as string[];
      text = codes.map((c) => this.tagNames.get(c) ?? c).join(',');
      this.tagCache.set(json, text);
    }
    return text;
  }

  /**
   * Rewrites a raw chunk row (CSV_SLOTS after `lead` leading columns) into the output columns, in
   * place. Returns the error row id, which the rewrite replaces with the errorId.
   */
  row(r: unknown[], lead: number, resolved: boolean): number {
    const o = lead;
    if (resolved) {
      const at = r[o - 2];
      if (at !== null) r[o - 2] = this.resolvedAt.format(at as number);
    }
    const occurred = r[o + CSV_SLOTS.occurredAt] as number;
    const rowId = r[o + CSV_SLOTS.errorRow] as number;
    // Ids first: they need the key seconds that the slots of the empty URI columns still hold.
    r[o + CSV_SLOTS.errorRow] = this.errorId.format(rowId, occurred);
    const retryData = r[o + CSV_SLOTS.retryData];
    const rdSec = r[o + CSV_SLOTS.retryDataSeconds];
    r[o + CSV_SLOTS.retryData] = retryData === null || rdSec === null ? null : this.retryDataKey.formatSeconds(retryData as number, rdSec as number);
    const trace = r[o + CSV_SLOTS.trace];
    const traceSec = r[o + CSV_SLOTS.traceSeconds];
    r[o + CSV_SLOTS.trace] = trace === null || traceSec === null ? null : this.reqAndResKey.formatSeconds(trace as number, traceSec as number);
    const user = r[o + CSV_SLOTS.user];
    if (user !== null) {
      const userAt = this.usersCreatedAt.get(user as number);
      r[o + CSV_SLOTS.user] = userAt === undefined ? null : this.userId.format(user as number, userAt);
    }
    r[o + CSV_SLOTS.retryDataSeconds] = null; // exportDataURI
    r[o + CSV_SLOTS.traceSeconds] = null; // importDataURI
    r[o + CSV_SLOTS.occurredAt] = this.occurredAt.format(occurred);
    const purge = r[o + CSV_SLOTS.purgeAt];
    if (purge !== null) r[o + CSV_SLOTS.purgeAt] = this.purgeAt.format(purge as number);
    const tags = r[o + CSV_SLOTS.tags];
    if (tags !== null) r[o + CSV_SLOTS.tags] = this.tags(tags as string);
    return rowId;
  }
}

interface ExportShape {
  lead: number;
  resolved: boolean;
}

// Small chunks (a chunk is ~75 KB of CSV, one write) keep what is live at each young-generation GC
// small: measured fastest.
const CHUNK_ROWS = 256;

const NEEDS_QUOTES = /[",\n]/;
const QUOTES = /"/g;

/**
 * One CSV record, newline included, byte for byte what csv-stringify writes for `values` with the
 * options of the export (its defaults): strings are quoted when they hold `"`, `,` or `\n` (a lone
 * `\r` is not, as in csv-stringify), with quotes doubled; numbers are written with String(); null,
 * undefined and '' are empty. A record with any other kind of value (boolean, bigint, object, Date)
 * is handed to csv-stringify.
 */
export function csvRecord(values: readonly unknown[]): string {
  let line = '';
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (i > 0) line += ',';
    if (typeof v === 'string') {
      if (NEEDS_QUOTES.test(v)) line += `"${v.replace(QUOTES, '""')}"`;
      else line += v;
    } else if (typeof v === 'number') {
      line += String(v);
    } else if (v !== null && v !== undefined) {
      return stringify([values]);
    }
  }
  return `${line}\n`;
}

/** The header record, written by csv-stringify. */
export function csvHeader(columns: readonly string[]): string {
  return stringify([], { header: true, columns: [...columns] });
}
/**
 * Reads keyset chunks of raw rows and rewrites them in place into output rows. Yields to the event
 * loop every few chunks, so a long export never freezes the process it runs in (the TUI, a server).
 */
class ChunkSource {
  private sinceYield = 0;
  private plan = 0;
  private rows: AsyncIterator<unknown[][]> | undefined;

  constructor(
    private readonly store: Store,
    private readonly plans: CsvChunkQuery[],
    private readonly ctx: QueryContext,
    private readonly format: RowFormatter,
    private readonly shape: ExportShape,
    /** Where every plan starts: the resume point applies to each step. */
    private readonly fromId: number,
  ) {}

  async next(): Promise<unknown[][] | null> {
    if (++this.sinceYield >= 16) {
      this.sinceYield = 0;
      await new Promise((resolve) => setImmediate(resolve));
    }
    while (this.plan < this.plans.length) {
      this.rows ??= this.store.records.csvRows(this.plans[this.plan]!, this.ctx, this.fromId, CHUNK_ROWS)[Symbol.asyncIterator]();
      const read = await this.rows.next();
      if (read.done) {
        this.plan++;
        this.rows = undefined;
        continue;
      }
      const chunk = read.value;
      for (const r of chunk) this.format.row(r, this.shape.lead, this.shape.resolved);
      if (chunk.length > 0) return chunk;
    }
    return null;
  }

  /** Ends the read of the step in progress (a download closed early). */
  async close(): Promise<void> {
    await this.rows?.return?.();
    this.rows = undefined;
  }
}

/**
 * The errors of one step (or of every step of the flow, `_expOrImpId` first) as CSV text chunks of
 * whole records, the header with the first. Everything that can reject the request is checked
 * before this resolves; the download reads the store a chunk at a time as it is consumed, so
 * memory holds a chunk or two whatever the size.
 */
export async function exportErrorsCsv(local: LocalBackend, flowRef: string, stepRef: string | undefined, options: CsvExportOptions): Promise<TextDownload> {
  const flow = await local.resolveFlow(flowRef);
  const wholeFlow = stepRef === undefined;
  const steps = wholeFlow ? await local.store.catalog.steps(flow.id) : [await local.resolveStep(flow, stepRef)];
  const resolved = options.resolved === true;
  let fromId = 1;
  if (options.startAtErrorId !== undefined) {
    const decoded = decodeId('error', options.startAtErrorId);
    if (!decoded) throw new InvalidInputError(`--start-at must be an errorId, got "${options.startAtErrorId}"`, 'startAtErrorId');
    fromId = decoded.rowId;
  }
  const terms = parseQuery(options.query ?? '').terms;
  const ctx = await local.queryContext();
  const plans: CsvChunkQuery[] = steps.map((s) => ({ step: s.key, resolved, terms, stepColumn: wholeFlow ? s.stepId : undefined }));
  const columns = csvColumns(resolved, wholeFlow);
  const shape: ExportShape = { lead: (wholeFlow ? 1 : 0) + (resolved ? 2 : 0), resolved };
  const format = new RowFormatter(await local.store.records.tagNames(), await local.store.records.usersCreatedAt());
  const source = new ChunkSource(local.store, plans, ctx, format, shape, fromId);
  // The first chunk is read now: a query the store refuses rejects the request, not the download.
  const first = await source.next().catch(async (e: unknown) => {
    await source.close();
    throw e;
  });

  async function* chunks(): AsyncGenerator<string> {
    try {
      let header = csvHeader(columns);
      for (let chunk = first; chunk !== null; chunk = await source.next()) {
        let text = header;
        header = '';
        for (const r of chunk) text += csvRecord(r);
        yield text;
      }
      if (header) yield header;
    } finally {
      await source.close();
    }
  }
  return chunks();
}

import { createHash } from 'node:crypto';

// Row ids are ObjectId-style 24-hex strings: 8 hex of seconds since epoch, 2 hex naming the kind
// of thing, 14 hex of the store's integer row id. They sort lexically in time order (CSV
// `startAtErrorId` relies on that), and they decode back to the row id, so the store needs no
// second unique index of 24-byte strings on a million-row table.

export const ID_KINDS = {
  job: 0x10,
  error: 0xe0,
  retryData: 0xd0,
  trace: 0xa0,
  logEntry: 0x70,
  user: 0x50,
} as const;
export type IdKind = keyof typeof ID_KINDS;

const HEX24 = /^[0-9a-f]{24}$/;
const MAX_ROW = 2 ** 53 - 1;

export function encodeId(kind: IdKind, rowId: number, epochMs: number): string {
  return encodeIdAtSeconds(kind, rowId, idSeconds(epochMs));
}

/** The seconds an id of something created at `epochMs` carries in its first 8 hex digits. */
export function idSeconds(epochMs: number): number {
  return Math.max(0, Math.floor(epochMs / 1000)) >>> 0;
}

/**
 * idSeconds as SQL over an integer epoch-ms expression, for columns that store it (errors.retry_data_sec
 * and errors.trace_sec hold the seconds of the retryDataKey and reqAndResKey, so reading an error does
 * not read the wide snapshot and trace rows). Integer division truncates toward zero, which is floor for
 * the non-negative values that max() leaves, and `&` wraps like `>>> 0`.
 */
export function idSecondsSql(epochMsExpr: string): string {
  return `(max(0, ${epochMsExpr} / 1000) & 4294967295)`;
}

/** encodeId from the seconds (idSeconds) rather than the time. */
export function encodeIdAtSeconds(kind: IdKind, rowId: number, seconds: number): string {
  return seconds.toString(16).padStart(8, '0') + ID_KINDS[kind].toString(16).padStart(2, '0') + rowId.toString(16).padStart(14, '0');
}

export interface DecodedId {
  seconds: number;
  rowId: number;
}

/** The row id behind an id of the given kind, or undefined when the text is not such an id. */
export function decodeId(kind: IdKind, id: string): DecodedId | undefined {
  const text = id.toLowerCase();
  if (!HEX24.test(text)) return undefined;
  if (parseInt(text.slice(8, 10), 16) !== ID_KINDS[kind]) return undefined;
  const rowId = parseInt(text.slice(10), 16);
  if (!Number.isSafeInteger(rowId) || rowId <= 0 || rowId > MAX_ROW) return undefined;
  return { seconds: parseInt(text.slice(0, 8), 16), rowId };
}

/** Whether the stored time matches the id's seconds, so a forged or mistyped id is not accepted. */
export function idMatchesTime(decoded: DecodedId, epochMs: number): boolean {
  return decoded.seconds === idSeconds(epochMs);
}

/** A stable 24-hex id for a definition (flow, export, import, connection) from its key. */
export function definitionId(kind: string, key: string): string {
  return createHash('sha1').update(`${kind}:${key}`).digest('hex').slice(0, 24);
}

export function isObjectIdLike(text: string): boolean {
  return HEX24.test(text.toLowerCase());
}

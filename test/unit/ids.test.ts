import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import {
  decodeId,
  definitionId,
  encodeId,
  encodeIdAtSeconds,
  idMatchesTime,
  ID_KINDS,
  idSeconds,
  idSecondsSql,
  isObjectIdLike,
  type IdKind,
} from '../../src/domain/ids.js';

const T = Date.UTC(2025, 2, 3, 8, 0, 0, 456);

describe('encodeId / decodeId', () => {
  it('round-trips every kind, small and large row ids', () => {
    for (const kind of Object.keys(ID_KINDS) as IdKind[]) {
      for (const rowId of [1, 255, 123_456, 2 ** 40 + 7, 2 ** 53 - 1]) {
        const id = encodeId(kind, rowId, T);
        expect(id).toMatch(/^[0-9a-f]{24}$/);
        expect(decodeId(kind, id)).toEqual({ seconds: Math.floor(T / 1000), rowId });
      }
    }
  });

  it('lays out seconds, kind and row id as documented', () => {
    const id = encodeId('error', 0x2a, T);
    expect(id.slice(0, 8)).toBe(Math.floor(T / 1000).toString(16).padStart(8, '0'));
    expect(id.slice(8, 10)).toBe('e0');
    expect(id.slice(10)).toBe('0000000000002a');
  });

  it('accepts upper case but refuses an id of another kind', () => {
    const errorId = encodeId('error', 77, T);
    expect(decodeId('error', errorId.toUpperCase())?.rowId).toBe(77);
    for (const other of ['job', 'retryData', 'trace', 'logEntry', 'user'] as const) {
      expect(decodeId(other, errorId)).toBeUndefined();
    }
    expect(decodeId('job', encodeId('job', 77, T))?.rowId).toBe(77);
  });

  it('refuses text that is not a 24-hex id, and row id 0', () => {
    expect(decodeId('error', '')).toBeUndefined();
    expect(decodeId('error', encodeId('error', 5, T).slice(1))).toBeUndefined();
    expect(decodeId('error', `${encodeId('error', 5, T)}0`)).toBeUndefined();
    expect(decodeId('error', encodeId('error', 5, T).replace(/^./, 'g'))).toBeUndefined();
    expect(decodeId('error', encodeId('error', 0, T))).toBeUndefined();
    // 14 hex digits of all-f is beyond a safe integer
    expect(decodeId('error', `${encodeId('error', 1, T).slice(0, 10)}ffffffffffffff`)).toBeUndefined();
  });

  it('matches the stored time only to the second it encodes', () => {
    const decoded = decodeId('job', encodeId('job', 9, T))!;
    expect(idMatchesTime(decoded, T)).toBe(true);
    expect(idMatchesTime(decoded, Math.floor(T / 1000) * 1000)).toBe(true);
    expect(idMatchesTime(decoded, T + 1000)).toBe(false);
    expect(idMatchesTime(decoded, T - 1000)).toBe(false);
  });

  it('sorts lexically in time order, then by row id within a second', () => {
    // Row ids deliberately run against time, so only the time prefix can order them.
    const entries = Array.from({ length: 200 }, (_, i) => ({ at: T + i * 997, rowId: 10_000 - i * 13 }));
    const ids = entries.map((e) => encodeId('error', e.rowId, e.at));
    const byTime = [...entries]
      .sort((a, b) => Math.floor(a.at / 1000) - Math.floor(b.at / 1000) || a.rowId - b.rowId)
      .map((e) => encodeId('error', e.rowId, e.at));
    expect([...ids].sort()).toEqual(byTime);
    // within one second the row id decides
    expect(encodeId('error', 2, T) > encodeId('error', 1, T)).toBe(true);
    expect(encodeId('error', 0xfff, T) > encodeId('error', 0xff, T)).toBe(true);
    // a later second wins over any row id
    expect(encodeId('error', 1, T + 1000) > encodeId('error', 2 ** 50, T)).toBe(true);
  });
});

describe('definitionId', () => {
  it('is a stable 24-hex id per kind and key', () => {
    const id = definitionId('flow', 'Shop orders to ERP');
    expect(id).toMatch(/^[0-9a-f]{24}$/);
    expect(definitionId('flow', 'Shop orders to ERP')).toBe(id);
    expect(definitionId('export', 'Shop orders to ERP')).not.toBe(id);
    expect(definitionId('flow', 'Shop orders to erp')).not.toBe(id);
    expect(isObjectIdLike(id)).toBe(true);
    expect(isObjectIdLike(id.toUpperCase())).toBe(true);
    expect(isObjectIdLike(`${id}0`)).toBe(false);
  });
});

describe('idSeconds: the seconds an id encodes, in JavaScript and in SQL', () => {
  const times = [0, 1, 999, 1000, 1001, 1999, T, T + 544, Date.UTC(2026, 10, 21, 6, 0, 0, 999), 2 ** 32 * 1000 - 1, 2 ** 32 * 1000 + 5000, -1, -1000, -1500];

  it('encodeId is encodeIdAtSeconds of idSeconds', () => {
    for (const ms of times) {
      expect(encodeId('trace', 77, ms)).toBe(encodeIdAtSeconds('trace', 77, idSeconds(ms)));
      expect(idMatchesTime({ seconds: idSeconds(ms), rowId: 77 }, ms)).toBe(true);
    }
  });

  it('idSecondsSql computes idSeconds over an integer column (the back-fill and insertError use it)', () => {
    const db = new Database(':memory:');
    try {
      db.exec('CREATE TABLE t (ms INTEGER)');
      const insert = db.prepare('INSERT INTO t (ms) VALUES (?)');
      for (const ms of times) insert.run(ms);
      const rows = db.prepare(`SELECT ms, ${idSecondsSql('ms')} AS s FROM t`).all() as Array<{ ms: number; s: number }>;
      expect(rows).toHaveLength(times.length);
      for (const r of rows) expect(r.s).toBe(idSeconds(r.ms));
    } finally {
      db.close();
    }
  });
});

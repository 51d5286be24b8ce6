import { stringify } from 'csv-stringify';
import { stringify as stringifySync } from 'csv-stringify/sync';
import { describe, expect, it } from 'vitest';
import {
  csvColumns,
  csvHeader,
  csvRecord,
  IdFormatter,
  IsoFormatter,
  KIND_HEX,
  OPEN_ERROR_CSV_COLUMNS,
  RESOLVED_ERROR_CSV_COLUMNS,
} from '../../src/backend/csv.js';
import { encodeId, encodeIdAtSeconds, idSeconds } from '../../src/domain/ids.js';

// The CSV export's columns are the API's, character for character. The column lists below are the
// spec's own text (the descriptions of GET .../errors/signedURL and .../resolved/signedURL in the
// Flows API reference), copied verbatim because tests never read outside the repository.

const OPEN_SPEC_TEXT = `CSV columns: \`occurredAt\`, \`source\`, \`code\`, \`message\`, \`traceKey\`, \`exportDataURI\`,
\`importDataURI\`, \`oIndex\`, \`retryDataKey\`, \`errorId\`, \`legacyId\`, \`reqAndResKey\`, \`purgeAt\`,
\`tags\`, \`assignedTo\`, \`assignedBy\`, \`_assignedToUserId\`.`;

const RESOLVED_SPEC_TEXT = `Full CSV columns: \`resolvedAt\`, \`resolvedBy\`, \`occurredAt\`, \`source\`, \`code\`, \`message\`,
\`traceKey\`, \`exportDataURI\`, \`importDataURI\`, \`oIndex\`, \`retryDataKey\`, \`errorId\`, \`legacyId\`,
\`reqAndResKey\`, \`purgeAt\`, \`tags\`, \`assignedTo\`, \`assignedBy\`, \`_assignedToUserId\`.`;

/** The names in backticks, in order, as one CSV header line. */
function specHeader(text: string): string {
  return [...text.matchAll(/`([^`]+)`/g)].map((m) => m[1]).join(',');
}

describe('CSV columns', () => {
  it('open errors: exactly the spec list, in order', () => {
    expect(OPEN_ERROR_CSV_COLUMNS.join(',')).toBe(specHeader(OPEN_SPEC_TEXT));
    expect(csvColumns(false, false).join(',')).toBe(specHeader(OPEN_SPEC_TEXT));
  });

  it('resolved errors: resolvedAt, resolvedBy, then the open columns', () => {
    expect(RESOLVED_ERROR_CSV_COLUMNS.join(',')).toBe(specHeader(RESOLVED_SPEC_TEXT));
    expect(csvColumns(true, false).join(',')).toBe(specHeader(RESOLVED_SPEC_TEXT));
  });

  it('a whole-flow export leads with the step id column', () => {
    expect(csvColumns(false, true).join(',')).toBe(`_expOrImpId,${specHeader(OPEN_SPEC_TEXT)}`);
    expect(csvColumns(true, true).join(',')).toBe(`_expOrImpId,${specHeader(RESOLVED_SPEC_TEXT)}`);
  });
});

// A deterministic spread of epoch-ms values: day and second boundaries, leap days, ms 0 and 999,
// far past and far future (four-digit years), then values walking in time order the way an
// export does, with big and small steps.
function sampleTimes(): number[] {
  const fixed = [
    0,
    1,
    999,
    1000,
    86_399_999,
    86_400_000,
    Date.UTC(2024, 1, 29, 23, 59, 59, 999),
    Date.UTC(2024, 2, 1, 0, 0, 0, 0),
    Date.UTC(2026, 10, 21, 5, 53, 10, 7),
    Date.UTC(1999, 11, 31, 23, 59, 59, 999),
    Date.UTC(2100, 1, 28, 12, 0, 0, 50),
    253402300799999, // 9999-12-31T23:59:59.999Z
  ];
  const walk: number[] = [];
  let t = Date.UTC(2026, 9, 1);
  let seed = 12345;
  for (let i = 0; i < 20_000; i++) {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    t += seed % (i % 3 === 0 ? 7_200_000 : 997);
    walk.push(t);
  }
  return [...fixed, ...walk];
}

describe('CSV value formatting', () => {
  it('IsoFormatter writes exactly what Date#toISOString writes', () => {
    const f = new IsoFormatter();
    for (const ms of sampleTimes()) expect(f.format(ms)).toBe(new Date(ms).toISOString());
    // and out of its fast range it still agrees
    for (const ms of [-1, 253402300800000, 1.5]) expect(f.format(ms)).toBe(new Date(ms).toISOString());
  });

  it('IdFormatter writes exactly what encodeId writes, for every id kind', () => {
    const kinds = [
      ['error', KIND_HEX.error],
      ['retryData', KIND_HEX.retryData],
      ['trace', KIND_HEX.trace],
      ['user', KIND_HEX.user],
    ] as const;
    for (const [kind, hex] of kinds) {
      const f = new IdFormatter(hex);
      let row = 1;
      for (const ms of sampleTimes()) {
        row = (row * 7 + 3) % 2 ** 40 || 1;
        expect(f.format(row, ms)).toBe(encodeId(kind, row, ms));
      }
      expect(f.format(2 ** 53 - 1, 1)).toBe(encodeId(kind, 2 ** 53 - 1, 1));
    }
  });

  it('IdFormatter.formatSeconds writes exactly what encodeIdAtSeconds writes (stored key seconds)', () => {
    const f = new IdFormatter(KIND_HEX.trace);
    let row = 1;
    for (const ms of sampleTimes()) {
      row = (row * 7 + 3) % 2 ** 40 || 1;
      expect(f.formatSeconds(row, idSeconds(ms))).toBe(encodeIdAtSeconds('trace', row, idSeconds(ms)));
      expect(f.formatSeconds(row, idSeconds(ms))).toBe(encodeId('trace', row, ms));
    }
  });
});

// The export writes its records with csvRecord, a fast path past csv-stringify (the package the
// design fixed): it must write csv-stringify's bytes for anything a field can hold.
const TRICKY: unknown[] = [
  '',
  null,
  undefined,
  'plain',
  ' leading and trailing spaces ',
  'a,b',
  ',',
  'say "hi"',
  '"',
  '""',
  '"quoted"',
  'line\nbreak',
  '\n',
  'carriage\rreturn',
  'windows\r\nline',
  '\r',
  'tab\there',
  '=SUM(A1:A2)',
  '+1',
  '-1',
  '@user',
  "it's",
  'back\\slash',
  'café — naïve',
  '漢字,かな',
  'emoji 🚀 "rocket", done',
  '\u2028\u2029',
  '\u0000nul',
  '{"errors":[{"code":"invalid_email","field":"email","message":"\'x@\' is not valid"}]}',
  'Needs data fix,Investigating',
  0,
  42,
  -1.5,
  1e21,
  Number.NaN,
];

/** csv-stringify's streaming API (what the export used to pipe rows through), as one string. */
function viaStream(records: unknown[][], columns?: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    stringify(records, columns ? { header: true, columns } : {}, (err, out) => (err ? reject(err) : resolve(out)));
  });
}

describe('CSV records: the fast path writes what csv-stringify writes', () => {
  it('every tricky value, alone and between others', () => {
    for (const v of TRICKY) {
      expect(csvRecord([v])).toBe(stringifySync([[v]]));
      expect(csvRecord(['a', v, 'b'])).toBe(stringifySync([['a', v, 'b']]));
      expect(csvRecord([v, v])).toBe(stringifySync([[v, v]]));
    }
    expect(csvRecord(TRICKY)).toBe(stringifySync([TRICKY]));
  });

  it('random records built from the tricky characters', () => {
    const alphabet = ['a', 'Z', '0', ' ', ',', '"', '\n', '\r', '\t', 'é', '漢', '🚀', "'", '\\', '='];
    let seed = 7;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const records: unknown[][] = [];
    for (let i = 0; i < 3000; i++) {
      const record: unknown[] = [];
      for (let f = 0; f < 17; f++) {
        const kind = rand(10);
        if (kind === 0) record.push(null);
        else if (kind === 1) record.push('');
        else if (kind === 2) record.push(rand(100_000));
        else {
          let text = '';
          for (let k = rand(12); k > 0; k--) text += alphabet[rand(alphabet.length)];
          record.push(text);
        }
      }
      records.push(record);
    }
    for (const r of records) expect(csvRecord(r)).toBe(stringifySync([r]));
  });

  it('other kinds of values are left to csv-stringify', () => {
    const odd: unknown[][] = [[true, false, 'x'], [10n, 'y'], [{ a: '1,2' }, 'z'], [new Date(Date.UTC(2026, 0, 1)), '"q"']];
    for (const r of odd) expect(csvRecord(r)).toBe(stringifySync([r]));
  });

  it("header and records together equal csv-stringify's stream output, also for no records", async () => {
    const columns = csvColumns(true, true);
    const records: unknown[][] = [];
    for (let i = 0; i < 200; i++) records.push(columns.map((_, c) => TRICKY[(i * 7 + c * 3) % TRICKY.length]));
    expect(csvHeader(columns) + records.map(csvRecord).join('')).toBe(await viaStream(records, columns));
    expect(csvHeader(columns)).toBe(await viaStream([], columns));
    expect(csvHeader(OPEN_ERROR_CSV_COLUMNS)).toBe(`${OPEN_ERROR_CSV_COLUMNS.join(',')}\n`);
  });
});

import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../src/domain/errors.js';
import {
  QUERY_FIELDS,
  QUERY_HELP,
  formatQuery,
  hasWildcard,
  mergeQueries,
  parseQuery,
  resolveTimeValue,
  wildcardToLike,
  type QueryTerm,
} from '../src/domain/query.js';

const field = (f: string, value: string, negate = false) => ({ kind: 'field', field: f, value, negate });
const text = (t: string, negate = false) => ({ kind: 'text', text: t, negate });
const data = (path: string[], value: string, negate = false) => ({ kind: 'data', path, value, negate });

function parseError(input: string): InvalidInputError {
  try {
    parseQuery(input);
  } catch (e) {
    expect(e).toBeInstanceOf(InvalidInputError);
    return e as InvalidInputError;
  }
  throw new Error(`expected parseQuery(${JSON.stringify(input)}) to throw`);
}

describe('parseQuery', () => {
  it('parses the documented example into exact terms', () => {
    const q = parseQuery(
      'code:429 class:intermittent tag:Investigating assignee:none !source:connection "timed out" data.customer.email:*@example.com',
    );
    expect(q).toEqual({
      terms: [
        field('code', '429'),
        field('classification', 'intermittent'),
        field('tag', 'Investigating'),
        field('assignee', 'none'),
        field('source', 'connection', true),
        text('timed out'),
        data(['customer', 'email'], '*@example.com'),
      ],
    });
  });

  it('returns no terms for empty or blank input', () => {
    expect(parseQuery('')).toEqual({ terms: [] });
    expect(parseQuery('  \t\n ')).toEqual({ terms: [] });
  });

  it('accepts every alias, case-insensitively', () => {
    const cases: Array<[string, string]> = [
      ['class', 'classification'], ['classification', 'classification'], ['CLASS', 'classification'],
      ['code', 'code'], ['source', 'source'], ['src', 'source'], ['tag', 'tag'], ['tags', 'tag'],
      ['assignee', 'assignee'], ['assigned', 'assignee'], ['assignedTo', 'assignee'], ['ASSIGNEDTO', 'assignee'],
      ['trace', 'traceKey'], ['traceKey', 'traceKey'], ['job', 'job'], ['flowJobId', 'job'],
      ['rdk', 'retryDataKey'], ['retryDataKey', 'retryDataKey'], ['id', 'errorId'], ['errorId', 'errorId'],
      ['since', 'since'], ['after', 'since'], ['until', 'until'], ['before', 'until'],
      ['message', 'message'], ['msg', 'message'], ['Text', 'message'],
    ];
    const valueFor = (f: string) =>
      f === 'classification' ? 'parse' : f === 'source' ? 'lookup' : f === 'since' || f === 'until' ? '2h' : 'x1';
    for (const [alias, canonical] of cases) {
      expect(parseQuery(`${alias}:${valueFor(canonical)}`).terms, alias).toEqual([field(canonical, valueFor(canonical))]);
    }
    expect(parseQuery('retryable:yes').terms).toEqual([field('retryable', 'true')]);
  });

  it('normalises enum values and retryable', () => {
    expect(parseQuery('source:Connection class:RATE_LIMIT').terms).toEqual([
      field('source', 'connection'),
      field('classification', 'rate_limit'),
    ]);
    expect(parseQuery('retryable:TRUE retryable:no retryable:False').terms.map((t) => (t as { value: string }).value))
      .toEqual(['true', 'false', 'false']);
    expect(parseQuery('assignee:ME assignee:None assignee:Ann@Example.com').terms).toEqual([
      field('assignee', 'me'),
      field('assignee', 'none'),
      field('assignee', 'Ann@Example.com'),
    ]);
  });

  it('negates with ! or -', () => {
    expect(parseQuery('!source:connection -tag:Noise !timeout -"rate limited"').terms).toEqual([
      field('source', 'connection', true),
      field('tag', 'Noise', true),
      text('timeout', true),
      text('rate limited', true),
    ]);
    // Only one prefix is consumed: the rest is the term.
    expect(parseQuery('!-x').terms).toEqual([text('-x', true)]);
  });

  it('handles quoted values and phrases with escapes', () => {
    expect(parseQuery('tag:"Needs review" assignee:"a b"').terms).toEqual([
      field('tag', 'Needs review'),
      field('assignee', 'a b'),
    ]);
    expect(parseQuery('"say \\"hi\\"" msg:"C:\\\\temp\\\\x" "a\\nb"').terms).toEqual([
      text('say "hi"'),
      field('message', 'C:\\temp\\x'),
      text('a\\nb'),
    ]);
    // A quoted field:value is literal text, and quotes may sit inside a word.
    expect(parseQuery('"code:429" tag:Needs" "review').terms).toEqual([text('code:429'), field('tag', 'Needs review')]);
    expect(parseQuery('data.note:"x y"').terms).toEqual([data(['note'], 'x y')]);
  });

  it('does not mistake times or URLs for fields', () => {
    expect(parseQuery('10:30 http://x.example/a https://y 12:00:01').terms).toEqual([
      text('10:30'),
      text('http://x.example/a'),
      text('https://y'),
      text('12:00:01'),
    ]);
    // A known field keeps its meaning even when the value starts with //.
    expect(parseQuery('code://x').terms).toEqual([field('code', '//x')]);
  });

  it('keeps wildcards in values, and skips enum validation for them', () => {
    expect(parseQuery('source:PRE_* class:?arse code:5?? tag:*').terms).toEqual([
      field('source', 'pre_*'),
      field('classification', '?arse'),
      field('code', '5??'),
      field('tag', '*'),
    ]);
  });

  it('parses data paths with array indices', () => {
    expect(parseQuery('data.items[0].sku:ABC-1 !data.a.b.c:1 data[2]:x Data.x[10][3]:y data.items.0:z').terms).toEqual([
      data(['items', '0', 'sku'], 'ABC-1'),
      data(['a', 'b', 'c'], '1', true),
      data(['2'], 'x'),
      data(['x', '10', '3'], 'y'),
      data(['items', '0'], 'z'),
    ]);
    expect(parseQuery('data.customer-id:42').terms).toEqual([data(['customer-id'], '42')]);
  });

  it('keeps since/until raw after validating them', () => {
    expect(parseQuery('since:7d until:2026-11-20T10:00:00Z after:2026-11-20').terms).toEqual([
      field('since', '7d'),
      field('until', '2026-11-20T10:00:00Z'),
      field('since', '2026-11-20'),
    ]);
  });
});

describe('parseQuery errors', () => {
  const cases: Array<[string, RegExp]> = [
    ['foo:bar', /^unknown filter field "foo" \(valid: code, source, classification, .*retryable, message, sig, data\.<path>\)$/],
    ['sig:12345', /^invalid signature "12345" \(a group's sig is 12 hex digits/],
    ['sig:0123456789a*', /^invalid signature/],
    ['code:1 Error:boom', /^unknown filter field "Error"/],
    ['a.b:c', /^unknown filter field "a\.b"/],
    ['source:nowhere', /^unknown source "nowhere" \(valid: internal, application, connection, .*tool_output\)$/],
    ['class:flaky', /^unknown classification "flaky" \(valid: connection, duplicate, .*none\)$/],
    ['retryable:maybe', /^invalid retryable value "maybe" \(expected yes, no, true or false\)$/],
    ['since:yesterday', /^invalid time "yesterday" for since \(expected a date like 2026-11-20/],
    ['until:2026-02-30', /^invalid time "2026-02-30" for until/],
    ['since:1.5h', /^invalid time "1\.5h" for since/],
    ['since:*', /^invalid time "\*" for since/],
    ['code:', /^empty value for "code" at position 5$/],
    ['tag:"" x', /^empty value for "tag" at position 4$/],
    ['x ""', /^empty phrase at position 2$/],
    ['"timed out', /^unterminated quote at position 0$/],
    ['tag:"Needs review', /^unterminated quote at position 4$/],
    ['ok "a \\" b', /^unterminated quote at position 3$/],
    ['code:1 !', /^"!" without a term to negate at position 7$/],
    ['- x', /^"-" without a term to negate at position 0$/],
    ['data:x', /^"data" needs a path/],
    ['data.a..b:x', /^empty segment in data path "data\.a\.\.b"$/],
    ['data.a.:x', /^empty segment in data path/],
    ['data.:x', /^empty segment in data path/],
    ['data.items[]:x', /^invalid array index in data path "data\.items\[\]"/],
    ['data.items[x]:y', /^invalid array index/],
    ['data.items[0:y', /^invalid array index/],
    ['data.items[0]sku:y', /^unexpected "s" in data path/],
    ['data.a]b:x', /^unexpected "\]" in data path/],
    ['data.*.b:x', /^wildcards are not supported in data paths/],
  ];
  it.each(cases)('%s', (input, message) => {
    const err = parseError(input);
    expect(err.message).toMatch(message);
    expect(err.message).not.toContain('\n');
    expect(err.code).toBe('invalid_input');
    expect(err.exitCode).toBe(2);
  });
});

describe('formatQuery', () => {
  const queries = [
    '',
    'code:429 class:intermittent tag:Investigating assignee:none !source:connection "timed out" data.customer.email:*@example.com',
    'src:CONNECTION -tags:Noise assigned:ME',
    'tag:"Needs review" assignee:"a b" "say \\"hi\\""',
    'msg:"C:\\\\temp" "back\\\\slash" plain\\text',
    '10:30 http://x.example/a -"-dash" "!bang" !!double',
    'data.items[0].sku:X !data.a.b:"x y" data[3]:q data.items.1:z',
    'trace:abc rdk:r-1 id:e-1 job:j-1 flowJobId:"j 2"',
    'since:15m until:2026-11-20T10:00:00Z before:2026-11-20 after:30s',
    'retryable:yes -retryable:NO',
    'code:5?? source:pre_* class:*limit* tag:"*"',
    'code://x text:"a\\"b" "tab\there"',
    'data.note:"has \\"quotes\\" and \\\\"',
  ];
  it.each(queries)('round-trips %s', (input) => {
    const q = parseQuery(input);
    const formatted = formatQuery(q);
    expect(parseQuery(formatted)).toEqual(q);
    // Canonical text is a fixed point.
    expect(formatQuery(parseQuery(formatted))).toBe(formatted);
  });

  it('writes canonical names, ! negation and minimal quoting', () => {
    expect(formatQuery(parseQuery('class:parse -src:lookup assignedTo:me rdk:k data.items.0.sku:A "a b"')))
      .toBe('classification:parse !source:lookup assignee:me retryDataKey:k data.items[0].sku:A "a b"');
    expect(formatQuery(parseQuery('10:30 "-x"'))).toBe('"10:30" "-x"');
  });

  it('rejects data paths it cannot write', () => {
    const bad: QueryTerm = { kind: 'data', path: ['a.b'], value: 'x', negate: false };
    expect(() => formatQuery({ terms: [bad] })).toThrow(InvalidInputError);
    expect(() => formatQuery({ terms: [{ kind: 'data', path: [], value: 'x', negate: false }] })).toThrow(/non-empty path/);
  });
});

describe('mergeQueries', () => {
  it('ANDs all terms in order, dropping exact duplicates', () => {
    const a = parseQuery('code:429 tag:x');
    const b = parseQuery('tag:x !tag:x data.a:1');
    const c = parseQuery('data.a:1 "timed out"');
    expect(mergeQueries(a, b, c)).toEqual({
      terms: [field('code', '429'), field('tag', 'x'), field('tag', 'x', true), data(['a'], '1'), text('timed out')],
    });
    expect(mergeQueries()).toEqual({ terms: [] });
  });

  it('does not share term objects with its inputs', () => {
    const a = parseQuery('data.a.b:1');
    const merged = mergeQueries(a);
    (merged.terms[0] as { path: string[] }).path.push('c');
    expect(a.terms[0]).toEqual(data(['a', 'b'], '1'));
  });
});

describe('wildcards', () => {
  it('detects * and ?', () => {
    expect(hasWildcard('*@example.com')).toBe(true);
    expect(hasWildcard('5??')).toBe(true);
    expect(hasWildcard('plain%_value')).toBe(false);
  });

  it('converts to LIKE patterns with escaping', () => {
    expect(wildcardToLike('*@example.com')).toBe('%@example.com');
    expect(wildcardToLike('50%_off*')).toBe('50\\%\\_off%');
    expect(wildcardToLike('a?b\\c')).toBe('a_b\\\\c');
    expect(wildcardToLike('exact')).toBe('exact');
  });
});

describe('resolveTimeValue', () => {
  const now = Date.UTC(2026, 10, 20, 12, 0, 0);

  it('resolves relative durations as that long ago', () => {
    expect(resolveTimeValue('30s', now)).toBe(now - 30_000);
    expect(resolveTimeValue('15m', now)).toBe(now - 15 * 60_000);
    expect(resolveTimeValue('2h', now)).toBe(now - 2 * 3_600_000);
    expect(resolveTimeValue('7d', now)).toBe(now - 7 * 86_400_000);
    expect(resolveTimeValue('1w', now)).toBe(now - 7 * 86_400_000);
    expect(resolveTimeValue('2H', now)).toBe(now - 2 * 3_600_000);
    expect(resolveTimeValue('0m', now)).toBe(now);
  });

  it('resolves ISO dates and times (no zone = UTC)', () => {
    expect(resolveTimeValue('2026-11-20', now)).toBe(Date.UTC(2026, 10, 20));
    expect(resolveTimeValue('2026-11-20T10:00:00Z', now)).toBe(Date.UTC(2026, 10, 20, 10));
    expect(resolveTimeValue('2026-11-20T10:00', now)).toBe(Date.UTC(2026, 10, 20, 10));
    expect(resolveTimeValue('2026-11-20T10:00:05.25Z', now)).toBe(Date.UTC(2026, 10, 20, 10, 0, 5, 250));
    expect(resolveTimeValue('2026-11-20T10:00:00+02:00', now)).toBe(Date.UTC(2026, 10, 20, 8));
    expect(resolveTimeValue('2026-11-20T10:00:00-0530', now)).toBe(Date.UTC(2026, 10, 20, 15, 30));
    expect(resolveTimeValue('2028-02-29', now)).toBe(Date.UTC(2028, 1, 29));
  });

  it.each(['', 'now', '2h ago', '-2h', '1.5h', '2026-13-01', '2026-02-29', '2026-11-20T24:00', '2026-11-20T10:61',
    '2026-11-20Z', '20261120', '2026-11-20T10:00:00+25:00', '99999999999999999999d'])('rejects %j', (value) => {
    expect(() => resolveTimeValue(value, now)).toThrow(InvalidInputError);
    expect(() => resolveTimeValue(value, now)).toThrow(/^invalid time/);
  });
});

describe('QUERY_HELP', () => {
  it('mentions every field and the main syntax', () => {
    expect(QUERY_HELP.split('\n').length).toBeLessThanOrEqual(10);
    for (const word of ['code:', 'source:', 'class:', 'tag:', 'assignee:', 'trace:', 'job:', 'rdk:', 'id:', 'since:',
      'until:', 'retryable:', 'msg:', 'sig:', 'data.', '!', '*']) {
      expect(QUERY_HELP).toContain(word);
    }
    expect(QUERY_FIELDS).toHaveLength(14);
  });
});

describe('sig: (an error group)', () => {
  it('parses a 12-hex signature under its aliases, lower-cased, and formats back', () => {
    for (const input of ['sig:0A1b2c3d4e5f', 'signature:0a1b2c3d4e5f', 'group:0a1b2c3d4e5f']) {
      expect(parseQuery(input).terms).toEqual([{ kind: 'field', field: 'sig', value: '0a1b2c3d4e5f', negate: false }]);
    }
    const q = parseQuery('!sig:0a1b2c3d4e5f code:422');
    expect(formatQuery(q)).toBe('!sig:0a1b2c3d4e5f code:422');
    expect(parseQuery(formatQuery(q))).toEqual(q);
  });
});

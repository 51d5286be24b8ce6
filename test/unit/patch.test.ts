import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../../src/domain/errors.js';
import {
  applyPatch,
  assertPathsUnder,
  deepEqual,
  dotPathToPointer,
  formatPointer,
  parsePatchDocument,
  parsePointer,
  parseSetArg,
  parseUnsetArg,
  PatchTestFailed,
  type PatchOp,
} from '../../src/domain/json-patch.js';

// JSON Patch (RFC 6902) as retry-data patch files use it, and the --set/--unset flags built on it.

function rejects(fn: () => unknown, pattern: RegExp): void {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught, 'expected an InvalidInputError').toBeInstanceOf(InvalidInputError);
  expect((caught as Error).message).toMatch(pattern);
}

describe('JSON pointers', () => {
  it('parses RFC 6901 pointers, unescaping ~1 before ~0', () => {
    expect(parsePointer('')).toEqual([]);
    expect(parsePointer('/a/0/b')).toEqual(['a', '0', 'b']);
    expect(parsePointer('/a~1b/m~0n/~01')).toEqual(['a/b', 'm~n', '~1']);
    expect(parsePointer('/')).toEqual(['']);
    rejects(() => parsePointer('a/b'), /must start with "\/"/);
  });

  it('formats tokens back into the same pointer', () => {
    for (const p of ['/a~1b/m~0n', '/data/customer/email', '/x/0', '/~01']) expect(formatPointer(parsePointer(p))).toBe(p);
  });

  it('turns dotted paths into pointers; \\. keeps a dot in a key; empty segments are refused', () => {
    expect(dotPathToPointer('data.customer.email')).toBe('/data/customer/email');
    expect(dotPathToPointer('data.items.0.price')).toBe('/data/items/0/price');
    expect(dotPathToPointer('data.a\\.b.c')).toBe('/data/a.b/c');
    expect(dotPathToPointer('data.a/b')).toBe('/data/a~1b');
    rejects(() => dotPathToPointer('data..x'), /not a dotted path/);
    rejects(() => dotPathToPointer('data.'), /not a dotted path/);
  });

  it('reads items[1] as the array index it names, never as a key "items[1]"', () => {
    expect(dotPathToPointer('data.items[1].quantity')).toBe('/data/items/1/quantity');
    expect(dotPathToPointer('data.lines[0]')).toBe('/data/lines/0');
    expect(dotPathToPointer('data.m[0][2].x')).toBe('/data/m/0/2/x');
    expect(dotPathToPointer('data.items.1.quantity')).toBe('/data/items/1/quantity');
    expect(parseSetArg('data.items[1].quantity=1')).toEqual({ op: 'set', path: '/data/items/1/quantity', value: 1 });
    rejects(() => dotPathToPointer('data.items[1]quantity'), /not a dotted path/);
    rejects(() => dotPathToPointer('data.[0]'), /not a dotted path/);
    rejects(() => dotPathToPointer('data.items[0].'), /not a dotted path/);
  });
});

describe('--set and --unset', () => {
  it('parses the value as JSON when it parses, as text otherwise', () => {
    expect(parseSetArg('data.n=1')).toEqual({ op: 'set', path: '/data/n', value: 1 });
    expect(parseSetArg('data.b=true')).toEqual({ op: 'set', path: '/data/b', value: true });
    expect(parseSetArg('data.x=null')).toEqual({ op: 'set', path: '/data/x', value: null });
    expect(parseSetArg('data.o={"a":[1]}')).toEqual({ op: 'set', path: '/data/o', value: { a: [1] } });
    expect(parseSetArg('data.s="007"')).toEqual({ op: 'set', path: '/data/s', value: '007' });
    expect(parseSetArg('data.email=ana@example.com')).toEqual({ op: 'set', path: '/data/email', value: 'ana@example.com' });
    expect(parseSetArg('data.q=a=b')).toEqual({ op: 'set', path: '/data/q', value: 'a=b' });
    expect(parseSetArg('data.empty=')).toEqual({ op: 'set', path: '/data/empty', value: '' });
    expect(parseUnsetArg('data.customer.fax')).toEqual({ op: 'unset', path: '/data/customer/fax' });
  });

  it('refuses a --set without path=value', () => {
    rejects(() => parseSetArg('data.x'), /--set takes path=value/);
    rejects(() => parseSetArg('=1'), /--set takes path=value/);
  });

  it('set creates missing parents and replaces array items; "-" appends', () => {
    const doc = { data: { items: [{ sku: 'A' }] } };
    expect(applyPatch(doc, [{ op: 'set', path: '/data/customer/address/city', value: 'Oslo' }])).toEqual({
      data: { items: [{ sku: 'A' }], customer: { address: { city: 'Oslo' } } },
    });
    expect(applyPatch(doc, [{ op: 'set', path: '/data/items/0', value: { sku: 'B' } }])).toEqual({ data: { items: [{ sku: 'B' }] } });
    expect(applyPatch(doc, [{ op: 'set', path: '/data/items/-', value: { sku: 'C' } }])).toEqual({ data: { items: [{ sku: 'A' }, { sku: 'C' }] } });
    rejects(() => applyPatch(doc, [{ op: 'set', path: '/data/items/5', value: 1 }]), /not an index/);
  });

  it('unset of a missing path changes nothing; remove of one is an error', () => {
    const doc = { data: { a: 1 } };
    expect(applyPatch(doc, [{ op: 'unset', path: '/data/b/c' }])).toEqual(doc);
    expect(applyPatch(doc, [{ op: 'unset', path: '/data/a' }])).toEqual({ data: {} });
    rejects(() => applyPatch(doc, [{ op: 'remove', path: '/data/b' }]), /operation 0 \(remove \/data\/b\): the path does not exist/);
  });
});

describe('applyPatch: the examples of RFC 6902 appendix A', () => {
  const cases: Array<[string, unknown, PatchOp[], unknown]> = [
    ['A.1 adding an object member', { foo: 'bar' }, [{ op: 'add', path: '/baz', value: 'qux' }], { baz: 'qux', foo: 'bar' }],
    ['A.2 adding an array element', { foo: ['bar', 'baz'] }, [{ op: 'add', path: '/foo/1', value: 'qux' }], { foo: ['bar', 'qux', 'baz'] }],
    ['A.3 removing an object member', { baz: 'qux', foo: 'bar' }, [{ op: 'remove', path: '/baz' }], { foo: 'bar' }],
    ['A.4 removing an array element', { foo: ['bar', 'qux', 'baz'] }, [{ op: 'remove', path: '/foo/1' }], { foo: ['bar', 'baz'] }],
    ['A.5 replacing a value', { baz: 'qux', foo: 'bar' }, [{ op: 'replace', path: '/baz', value: 'boo' }], { baz: 'boo', foo: 'bar' }],
    [
      'A.6 moving a value',
      { foo: { bar: 'baz', waldo: 'fred' }, qux: { corge: 'grault' } },
      [{ op: 'move', from: '/foo/waldo', path: '/qux/thud' }],
      { foo: { bar: 'baz' }, qux: { corge: 'grault', thud: 'fred' } },
    ],
    ['A.7 moving an array element', { foo: ['all', 'grass', 'cows', 'eat'] }, [{ op: 'move', from: '/foo/1', path: '/foo/3' }], { foo: ['all', 'cows', 'eat', 'grass'] }],
    [
      'A.8 testing a value: success',
      { baz: 'qux', foo: ['a', 2, 'c'] },
      [
        { op: 'test', path: '/baz', value: 'qux' },
        { op: 'test', path: '/foo/1', value: 2 },
      ],
      { baz: 'qux', foo: ['a', 2, 'c'] },
    ],
    ['A.10 adding a nested member object', { foo: 'bar' }, [{ op: 'add', path: '/child', value: { grandchild: {} } }], { foo: 'bar', child: { grandchild: {} } }],
    ['A.14 ~ escape ordering', { '/': 9, '~1': 10 }, [{ op: 'test', path: '/~01', value: 10 }], { '/': 9, '~1': 10 }],
    ['A.16 adding an array value', { foo: ['bar'] }, [{ op: 'add', path: '/foo/-', value: ['abc', 'def'] }], { foo: ['bar', ['abc', 'def']] }],
    ['copy', { a: { b: [1] } }, [{ op: 'copy', from: '/a/b', path: '/c' }], { a: { b: [1] }, c: [1] }],
    ['replace the whole document', { a: 1 }, [{ op: 'replace', path: '', value: { b: 2 } }], { b: 2 }],
  ];
  for (const [name, doc, ops, expected] of cases) {
    it(name, () => {
      const before = structuredClone(doc);
      expect(applyPatch(doc, ops)).toEqual(expected);
      expect(doc, 'the input is never mutated').toEqual(before);
    });
  }

  it('A.9 / A.15 a failing test throws PatchTestFailed (strings are not numbers)', () => {
    expect(() => applyPatch({ baz: 'qux' }, [{ op: 'test', path: '/baz', value: 'bar' }])).toThrow(PatchTestFailed);
    expect(() => applyPatch({ '/': 9, '~1': 10 }, [{ op: 'test', path: '/~01', value: '10' }])).toThrow(PatchTestFailed);
    expect(() => applyPatch({ a: 1 }, [{ op: 'test', path: '/missing', value: null }])).toThrow(PatchTestFailed);
  });

  it('A.12 adding to a nonexistent target is an error', () => {
    rejects(() => applyPatch({ foo: 'bar' }, [{ op: 'add', path: '/baz/bat', value: 'qux' }]), /parent of the path does not exist/);
  });

  it('replace and move need their paths to exist; a value cannot move into itself', () => {
    rejects(() => applyPatch({ a: 1 }, [{ op: 'replace', path: '/b', value: 2 }]), /does not exist/);
    rejects(() => applyPatch({ a: 1 }, [{ op: 'move', from: '/b', path: '/c' }]), /"from" \/b does not exist/);
    rejects(() => applyPatch({ a: { b: 1 } }, [{ op: 'move', from: '/a', path: '/a/b/c' }]), /into itself/);
  });

  it('array indexes must be canonical numbers in range', () => {
    rejects(() => applyPatch({ a: [1, 2] }, [{ op: 'add', path: '/a/01', value: 0 }]), /not an index/);
    rejects(() => applyPatch({ a: [1, 2] }, [{ op: 'add', path: '/a/3', value: 0 }]), /not an index/);
    expect(applyPatch({ a: [1, 2] }, [{ op: 'add', path: '/a/2', value: 3 }])).toEqual({ a: [1, 2, 3] });
  });
});

describe('patch documents and paths', () => {
  it('accepts an RFC 6902 document and keeps only the fields each op takes (A.11 ignores the rest)', () => {
    expect(
      parsePatchDocument([
        { op: 'add', path: '/data/x', value: 1, xyz: 123 },
        { op: 'remove', path: '/data/y' },
        { op: 'move', from: '/data/a', path: '/data/b' },
      ]),
    ).toEqual([
      { op: 'add', path: '/data/x', value: 1 },
      { op: 'remove', path: '/data/y' },
      { op: 'move', from: '/data/a', path: '/data/b' },
    ]);
  });

  it('names the file and the operation that is wrong', () => {
    rejects(() => parsePatchDocument({ op: 'add' }, 'fix.json'), /^fix\.json: a JSON Patch is an array/);
    rejects(() => parsePatchDocument([{ op: 'frobnicate', path: '/data' }], 'fix.json'), /fix\.json: operation 0: "op" must be one of/);
    rejects(() => parsePatchDocument([{ op: 'add', path: '/data/x' }], 'fix.json'), /operation 0: "value" is required for add/);
    rejects(() => parsePatchDocument([{ op: 'copy', path: '/data/x' }], 'fix.json'), /"from" must be a string/);
    rejects(() => parsePatchDocument([{ op: 'add', path: 'data/x', value: 1 }], 'fix.json'), /must start with "\/"/);
    rejects(() => parsePatchDocument(['add'], 'fix.json'), /operation 0 is not an object/);
  });

  it('keeps every path under /data and never removes /data itself', () => {
    expect(() => assertPathsUnder([{ op: 'replace', path: '/data', value: {} }, { op: 'copy', from: '/data/a', path: '/data/b' }], '/data')).not.toThrow();
    rejects(() => assertPathsUnder([{ op: 'replace', path: '/stage', value: 'x' }], '/data'), /"\/stage" must be \/data or below it/);
    rejects(() => assertPathsUnder([{ op: 'copy', from: '/retryDataKey', path: '/data/k' }], '/data'), /"\/retryDataKey"/);
    rejects(() => assertPathsUnder([{ op: 'add', path: '/database', value: 1 }], '/data'), /must be \/data or below it/);
    rejects(() => assertPathsUnder([{ op: 'remove', path: '/data' }], '/data'), /cannot remove \/data itself/);
    rejects(() => assertPathsUnder([{ op: 'unset', path: '/data' }], '/data'), /cannot remove \/data itself/);
  });

  it('deepEqual compares JSON values structurally', () => {
    expect(deepEqual({ a: [1, { b: null }] }, { a: [1, { b: null }] })).toBe(true);
    expect(deepEqual({ a: 1, b: 2 }, { b: 2, a: 1 })).toBe(true);
    expect(deepEqual({ a: 1 }, { a: 1, b: undefined })).toBe(false);
    expect(deepEqual([1], { 0: 1 })).toBe(false);
    expect(deepEqual('1', 1)).toBe(false);
  });
});

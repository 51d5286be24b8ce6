import { InvalidInputError } from './errors.js';
import { assertJsonDepth } from './json-text.js';

// JSON Patch (RFC 6902) over plain JSON values, plus the two operations behind the CLI's
// `--set data.path=value` (creates missing parents) and `--unset data.path` (a missing path is not
// an error). Pure: `applyPatch` never mutates its input, so a dry run and a real run compute the
// same result from the same snapshot.

export type PatchOp =
  | { op: 'add' | 'replace' | 'test'; path: string; value: unknown }
  | { op: 'remove'; path: string }
  | { op: 'move' | 'copy'; from: string; path: string }
  | { op: 'set'; path: string; value: unknown }
  | { op: 'unset'; path: string };

/** A `test` operation that did not hold: the document is left alone (not an input error). */
export class PatchTestFailed extends Error {
  constructor(
    readonly index: number,
    readonly path: string,
  ) {
    super(`test at ${path} failed`);
  }
}

type Json = unknown;
type Container = Record<string, Json> | Json[];

const isContainer = (v: unknown): v is Container => typeof v === 'object' && v !== null;

/** RFC 6901: "" is the whole document; "/a/0/b~1c" → ["a", "0", "b/c"]. */
export function parsePointer(pointer: string): string[] {
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) throw new InvalidInputError(`JSON pointer "${pointer}" must start with "/"`, 'path');
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

export function formatPointer(tokens: readonly string[]): string {
  return tokens.map((t) => `/${t.replace(/~/g, '~0').replace(/\//g, '~1')}`).join('');
}

/**
 * `data.customer.email` → `/data/customer/email`; `\.` keeps a dot inside a key. An array index is
 * written `items.1` or `items[1]` (as targets name fields: "lines[1].quantity must be …"): both are
 * `/items/1`, so `[1]` never becomes part of a key name.
 */
export function dotPathToPointer(path: string): string {
  const bad = () => new InvalidInputError(`"${path}" is not a dotted path like data.customer.email or data.items[0].quantity`, 'path');
  const tokens: string[] = [];
  let current = '';
  // false right after an index: only ".", another "[n]" or the end may follow it
  let inKey = true;
  for (let i = 0; i < path.length; i++) {
    const c = path[i]!;
    const index = c === '[' ? /^\[(\d+)\]/.exec(path.slice(i)) : null;
    if (!inKey && c !== '.' && !index) throw bad();
    if (c === '\\' && path[i + 1] === '.') {
      current += '.';
      i++;
    } else if (index) {
      if (inKey) tokens.push(current);
      tokens.push(index[1]!);
      current = '';
      inKey = false;
      i += index[0].length - 1;
    } else if (c === '.') {
      if (inKey) tokens.push(current);
      current = '';
      inKey = true;
    } else {
      current += c;
    }
  }
  if (inKey) tokens.push(current);
  if (tokens.some((t) => t === '')) throw bad();
  return formatPointer(tokens);
}

/** `--set data.x=1` → a set op; the value is JSON when it parses as JSON, a string otherwise. */
export function parseSetArg(arg: string): PatchOp {
  const eq = arg.indexOf('=');
  if (eq <= 0) throw new InvalidInputError(`--set takes path=value, got "${arg}"`, 'set');
  const raw = arg.slice(eq + 1);
  let value: unknown = raw;
  try {
    value = JSON.parse(raw);
  } catch {
    // not JSON: the text itself
  }
  assertJsonDepth(value, `--set ${arg.slice(0, eq).trim()}`, 'set');
  return { op: 'set', path: dotPathToPointer(arg.slice(0, eq).trim()), value };
}

export function parseUnsetArg(arg: string): PatchOp {
  return { op: 'unset', path: dotPathToPointer(arg.trim()) };
}

const OPS = new Set(['add', 'remove', 'replace', 'test', 'move', 'copy']);

/** Validates an RFC 6902 document (an array of operations) read from a file. */
export function parsePatchDocument(doc: unknown, source = 'patch'): PatchOp[] {
  if (!Array.isArray(doc)) throw new InvalidInputError(`${source}: a JSON Patch is an array of operations`, 'patch');
  return doc.map((raw, i) => {
    const where = `${source}: operation ${i}`;
    if (!isContainer(raw) || Array.isArray(raw)) throw new InvalidInputError(`${where} is not an object`, 'patch');
    const o = raw as Record<string, unknown>;
    if (typeof o.op !== 'string' || !OPS.has(o.op)) throw new InvalidInputError(`${where}: "op" must be one of add, remove, replace, test, move, copy`, 'patch');
    if (typeof o.path !== 'string') throw new InvalidInputError(`${where}: "path" must be a string`, 'patch');
    parsePointer(o.path);
    if (o.op === 'move' || o.op === 'copy') {
      if (typeof o.from !== 'string') throw new InvalidInputError(`${where}: "from" must be a string`, 'patch');
      parsePointer(o.from);
      return { op: o.op, from: o.from, path: o.path };
    }
    if (o.op === 'remove') return { op: 'remove', path: o.path };
    if (!('value' in o)) throw new InvalidInputError(`${where}: "value" is required for ${o.op}`, 'patch');
    return { op: o.op as 'add' | 'replace' | 'test', path: o.path, value: o.value };
  });
}

/** Every path (and from) of the ops must lie under `prefix` (e.g. "/data"), so a patch cannot touch the envelope. */
export function assertPathsUnder(ops: readonly PatchOp[], prefix: string): void {
  const ok = (p: string) => p === prefix || p.startsWith(`${prefix}/`);
  for (const op of ops) {
    const paths = 'from' in op ? [op.path, op.from] : [op.path];
    for (const p of paths) {
      if (!ok(p)) throw new InvalidInputError(`patch path "${p}" must be ${prefix} or below it`, 'path');
    }
    if ((op.op === 'remove' || op.op === 'unset' || op.op === 'move') && (op.op === 'move' ? op.from : op.path) === prefix) {
      throw new InvalidInputError(`patch cannot remove ${prefix} itself`, 'path');
    }
  }
}

export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (!isContainer(a) || !isContainer(b)) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    return a.length === bb.length && a.every((v, i) => deepEqual(v, bb[i]));
  }
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  return ka.every((k) => Object.prototype.hasOwnProperty.call(b, k) && deepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

function fail(index: number, op: PatchOp, detail: string): never {
  throw new InvalidInputError(`patch operation ${index} (${op.op} ${op.path}): ${detail}`, 'patch');
}

function arrayIndex(arr: unknown[], token: string, forInsert: boolean): number | undefined {
  if (forInsert && token === '-') return arr.length;
  if (!/^(0|[1-9]\d*)$/.test(token)) return undefined;
  const i = Number(token);
  return i < arr.length || (forInsert && i === arr.length) ? i : undefined;
}

function getAt(doc: Json, tokens: readonly string[]): { found: true; value: Json } | { found: false } {
  let cur: Json = doc;
  for (const t of tokens) {
    if (Array.isArray(cur)) {
      const i = arrayIndex(cur, t, false);
      if (i === undefined) return { found: false };
      cur = cur[i];
    } else if (isContainer(cur) && Object.prototype.hasOwnProperty.call(cur, t)) {
      cur = (cur as Record<string, Json>)[t];
    } else {
      return { found: false };
    }
  }
  return { found: true, value: cur };
}

/** The parent container of the pointer's target, creating missing objects when `create`. */
function parentOf(doc: Json, tokens: readonly string[], create: boolean): Container | undefined {
  let cur: Json = doc;
  for (const t of tokens.slice(0, -1)) {
    let next: Json;
    if (Array.isArray(cur)) {
      const i = arrayIndex(cur, t, false);
      if (i === undefined) return undefined;
      next = cur[i];
    } else if (isContainer(cur)) {
      next = Object.prototype.hasOwnProperty.call(cur, t) ? (cur as Record<string, Json>)[t] : undefined;
      if (next === undefined || next === null) {
        if (!create) return undefined;
        next = {};
        (cur as Record<string, Json>)[t] = next;
      }
    } else {
      return undefined;
    }
    cur = next;
  }
  return isContainer(cur) ? cur : undefined;
}

function addAt(doc: Json, tokens: string[], value: Json, index: number, op: PatchOp, create = false): Json {
  if (tokens.length === 0) return value;
  const parent = parentOf(doc, tokens, create);
  if (!parent) fail(index, op, 'the parent of the path does not exist');
  const key = tokens[tokens.length - 1]!;
  if (Array.isArray(parent)) {
    const i = arrayIndex(parent, key, true);
    if (i === undefined) fail(index, op, `"${key}" is not an index of the array`);
    if (op.op === 'set' && i < parent.length) parent[i] = value;
    else parent.splice(i, 0, value);
  } else {
    (parent as Record<string, Json>)[key] = value;
  }
  return doc;
}

function removeAt(doc: Json, tokens: string[], index: number, op: PatchOp, missingOk = false): Json {
  const parent = tokens.length ? parentOf(doc, tokens, false) : undefined;
  const key = tokens[tokens.length - 1]!;
  if (parent && Array.isArray(parent)) {
    const i = arrayIndex(parent, key, false);
    if (i !== undefined) {
      parent.splice(i, 1);
      return doc;
    }
  } else if (parent && Object.prototype.hasOwnProperty.call(parent, key)) {
    delete (parent as Record<string, Json>)[key];
    return doc;
  }
  if (missingOk) return doc;
  return fail(index, op, 'the path does not exist');
}

/**
 * Applies the operations in order to a copy of `doc` and returns it. Throws InvalidInputError for an
 * operation that cannot apply, PatchTestFailed when a `test` does not hold.
 */
export function applyPatch<T>(doc: T, ops: readonly PatchOp[]): T {
  let out: Json = structuredClone(doc);
  ops.forEach((op, index) => {
    const tokens = parsePointer(op.path);
    switch (op.op) {
      case 'add':
        out = addAt(out, tokens, structuredClone(op.value), index, op);
        break;
      case 'set':
        out = addAt(out, tokens, structuredClone(op.value), index, op, true);
        break;
      case 'remove':
        out = removeAt(out, tokens, index, op);
        break;
      case 'unset':
        out = removeAt(out, tokens, index, op, true);
        break;
      case 'replace': {
        if (!getAt(out, tokens).found) fail(index, op, 'the path does not exist');
        if (tokens.length === 0) {
          out = structuredClone(op.value);
          break;
        }
        const parent = parentOf(out, tokens, false)!;
        const key = tokens[tokens.length - 1]!;
        if (Array.isArray(parent)) parent[Number(key)] = structuredClone(op.value);
        else (parent as Record<string, Json>)[key] = structuredClone(op.value);
        break;
      }
      case 'test': {
        const got = getAt(out, tokens);
        if (!got.found || !deepEqual(got.value, op.value)) throw new PatchTestFailed(index, op.path);
        break;
      }
      case 'move':
      case 'copy': {
        const from = parsePointer(op.from);
        const got = getAt(out, from);
        if (!got.found) fail(index, op, `"from" ${op.from} does not exist`);
        if (op.op === 'move') {
          if (op.path.startsWith(`${op.from}/`)) fail(index, op, 'cannot move a value into itself');
          if (op.from === op.path) break;
          out = removeAt(out, from, index, op);
          out = addAt(out, tokens, got.value, index, op);
        } else {
          out = addAt(out, tokens, structuredClone(got.value), index, op);
        }
        break;
      }
    }
  });
  return out as T;
}

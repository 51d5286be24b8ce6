import { InvalidInputError } from './errors.js';

// JSON that comes from people (files, stdin, flag values, an editor) is parsed here: a syntax error
// or a nesting no record needs is one line naming the source, never a parser's or the stack's limit.

/** Deeper than any record or patch needs, and far below what JSON.stringify and the masks can walk. */
export const MAX_JSON_DEPTH = 512;

/** How deep a parsed JSON value nests (a scalar is 0), counted without recursion, stopping past `limit`. */
export function jsonDepth(value: unknown, limit = MAX_JSON_DEPTH): number {
  let deepest = 0;
  const stack: Array<{ value: unknown; depth: number }> = [{ value, depth: 0 }];
  while (stack.length > 0) {
    const { value: v, depth } = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    const here = depth + 1;
    if (here > deepest) deepest = here;
    if (deepest > limit) return deepest;
    for (const child of Array.isArray(v) ? v : Object.values(v)) {
      if (child !== null && typeof child === 'object') stack.push({ value: child, depth: here });
    }
  }
  return deepest;
}

export function assertJsonDepth(value: unknown, source: string, field?: string): void {
  if (jsonDepth(value) > MAX_JSON_DEPTH) {
    throw new InvalidInputError(`${source} nests deeper than ${MAX_JSON_DEPTH} levels; no record needs that, so it is refused`, field);
  }
}

export function parseJsonText(text: string, source: string): unknown {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    if (text.trim() === '') throw new InvalidInputError(`${source} is empty (expected JSON)`);
    throw new InvalidInputError(`invalid JSON in ${source}: ${(e as Error).message.split('\n')[0]}`);
  }
  assertJsonDepth(value, source);
  return value;
}

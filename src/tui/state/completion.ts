import type { TextInputState } from './text-input.js';

// Tab completion of a one-line input. `word` completes the word before the cursor (a query term:
// `cla` → `class:`); `whole` completes the whole input (a name with spaces: `shop or` → `Shop
// orders to ERP`). Matches that start with the typed text come first, then those containing it
// anywhere; each further tab (with the input untouched) cycles to the next match.

export type CompletionMode = 'word' | 'whole';

/** The last completion, so that another tab cycles instead of starting over. */
export interface Completion {
  /** The input as typed, before the first tab. */
  typed: TextInputState;
  matches: readonly string[];
  index: number;
  /** The input the last tab left (a tab on anything else starts over). */
  result: TextInputState;
}

/** Suggestions matching `text` (case-insensitive): prefix matches first, then anywhere. */
export function completionMatches(text: string, suggestions: readonly string[]): string[] {
  const q = text.toLowerCase();
  const prefix = suggestions.filter((s) => s.toLowerCase().startsWith(q));
  const inside = q ? suggestions.filter((s) => !s.toLowerCase().startsWith(q) && s.toLowerCase().includes(q)) : [];
  return [...new Set([...prefix, ...inside])];
}

function apply(typed: TextInputState, match: string, mode: CompletionMode): TextInputState {
  if (mode === 'whole') return { value: match, cursor: match.length };
  const head = typed.value.slice(0, typed.cursor);
  const word = /(\S*)$/.exec(head)?.[1] ?? '';
  const negation = /^[!-]/.test(word) ? word[0]! : '';
  const start = head.length - word.length;
  return { value: head.slice(0, start) + negation + match + typed.value.slice(typed.cursor), cursor: start + negation.length + match.length };
}

/** One press of tab: the new input and the completion to remember (undefined: nothing matched). */
export function completeStep(
  input: TextInputState,
  suggestions: readonly string[],
  mode: CompletionMode,
  last?: Completion,
): { input: TextInputState; completion?: Completion } {
  if (last && last.matches.length > 1 && last.result.value === input.value && last.result.cursor === input.cursor) {
    const index = (last.index + 1) % last.matches.length;
    const result = apply(last.typed, last.matches[index]!, mode);
    return { input: result, completion: { ...last, index, result } };
  }
  let text: string;
  if (mode === 'whole') {
    text = input.value.trim();
  } else {
    const word = /(\S*)$/.exec(input.value.slice(0, input.cursor))?.[1] ?? '';
    if (!word) return { input };
    text = /^[!-]/.test(word) ? word.slice(1) : word;
  }
  // The text already complete (exactly a suggestion) cycles on to the others that match it.
  const matches = completionMatches(text, suggestions);
  if (matches.length === 0) return { input };
  const exact = matches.findIndex((m) => m.toLowerCase() === text.toLowerCase());
  const index = exact === 0 && matches.length > 1 ? 1 : 0;
  const result = apply(input, matches[index]!, mode);
  return { input: result, completion: { typed: input, matches, index, result } };
}

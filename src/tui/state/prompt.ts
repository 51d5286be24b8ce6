// Prompts with a lifecycle. A view asks (`ask(spec)` returns a promise of the answer); the host
// shows the prompt — after loading its options when they come from the backend — and settles the
// promise on submit or cancel. idle → loading → open (→ open with an error when validation fails)
// → idle. Only the open prompt hears keys; the view under it hears none.

import type { CompletionMode } from './completion.js';

export interface PickOption {
  label: string;
  value: string;
  hint?: string;
}

export interface StyledLine {
  text: string;
  kind?: 'add' | 'remove' | 'context' | 'header' | 'muted';
}

export type PromptSpec =
  /** y/N: anything but y (or Y) answers no. */
  | { kind: 'confirm'; message: string }
  /**
   * A line of text; `validate` returns a message to keep the prompt open with it. `accept` runs
   * before the prompt closes (a failure keeps it open with the message): a view applies the answer
   * there, so its result is drawn in the same frame as the prompt's last, not one frame later.
   */
  | {
      kind: 'text';
      label: string;
      initial?: string;
      hint?: string;
      validate?: (value: string) => string | undefined;
      accept?: (value: string) => Promise<void>;
      suggestions?: readonly string[];
      /** What tab completes: the word before the cursor (default) or the whole input. */
      completion?: CompletionMode;
      /** Earlier answers, newest last: ↑/↓ walk them. */
      history?: readonly string[];
    }
  /** Pick one option; typing filters them; with `freeText`, the typed text itself can be the answer. */
  | { kind: 'pick'; title: string; options: readonly PickOption[]; freeText?: { label: string; validate?: (value: string) => string | undefined }; hint?: string }
  /** Tags: each catalog entry cycles keep → add → remove. */
  | { kind: 'tags'; title: string; tags: ReadonlyArray<{ id: string; name: string; note?: string }> }
  /** A page to read (a diff) ending in a y/N question. */
  | { kind: 'review'; title: string; lines: readonly StyledLine[]; question: string };

export type TagChoice = 'keep' | 'add' | 'remove';

export type PromptAnswer =
  | { kind: 'confirm'; yes: boolean }
  | { kind: 'text'; value: string }
  | { kind: 'pick'; value: string; typed: boolean }
  | { kind: 'tags'; add: string[]; remove: string[] }
  | { kind: 'review'; yes: boolean };

export type PromptState =
  | { status: 'idle' }
  | { status: 'loading'; id: number; label: string }
  | { status: 'open'; id: number; spec: PromptSpec; error?: string };

export type PromptAction =
  | { type: 'load'; id: number; label: string }
  | { type: 'open'; id: number; spec: PromptSpec }
  | { type: 'invalid'; id: number; message: string }
  /** The text changed: a validation error about the old text goes. */
  | { type: 'edited'; id: number }
  | { type: 'close'; id: number };

export const IDLE: PromptState = { status: 'idle' };

export function promptReducer(state: PromptState, action: PromptAction): PromptState {
  switch (action.type) {
    case 'load':
      return { status: 'loading', id: action.id, label: action.label };
    case 'open':
      // A prompt whose loading was canceled (esc) stays closed.
      if (state.status === 'idle' || state.id !== action.id) return state;
      return { status: 'open', id: action.id, spec: action.spec };
    case 'invalid':
      return state.status === 'open' && state.id === action.id ? { ...state, error: action.message } : state;
    case 'edited':
      if (state.status !== 'open' || state.id !== action.id || state.error === undefined) return state;
      return { status: 'open', id: state.id, spec: state.spec };
    case 'close':
      return state.status !== 'idle' && state.id === action.id ? IDLE : state;
  }
}

// ---- pick -------------------------------------------------------------------------------------

export interface PickState {
  query: string;
  cursor: number;
}

/** Options matching the typed text (every word, anywhere, case-insensitive). */
export function filterOptions(options: readonly PickOption[], query: string): PickOption[] {
  const words = query.toLowerCase().split(/\s+/).filter(Boolean);
  if (words.length === 0) return [...options];
  return options.filter((o) => {
    const text = `${o.label} ${o.value} ${o.hint ?? ''}`.toLowerCase();
    return words.every((w) => text.includes(w));
  });
}

// ---- tags -------------------------------------------------------------------------------------

export function nextTagChoice(choice: TagChoice): TagChoice {
  return choice === 'keep' ? 'add' : choice === 'add' ? 'remove' : 'keep';
}

export function tagAnswer(choices: ReadonlyMap<string, TagChoice>): { add: string[]; remove: string[] } {
  const add: string[] = [];
  const remove: string[] = [];
  for (const [id, choice] of choices) {
    if (choice === 'add') add.push(id);
    if (choice === 'remove') remove.push(id);
  }
  return { add, remove };
}

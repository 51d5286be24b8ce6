import { Box, Text, type Key } from 'ink';
import { useCallback, useEffect, useRef, type ReactNode } from 'react';
import { failureMessage } from '../backend.js';
import { useSyncReducer, useSyncState } from '../hooks.js';
import { cut, fit } from '../format.js';
import type { KeyRoute } from '../input-queue.js';
import {
  filterOptions,
  IDLE,
  nextTagChoice,
  promptReducer,
  tagAnswer,
  type PickOption,
  type PromptAnswer,
  type PromptSpec,
  type PromptState,
  type TagChoice,
} from '../state/prompt.js';
import { completeStep, type Completion } from '../state/completion.js';
import { initialTextInput, textInputReducer, type TextInputAction, type TextInputState } from '../state/text-input.js';
import type { Theme } from '../theme.js';

// The prompt host: one prompt at a time, drawn in the footer (text, confirm) or over the body
// (pick, tags, review), with its own keys. A view awaits `ask(spec)`; esc settles it as undefined.

type Resolver = (answer: PromptAnswer | undefined) => void;

/** Keys of a one-line input; returns false for keys it does not use. */
export function textKey(input: string, key: Key): TextInputAction | undefined {
  if (key.leftArrow) return { type: 'left' };
  if (key.rightArrow) return { type: 'right' };
  if (key.home || (key.ctrl && input === 'a')) return { type: 'home' };
  if (key.end || (key.ctrl && input === 'e')) return { type: 'end' };
  if (key.backspace || key.delete) return { type: 'backspace' };
  if (key.ctrl && input === 'u') return { type: 'clear' };
  if (key.ctrl && input === 'w') return { type: 'delete-word' };
  if (key.ctrl || key.meta || key.upArrow || key.downArrow || key.pageUp || key.pageDown || key.tab || key.return || key.escape) return undefined;
  if (!input) return undefined;
  return { type: 'insert', text: input };
}

/** The input with a visible cursor (inverse), scrolled to keep the cursor in view; goes inside a Text. */
export function InputText({ state, width }: { state: TextInputState; width: number }) {
  const { value, cursor } = state;
  const start = Math.max(0, cursor - Math.max(1, width - 1));
  const shown = value.slice(start, start + width);
  const at = cursor - start;
  // Three elements that always exist: ink re-measures a line when text is appended to an element,
  // not when a text node is inserted between two (a line would keep its old, shorter width).
  return (
    <>
      <Text>{shown.slice(0, at)}</Text>
      <Text inverse>{shown[at] ?? ' '}</Text>
      <Text>{shown.slice(at + 1)}</Text>
    </>
  );
}

/** Completes the word before the cursor from `suggestions` (the first match; see completeStep). */
export function complete(state: TextInputState, suggestions: readonly string[]): TextInputState {
  return completeStep(state, suggestions, 'word').input;
}

export interface PromptHost {
  state: PromptState;
  ask(spec: PromptSpec | (() => Promise<PromptSpec>), loading?: string): Promise<PromptAnswer | undefined>;
  /** The footer's first line while a prompt is open (or loading). */
  line: ReactNode;
  /** The footer's second line (hint or validation error). */
  hint: ReactNode;
  /** Drawn over the body: pick lists, tags, reviews. */
  panel: ReactNode;
  open: boolean;
  /** Whether the prompt owns the keyboard now: not at all (idle), not yet (loading, applying), or yes. */
  route(): KeyRoute | 'idle';
  /** esc while the prompt is loading (cancels it) or applying an answer (ignored). Returns whether it took the esc. */
  escapeWhileHeld(): boolean;
}

export interface PromptHostOptions {
  theme: Theme;
  width: number;
  height: number;
  onQuit: () => void;
  /** Called when the prompt becomes ready for keys it was holding (opened, answer applied, closed). */
  onReady: () => void;
  /** The seq of the last key the app received (see KeyQueue). */
  lastSeq: () => number;
}

export function usePromptHost({ theme, width, height, onQuit, onReady, lastSeq }: PromptHostOptions): PromptHost {
  // Synchronous state: a burst of keys (typed text then enter) acts on what each key left behind.
  const [state, dispatch, stateRef] = useSyncReducer(promptReducer, () => IDLE as PromptState);
  const [text, setText, textRef] = useSyncState<TextInputState>(initialTextInput());
  const [pick, setPick, pickRef] = useSyncState(0);
  const [tags, setTags, tagsRef] = useSyncState<Map<string, TagChoice>>(new Map());
  const [tagCursor, setTagCursor, tagCursorRef] = useSyncState(0);
  const [reviewOffset, setReviewOffset, reviewRef] = useSyncState(0);
  const completion = useRef<Completion | undefined>(undefined);
  /** Walking the text prompt's history: the entry shown (undefined: the draft) and the draft. */
  const historyAt = useRef<{ index: number; draft: TextInputState } | undefined>(undefined);
  const resolvers = useRef(new Map<number, Resolver>());
  const accepting = useRef(false);
  const nextId = useRef(1);
  const readyRef = useRef(onReady);
  readyRef.current = onReady;
  // A y/N question is answered only by keys that arrived after it was drawn: the last key seq seen
  // when it reached the screen. Keys typed before (`xy` in one burst) never answer it.
  const shown = useRef<{ id: number; seq: number } | undefined>(undefined);
  const lastSeqRef = useRef(lastSeq);
  lastSeqRef.current = lastSeq;
  const openId = state.status === 'open' ? state.id : undefined;
  useEffect(() => {
    if (openId !== undefined) shown.current = { id: openId, seq: lastSeqRef.current() };
  }, [openId]);

  const settle = useCallback((id: number, answer: PromptAnswer | undefined) => {
    const resolve = resolvers.current.get(id);
    resolvers.current.delete(id);
    dispatch({ type: 'close', id });
    resolve?.(answer);
    // Keys held while the answer was applied go on (to the view, or to a prompt the answer opened).
    queueMicrotask(() => readyRef.current());
  }, []);

  const ask = useCallback((spec: PromptSpec | (() => Promise<PromptSpec>), loading = 'Loading…') => {
    const id = nextId.current++;
    // One prompt at a time: a new one cancels the old.
    for (const [old, resolve] of resolvers.current) {
      resolvers.current.delete(old);
      resolve(undefined);
    }
    return new Promise<PromptAnswer | undefined>((resolve, reject) => {
      resolvers.current.set(id, resolve);
      const show = (s: PromptSpec) => {
        setText(initialTextInput(s.kind === 'text' ? s.initial ?? '' : ''));
        completion.current = undefined;
        historyAt.current = undefined;
        setPick(0);
        setTags(new Map());
        setTagCursor(0);
        setReviewOffset(0);
        dispatch({ type: 'open', id, spec: s });
        readyRef.current();
      };
      if (typeof spec === 'function') {
        dispatch({ type: 'load', id, label: loading });
        spec().then(show, (e: unknown) => {
          // A prompt whose options failed to load closes; the asking view reports the failure.
          resolvers.current.delete(id);
          dispatch({ type: 'close', id });
          reject(e);
          readyRef.current();
        });
      } else {
        dispatch({ type: 'load', id, label: '' });
        show(spec);
      }
    });
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [settle]);

  const optionsFor = (st: PromptState, input: TextInputState): Array<PickOption & { typed?: boolean }> => {
    const out: Array<PickOption & { typed?: boolean }> = [];
    if (st.status === 'open' && st.spec.kind === 'pick') {
      const q = input.value.trim();
      out.push(...filterOptions(st.spec.options, q));
      // The typed text as an answer of its own: first when it is already complete (valid), else last.
      if (st.spec.freeText && q && !st.spec.options.some((o) => o.value.toLowerCase() === q.toLowerCase())) {
        const typed = { label: `${st.spec.freeText.label} ${q}`, value: q, typed: true };
        if (!st.spec.freeText.validate || st.spec.freeText.validate(q) === undefined) out.unshift(typed);
        else out.push(typed);
      }
    }
    return out;
  };
  const options = optionsFor(state, text);

  const onKey = (input: string, key: Key, seq: number): void => {
    const current = stateRef.current;
    if (key.ctrl && input === 'c') return onQuit();
    if (current.status !== 'open') return;
    const { spec, id } = current;
    // A question answers only to keys typed after it was on screen; earlier ones are dropped.
    const seen = shown.current;
    if ((spec.kind === 'confirm' || spec.kind === 'review') && (!seen || seen.id !== id || seq <= seen.seq)) return;
    if (key.escape) return settle(id, undefined);
    const text = textRef.current;
    // Retyping clears the last validation error: it was about the text as it was.
    const edited = () => {
      if (current.error !== undefined) dispatch({ type: 'edited', id });
    };
    switch (spec.kind) {
      case 'confirm':
        return settle(id, { kind: 'confirm', yes: input === 'y' || input === 'Y' });
      case 'review': {
        if (input === 'y' || input === 'Y') return settle(id, { kind: 'review', yes: true });
        if (input === 'n' || input === 'N' || input === 'q') return settle(id, { kind: 'review', yes: false });
        const page = Math.max(1, height - 3);
        const max = Math.max(0, spec.lines.length - page);
        const o = reviewRef.current;
        if (key.downArrow || input === 'j') setReviewOffset(Math.min(max, o + 1));
        if (key.upArrow || input === 'k') setReviewOffset(Math.max(0, o - 1));
        if (key.pageDown || input === ' ') setReviewOffset(Math.min(max, o + page));
        if (key.pageUp) setReviewOffset(Math.max(0, o - page));
        return;
      }
      case 'text': {
        if (key.return) {
          const problem = spec.validate?.(text.value);
          if (problem) return dispatch({ type: 'invalid', id, message: problem });
          const value = text.value;
          if (!spec.accept) return settle(id, { kind: 'text', value });
          // While the answer is applied the prompt holds the keys that follow (esc included: the
          // answer is already on its way to the screen); they go on when it closes.
          accepting.current = true;
          spec.accept(value).then(
            () => {
              accepting.current = false;
              settle(id, { kind: 'text', value });
            },
            (e: unknown) => {
              accepting.current = false;
              dispatch({ type: 'invalid', id, message: failureMessage(e) });
              readyRef.current();
            },
          );
          return;
        }
        if ((key.upArrow || key.downArrow) && spec.history && spec.history.length > 0) {
          const list = spec.history;
          const at = historyAt.current;
          const index = key.upArrow ? Math.max(0, (at ? at.index : list.length) - 1) : (at ? at.index : list.length) + 1;
          if (index >= list.length) {
            if (at) setText(at.draft);
            historyAt.current = undefined;
          } else {
            historyAt.current = { index, draft: at ? at.draft : text };
            setText(initialTextInput(list[index]!));
          }
          edited();
          return;
        }
        if (key.tab && spec.suggestions) {
          const step = completeStep(text, spec.suggestions, spec.completion ?? 'word', completion.current);
          completion.current = step.completion;
          if (step.input.value !== text.value) edited();
          return setText(step.input);
        }
        const action = textKey(input, key);
        if (action) {
          const next = textInputReducer(text, action);
          if (next.value !== text.value) edited();
          setText(next);
        }
        return;
      }
      case 'pick': {
        const opts = optionsFor(current, text);
        const p = pickRef.current;
        if (key.return) {
          const chosen = opts[p];
          if (!chosen) return;
          if (chosen.typed) {
            const problem = spec.freeText?.validate?.(chosen.value);
            if (problem) return dispatch({ type: 'invalid', id, message: problem });
          }
          return settle(id, { kind: 'pick', value: chosen.value, typed: chosen.typed === true });
        }
        if (key.downArrow) return setPick(Math.min(Math.max(0, opts.length - 1), p + 1));
        if (key.upArrow) return setPick(Math.max(0, p - 1));
        const action = textKey(input, key);
        if (action) {
          const next = textInputReducer(text, action);
          if (next.value !== text.value) edited();
          setText(next);
          setPick(0);
        }
        return;
      }
      case 'tags': {
        const count = spec.tags.length;
        const c = tagCursorRef.current;
        if (key.return) return settle(id, { kind: 'tags', ...tagAnswer(tagsRef.current) });
        if (key.downArrow || input === 'j') return setTagCursor(Math.min(count - 1, c + 1));
        if (key.upArrow || input === 'k') return setTagCursor(Math.max(0, c - 1));
        const tag = spec.tags[c];
        if (!tag) return;
        const set = (choice: TagChoice) => setTags(new Map(tagsRef.current).set(tag.id, choice));
        if (input === ' ') return set(nextTagChoice(tagsRef.current.get(tag.id) ?? 'keep'));
        if (input === '+' || input === 'a') return set('add');
        if (input === '-' || input === 'd') return set('remove');
        if (input === '=') return set('keep');
        return;
      }
    }
  };
  const onKeyRef = useRef(onKey);
  onKeyRef.current = onKey;
  const handleKey = useCallback((input: string, key: Key, seq: number) => onKeyRef.current(input, key, seq), []);
  const route = useCallback((): KeyRoute | 'idle' => {
    const current = stateRef.current;
    if (current.status === 'idle') return 'idle';
    if (current.status === 'loading' || accepting.current) return 'hold';
    return { handle: handleKey, text: current.spec.kind === 'text' || current.spec.kind === 'pick' };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);
  const escapeWhileHeld = useCallback((): boolean => {
    const current = stateRef.current;
    if (current.status === 'open' && accepting.current) return true;
    if (current.status !== 'loading') return false;
    settle(current.id, undefined);
    return true;
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);

  let line: ReactNode = null;
  let hint: ReactNode = null;
  let panel: ReactNode = null;
  if (state.status === 'loading' && state.label) {
    line = <Text {...theme.message('progress')}>{state.label}</Text>;
    hint = <Text {...theme.muted()}>esc cancel</Text>;
  }
  if (state.status === 'open') {
    const { spec, error } = state;
    const errorLine = error ? (
      <Text {...theme.message('error')} wrap="truncate">
        {fit(error, width)}
      </Text>
    ) : null;
    switch (spec.kind) {
      case 'confirm':
        line = (
          <Text bold wrap="truncate">
            {fit(spec.message, width - 6)} y/N
          </Text>
        );
        hint = <Text {...theme.muted()}>y yes · any other key no</Text>;
        break;
      case 'text':
        line = (
          <Text key={`${spec.label}${text.value}`} wrap="truncate">
            <Text {...theme.key()}>{spec.label} </Text>
            <InputText state={text} width={Math.max(10, width - spec.label.length - 2)} />
          </Text>
        );
        hint = errorLine ?? (
          <Text {...theme.muted()} wrap="truncate">
            {fit(`${spec.hint ? `${spec.hint} · ` : ''}enter apply · esc cancel${spec.suggestions ? ' · tab complete' : ''}`, width)}
          </Text>
        );
        break;
      case 'pick': {
        line = (
          <Text key={`${spec.title}${text.value}`} wrap="truncate">
            <Text {...theme.key()}>{spec.title}: </Text>
            <InputText state={text} width={Math.max(10, width - spec.title.length - 3)} />
          </Text>
        );
        hint = errorLine ?? (
          <Text {...theme.muted()} wrap="truncate">
            {fit(`${spec.hint ? `${spec.hint} · ` : ''}type to filter · ↑/↓ choose · enter pick · esc cancel`, width)}
          </Text>
        );
        const rows = Math.max(1, height - 1);
        const start = Math.max(0, Math.min(pick - rows + 1, options.length - rows));
        panel = (
          <Box flexDirection="column" height={height}>
            <Text {...theme.heading()}>{spec.title}</Text>
            {options.length === 0 ? <Text {...theme.muted()}>nothing matches</Text> : null}
            {options.slice(Math.max(0, start), Math.max(0, start) + rows).map((o, i) => {
              const index = Math.max(0, start) + i;
              return (
                <Text key={`${o.value}-${index}`} inverse={index === pick} wrap="truncate">
                  {cut(`${index === pick ? '›' : ' '} ${o.label}${o.hint ? `  ${o.hint}` : ''}`, width)}
                </Text>
              );
            })}
          </Box>
        );
        break;
      }
      case 'tags': {
        line = <Text {...theme.key()}>{spec.title}</Text>;
        hint = (
          <Text {...theme.muted()} wrap="truncate">
            {fit('space cycle keep/add/remove · + add · - remove · enter apply · esc cancel', width)}
          </Text>
        );
        const rows = Math.max(1, height - 1);
        const start = Math.max(0, Math.min(tagCursor - rows + 1, spec.tags.length - rows));
        panel = (
          <Box flexDirection="column" height={height}>
            <Text {...theme.heading()}>{spec.title}</Text>
            {spec.tags.length === 0 ? <Text {...theme.muted()}>The tag catalog is empty (flowdeck tags create).</Text> : null}
            {spec.tags.slice(start, start + rows).map((t, i) => {
              const index = start + i;
              const choice = tags.get(t.id) ?? 'keep';
              const mark = choice === 'add' ? '[+]' : choice === 'remove' ? '[-]' : '[ ]';
              const word = choice === 'add' ? ' add' : choice === 'remove' ? ' remove' : '';
              return (
                <Text key={t.id} inverse={index === tagCursor} wrap="truncate">
                  {cut(`${index === tagCursor ? '›' : ' '} ${mark} ${t.name}${t.note ? `  (${t.note})` : ''}${word}`, width)}
                </Text>
              );
            })}
          </Box>
        );
        break;
      }
      case 'review': {
        line = (
          <Text bold wrap="truncate">
            {fit(spec.question, width - 6)} y/N
          </Text>
        );
        hint = <Text {...theme.muted()}>y save · n or esc cancel · j/k scroll</Text>;
        const rows = Math.max(1, height - 1);
        panel = (
          <Box flexDirection="column" height={height}>
            <Text {...theme.heading()} wrap="truncate">
              {fit(spec.title, width)}
            </Text>
            {spec.lines.slice(reviewOffset, reviewOffset + rows).map((l, i) => (
              <Text key={reviewOffset + i} {...(l.kind === 'muted' ? theme.muted() : theme.diff(l.kind ?? 'context'))} wrap="truncate">
                {l.text === '' ? ' ' : l.text}
              </Text>
            ))}
          </Box>
        );
        break;
      }
    }
  }
  return { state, ask, line, hint, panel, open: state.status !== 'idle', route, escapeWhileHeld };
}

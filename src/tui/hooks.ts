import { useStdout, type Key } from 'ink';
import { useCallback, useEffect, useLayoutEffect, useRef, useState } from 'react';
import { failureMessage } from './backend.js';
import { useNavKey, useUIActions, useUIState } from './context.js';
import { matchCommand, type Command, type KeyContext, type ViewName } from './keys.js';
import { initialList, listReducer, type ListAction, type ListState } from './state/list.js';

/** The terminal size, following resizes. */
export function useTerminalSize(fallback = { columns: 100, rows: 30 }): { columns: number; rows: number } {
  const { stdout } = useStdout();
  const read = useCallback(
    () => ({ columns: stdout.columns || fallback.columns, rows: stdout.rows || fallback.rows }),
    [stdout, fallback.columns, fallback.rows],
  );
  const [size, setSize] = useState(read);
  useEffect(() => {
    const onResize = () => setSize(read());
    stdout.on('resize', onResize);
    return () => {
      stdout.off('resize', onResize);
    };
  }, [stdout, read]);
  return size;
}

/**
 * A view's keys: the app's key queue hands them to the view on top (with no prompt or help over
 * it), one at a time; each is matched against the binding table for the view, and the commands
 * every view shares (quit, help, jump, back) are handled here unless the view handles them first
 * (returns true). `keys` may be a function reading the view's synchronous state, so a key of a
 * burst sees what the key before it left (a tab switched, marks cleared) before any re-render.
 */
export function useCommands(view: ViewName, keys: KeyContext | (() => KeyContext), handle: (command: Command) => boolean | void, info?: string): void {
  const navKey = useNavKey();
  const ui = useUIState();
  const actions = useUIActions();
  const visible = ui.isVisible(navKey);
  const root = ui.nav.stack.length <= 1;
  const context: KeyContext = { ...(typeof keys === 'function' ? keys() : keys), root };
  const contextKey = JSON.stringify(context);

  useEffect(() => {
    if (visible) actions.setChrome(navKey, { view, keys: context, ...(info !== undefined ? { info } : {}) });
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [visible, view, contextKey, info, navKey, actions]);

  const handleRef = useRef(handle);
  handleRef.current = handle;
  const keysRef = useRef(keys);
  keysRef.current = keys;

  const onKey = useCallback(
    (input: string, key: Key) => {
      const k = keysRef.current;
      const now: KeyContext = { ...(typeof k === 'function' ? k() : k), root: actions.stackDepth() <= 1 };
      const command = matchCommand(view, now, input, key);
      if (!command) return;
      if (command === 'quit') return actions.quit();
      if (command === 'help') return actions.showHelp();
      if (command === 'jump') return actions.jumpPrompt();
      const handled = handleRef.current(command);
      if (handled !== true && command === 'back') actions.pop();
    },
    [view, actions],
  );
  // Registered as soon as the view is mounted: keys that came with the one that opened it wait for it.
  useLayoutEffect(() => {
    actions.registerKeys(navKey, onKey);
    return () => actions.registerKeys(navKey, undefined);
  }, [navKey, onKey, actions]);
}

/** Runs `fn` every `ms` while `active`; the latest `fn` is called (no restart when it changes). */
export function useInterval(fn: () => void, ms: number, active: boolean): void {
  const ref = useRef(fn);
  ref.current = fn;
  useEffect(() => {
    if (!active) return;
    const timer = setInterval(() => ref.current(), ms);
    return () => clearInterval(timer);
  }, [ms, active]);
}

/**
 * Calls `fn` every `ui.refreshMs` while the view is the visible one (k9s-style: counts, RETRY AT and
 * progress stay current without ctrl-r). `fn` must be cheap: it reads what is on screen, no more,
 * and leaves out loads too slow to repeat (cheapEnough).
 */
export function useAutoRefresh(fn: () => void): void {
  const navKey = useNavKey();
  const ui = useUIState();
  useInterval(fn, ui.refreshMs, ui.refreshMs > 0 && ui.isVisible(navKey));
}

/**
 * Whether a load may be repeated on the refresh timer now: every period for a cheap one, and a slow
 * one (a count over a big filtered list, a loaded machine) spaced out so that it takes at most a
 * tenth of the time — slower to follow, but never stopped, whatever the machine's speed.
 */
export function cheapEnough(loaded: Pick<Loaded<unknown>, 'loading' | 'lastMs' | 'lastAt'>, refreshMs: number, now = Date.now()): boolean {
  return !loaded.loading && now - loaded.lastAt >= Math.max(refreshMs, 9 * loaded.lastMs);
}

export interface Loaded<T> {
  data?: T;
  error?: string;
  loading: boolean;
  reload(): void;
  /** How long the last load took (ms), so a timed refresh can space out a load that is slow to repeat. */
  lastMs: number;
  /** When the last load ended (epoch ms; 0 before the first). */
  lastAt: number;
}

/**
 * Loads `load()` on mount and on reload(); keeps the last data while reloading. A view under
 * others in the stack (opened straight at a deeper view) loads only when it is first shown.
 */
export function useLoad<T>(load: () => Promise<T>, deps: readonly unknown[]): Loaded<T> {
  const navKey = useNavKey();
  const ui = useUIState();
  const shown = useRef(false);
  if (ui.isVisible(navKey)) shown.current = true;
  const enabled = shown.current;
  const [tick, setTick] = useState(0);
  const [state, setState] = useState<{ data?: T; error?: string; loading: boolean }>({ loading: true });
  const loadRef = useRef(load);
  loadRef.current = load;
  const took = useRef(0);
  const ended = useRef(0);
  useEffect(() => {
    if (!enabled) return;
    let current = true;
    setState((s) => (s.loading ? s : { ...s, loading: true }));
    const started = Date.now();
    loadRef.current().finally(() => {
      ended.current = Date.now();
      took.current = ended.current - started;
    }).then(
      (data) => current && setState({ data, loading: false }),
      (e: unknown) => current && setState((s) => ({ ...s, error: failureMessage(e), loading: false })),
    );
    return () => {
      current = false;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [tick, enabled, ...deps]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { ...state, reload, lastMs: took.current, lastAt: ended.current };
}

/** Calls `fn` when the view comes back on top (after a drill-down returns), not on first show. */
export function useOnReturn(fn: () => void): void {
  const navKey = useNavKey();
  const ui = useUIState();
  const visible = ui.isVisible(navKey);
  const was = useRef(visible);
  const ref = useRef(fn);
  ref.current = fn;
  useEffect(() => {
    if (visible && !was.current) ref.current();
    was.current = visible;
  }, [visible]);
}

/** Reloads when data changed behind the view (a retry progressed, a mutation elsewhere), while it is on top. */
export function useDataRefresh(reload: () => void): void {
  const navKey = useNavKey();
  const ui = useUIState();
  const visible = ui.isVisible(navKey);
  const seen = useRef(ui.dataVersion);
  const ref = useRef(reload);
  ref.current = reload;
  useEffect(() => {
    if (visible && seen.current !== ui.dataVersion) {
      seen.current = ui.dataVersion;
      ref.current();
    }
  }, [visible, ui.dataVersion]);
}

/**
 * useReducer whose latest state is readable at once (`ref.current`), so a burst of keys (a paste,
 * tmux send-keys, a fast typist between two frames) acts on the state each key left behind rather
 * than on the state of the last frame.
 */
export function useSyncReducer<S, A>(reducer: (state: S, action: A) => S, init: () => S): [S, (action: A) => void, { readonly current: S }] {
  const ref = useRef<S | undefined>(undefined);
  if (ref.current === undefined) ref.current = init();
  const [state, setState] = useState<S>(ref.current);
  const dispatch = useCallback(
    (action: A) => {
      ref.current = reducer(ref.current as S, action);
      setState(ref.current);
    },
    // The reducers are module-level pure functions.
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [],
  );
  return [state, dispatch, ref as { readonly current: S }];
}

/** useState whose latest value is readable at once (see useSyncReducer). */
export function useSyncState<T>(initial: T): [T, (value: T) => void, { readonly current: T }] {
  const [state, dispatch, ref] = useSyncReducer<T, T>((_, next) => next, () => initial);
  return [state, dispatch, ref];
}

/**
 * The scroll window of a list of `count` rows in `height` lines, kept in step while rendering (not
 * in an effect), so no frame ever shows the old count or height.
 */
export function useListWindow(count: number, height: number, mode: ListState['mode'] = 'cursor'): [ListState, (action: ListAction) => void, { readonly current: ListState }] {
  const [list, dispatch, ref] = useSyncReducer(listReducer, () => initialList(height, mode));
  if (ref.current.count !== count) dispatch({ type: 'set-count', count });
  if (ref.current.height !== height) dispatch({ type: 'resize', height });
  return [list, dispatch, ref];
}

import { Box, Text, useApp, useInput, useStdin } from 'ink';
import { memo, useCallback, useEffect, useMemo, useRef, useState } from 'react';
import type { AutomaticRetries } from '../backend/contract/index.js';
import { TERMINAL_JOB_STATUSES } from '../domain/api.js';
import { failureMessage, type TuiBackend } from './backend.js';
import { usePromptHost } from './components/prompt.js';
import { Footer, Header, helpKey, helpLines, HelpOverlay } from './components/frame.js';
import { NavKeyProvider, UIProviders, type Chrome, type Message, type RetryWatch, type UIActions, type UIState } from './context.js';
import { plural } from './format.js';
import { useInterval, useSyncReducer, useSyncState, useTerminalSize } from './hooks.js';
import { KeyQueue, type KeyHandler, type KeyRoute } from './input-queue.js';
import { currentRoute, initialNav, navReducer, type Route } from './state/nav.js';
import type { PromptAnswer, PromptSpec } from './state/prompt.js';
import { withHistory, type Session } from './session.js';
import { createTheme } from './theme.js';
import { ErrorDetailView } from './views/error-detail.js';
import { ErrorsView } from './views/errors.js';
import { FlowsView } from './views/flows.js';
import { GroupsView } from './views/groups.js';
import { JobLogsView, StageDataView, TraceView } from './views/logs.js';
import { JobsView } from './views/jobs.js';
import { StepsView } from './views/steps.js';

// The app: providers, the navigation stack (every view in it stays mounted; only the top one is
// drawn and hears keys), the header, the footer and the overlays (help, prompts). Retry jobs queued
// from any view are followed here, so their rows show as retrying wherever the operator goes.

export interface AppProps {
  backend: TuiBackend;
  /** Shown in the header. */
  workspace?: string;
  operator?: string;
  /** NO_COLOR and friends. */
  env?: NodeJS.ProcessEnv;
  initialRoutes?: Route[];
  /** Opens a file in the operator's editor with the TUI suspended (run.ts provides the real one). */
  editFile: (file: string) => Promise<void> | void;
  onQuit?: () => void;
  /** How often the visible view refreshes itself (default every 2 s; 0: never). */
  refreshMs?: number;
  /** Where the operator was is kept here (run.ts: a file in the workspace); absent: not kept. */
  session?: { history: readonly string[]; save(session: Session): void };
}

const RETRY_POLL_MS = 500;
const REFRESH_MS = 2000;

function ViewFor({ route }: { route: Route }) {
  switch (route.view) {
    case 'flows':
      return <FlowsView />;
    case 'steps':
      return <StepsView route={route} />;
    case 'errors':
      return <ErrorsView route={route} />;
    case 'error':
      return <ErrorDetailView route={route} />;
    case 'groups':
      return <GroupsView route={route} />;
    case 'jobs':
      return <JobsView />;
    case 'job':
      return <JobLogsView route={route} />;
    case 'trace':
      return <TraceView route={route} />;
    case 'stage':
      return <StageDataView route={route} />;
  }
}

/** One view of the stack, drawn only when on top; memoised, so the chrome around it can change alone. */
const StackEntry = memo(function StackEntry({ navKey, route, shown, height }: { navKey: number; route: Route; shown: boolean; height: number }) {
  return (
    <Box display={shown ? 'flex' : 'none'} flexDirection="column" height={height}>
      <NavKeyProvider navKey={navKey}>
        <ViewFor route={route} />
      </NavKeyProvider>
    </Box>
  );
});

export function App({ backend, workspace, operator, env = process.env, initialRoutes, editFile, onQuit, refreshMs = REFRESH_MS, session }: AppProps) {
  const { exit } = useApp();
  const { columns, rows } = useTerminalSize();
  const theme = useMemo(() => createTheme(env), [env]);
  const [nav, dispatchNav, navRef] = useSyncReducer(navReducer, () => initialNav(initialRoutes));
  const [message, setMessage] = useState<Message | undefined>();
  const [chrome, setChromeState] = useState<{ navKey: number; chrome: Chrome } | undefined>();
  /** The help overlay's scroll offset; null when it is closed. */
  const [helpOffset, setHelpOffset, helpRef] = useSyncState<number | null>(null);
  const help = helpOffset !== null;
  const [watches, setWatches] = useState<RetryWatch[]>([]);
  const [dataVersion, setDataVersion] = useState(0);
  const capabilities = useRef<{ ascending?: boolean }>({}).current;

  // Where the operator is, saved as it changes: the stack, each errors view's filter, the history.
  const history = useRef<string[]>([...(session?.history ?? [])]);
  const filters = useRef(new Map<number, string>());
  const sessionRef = useRef(session);
  sessionRef.current = session;
  const saveSession = useCallback(() => {
    const routes = navRef.current.stack.map((e): Route => {
      if (e.route.view !== 'errors') return e.route;
      const { query: _old, ...rest } = e.route;
      const query = filters.current.get(e.key) ?? e.route.query ?? '';
      return query ? { ...rest, query } : rest;
    });
    sessionRef.current?.save({ routes, history: history.current });
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);
  useEffect(() => {
    for (const key of filters.current.keys()) if (!nav.stack.some((e) => e.key === key)) filters.current.delete(key);
    saveSession();
  }, [nav, saveSession]);

  // One line is left free below the frame: ink writes a newline after it, and a frame as tall as the
  // terminal would scroll it by one line on every redraw.
  const height = Math.max(8, rows - 1);
  const bodyHeight = height - 4;

  const quit = useCallback(() => {
    onQuit?.();
    exit();
  }, [exit, onQuit]);

  // One key queue for the app: every key goes to whoever owns the keyboard once the key before it
  // was handled (help, a prompt, the view on top), so a burst does what typing slowly does.
  const viewKeys = useRef(new Map<number, KeyHandler>());
  const routeRef = useRef<() => KeyRoute>(() => 'hold');
  const interruptRef = useRef<(input: string, key: import('ink').Key, held: boolean) => boolean>(() => false);
  const queueRef = useRef<KeyQueue | undefined>(undefined);
  if (!queueRef.current) queueRef.current = new KeyQueue({ route: () => routeRef.current(), interrupt: (i, k, held) => interruptRef.current(i, k, held) });
  const queue = queueRef.current;

  const prompt = usePromptHost({ theme, width: columns, height: bodyHeight, onQuit: quit, onReady: () => queue.resume(), lastSeq: () => queue.lastSeq });
  const top = nav.stack[nav.stack.length - 1]!;
  const overlay = help || prompt.panel !== null;

  const actions: UIActions = useMemo(
    () => ({
      push: (route) => {
        setMessage(undefined);
        dispatchNav({ type: 'push', route });
      },
      pop: () => {
        setMessage(undefined);
        dispatchNav({ type: 'pop' });
      },
      jump: (routes) => {
        setMessage(undefined);
        dispatchNav({ type: 'jump', routes });
      },
      quit,
      showHelp: () => setHelpOffset(0),
      info: (text) => setMessage({ text, kind: 'info' }),
      success: (text) => setMessage({ text, kind: 'success' }),
      progress: (text) => setMessage({ text, kind: 'progress' }),
      fail: (error) => setMessage({ text: failureMessage(error), kind: 'error' }),
      clearMessage: () => setMessage(undefined),
      ask: (spec, loading) =>
        prompt.ask(spec as PromptSpec | (() => Promise<PromptSpec>), loading) as Promise<never>,
      setChrome: (navKey, c) =>
        setChromeState((old) => (old && old.navKey === navKey && JSON.stringify(old.chrome) === JSON.stringify(c) ? old : { navKey, chrome: c })),
      editFile: async (file) => {
        // Let the "editing…" message reach the screen before the terminal is handed over.
        await new Promise((resolve) => setTimeout(resolve, 20));
        await editFile(file);
      },
      watchRetry: (watch) => setWatches((list) => [...list.filter((w) => w.jobId !== watch.jobId), watch]),
      touch: () => setDataVersion((v) => v + 1),
      registerKeys: (navKey, handler) => {
        if (handler) viewKeys.current.set(navKey, handler);
        else viewKeys.current.delete(navKey);
        if (handler) queue.resume();
      },
      stackDepth: () => navRef.current.stack.length,
      noteFilter: (navKey, query) => {
        if ((filters.current.get(navKey) ?? null) === query) return;
        filters.current.set(navKey, query);
        saveSession();
      },
      filterHistory: () => history.current,
      addFilterHistory: (query) => {
        history.current = withHistory(history.current, query);
        saveSession();
      },
      jumpPrompt: () => {
        void (async () => {
          try {
            // The prompt opens (loading) at once: keys typed after `:` wait for it, not for the view.
            let flows: Awaited<ReturnType<TuiBackend['listFlows']>> = [];
            const answer = (await prompt.ask(async () => {
              flows = await backend.listFlows();
              return {
                kind: 'text',
                label: ':',
                hint: 'flows · jobs · a flow by name · quit',
                suggestions: ['flows', 'jobs', 'quit', ...flows.map((f) => f.name)],
                completion: 'whole',
                validate: (v) => {
                  const t = v.trim().toLowerCase();
                  if (!t || ['flows', 'jobs', 'q', 'quit'].includes(t)) return undefined;
                  return flows.some((f) => f.name.toLowerCase().includes(t) || f._id === t) ? undefined : `no view or flow "${v.trim()}" (flows, jobs, or a flow's name)`;
                },
              };
            }, '')) as Extract<PromptAnswer, { kind: 'text' }> | undefined;
            if (!answer) return;
            const t = answer.value.trim().toLowerCase();
            if (t === '' || t === 'flows') return dispatchNav({ type: 'jump', routes: [{ view: 'flows' }] });
            // Jobs open over the current view (esc comes back to it); flows start over at the root.
            if (t === 'jobs') return currentRoute(navRef.current).view === 'jobs' ? undefined : dispatchNav({ type: 'push', route: { view: 'jobs' } });
            if (t === 'q' || t === 'quit') return quit();
            const flow =
              flows.find((f) => f._id === t) ?? flows.find((f) => f.name.toLowerCase() === t) ?? flows.find((f) => f.name.toLowerCase().startsWith(t)) ?? flows.find((f) => f.name.toLowerCase().includes(t))!;
            setMessage(undefined);
            dispatchNav({ type: 'jump', routes: [{ view: 'flows' }, { view: 'steps', flowId: flow._id, flowName: flow.name }] });
          } catch (e) {
            setMessage({ text: failureMessage(e), kind: 'error' });
          }
        })();
      },
    }),
    // prompt.ask is stable; the rest are setters.
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [quit, backend, editFile, prompt.ask],
  );

  // Follow the retry jobs queued here: poll while any runs, refresh the views as they resolve.
  const polling = useRef(false);
  useInterval(
    () => {
      if (polling.current) return;
      polling.current = true;
      void (async () => {
        const updates = new Map<string, RetryWatch | null>();
        const ended: Message[] = [];
        for (const w of watches) {
          try {
            const job = await backend.getJob(w.jobId);
            const same = job.status === w.job.status && job.numSuccess === w.job.numSuccess && job.numError === w.job.numError && job.numResolved === w.job.numResolved;
            if (TERMINAL_JOB_STATUSES.includes(job.status)) {
              updates.set(w.jobId, null);
              const resolved = job.numResolved ?? job.numSuccess ?? 0;
              const text = `Retry job ${job._id} ${job.status}: ${plural(resolved, 'error')} resolved, ${formatFailing(job.numError ?? 0)}.`;
              ended.push({ text, kind: job.status === 'completed' ? 'success' : 'error' });
            } else if (!same) {
              updates.set(w.jobId, { ...w, job });
            }
          } catch (e) {
            updates.set(w.jobId, null);
            ended.push({ text: failureMessage(e), kind: 'error' });
          }
        }
        if (updates.size === 0) return;
        setWatches((current) => current.flatMap((w) => (updates.has(w.jobId) ? (updates.get(w.jobId) ? [updates.get(w.jobId)!] : []) : [w])));
        setDataVersion((v) => v + 1);
        if (ended.length) setMessage({ text: ended.map((m) => m.text).join(' '), kind: ended.some((m) => m.kind === 'error') ? 'error' : 'success' });
      })().finally(() => {
        polling.current = false;
      });
    },
    RETRY_POLL_MS,
    watches.length > 0,
  );

  // The state the views read changes only when something they show changes: a new footer message
  // or key hint re-renders the footer, not every view in the stack.
  const topKey = top.key;
  const state: UIState = useMemo(
    () => ({
      backend,
      theme,
      columns,
      rows,
      bodyHeight,
      ...(workspace !== undefined ? { workspace } : {}),
      ...(operator !== undefined ? { operator } : {}),
      nav,
      isVisible: (navKey: number) => navKey === topKey,
      retryWatches: watches,
      dataVersion,
      refreshMs,
      capabilities,
    }),
    [backend, theme, columns, rows, bodyHeight, workspace, operator, nav, topKey, watches, dataVersion, refreshMs, capabilities],
  );

  // While a workspace is open here, due automatic retries run: a worker is started when none is
  // alive (as queueing a retry does), or the header says they wait for one.
  const [autoRetries, setAutoRetries] = useState<AutomaticRetries>();
  const keepRetries = () =>
    void backend.keepAutomaticRetries().then(
      (a) => setAutoRetries((old) => (old && old.due === a.due && old.worker === a.worker ? old : a)),
      () => {},
    );
  useEffect(() => {
    const first = setTimeout(keepRetries, 500);
    return () => clearTimeout(first);
  }, [backend]);
  useInterval(keepRetries, 5000, true);

  const activeChrome = chrome && chrome.navKey === top.key ? chrome.chrome : { view: currentRoute(nav).view, keys: {} };
  const chromeRef = useRef(activeChrome);
  chromeRef.current = activeChrome;

  const helpHandle = useCallback<KeyHandler>(
    (input, key) => {
      const offset = helpRef.current;
      if (offset === null) return;
      const lines = helpLines(chromeRef.current.view, chromeRef.current.keys).length;
      const next = helpKey(input, key, offset, lines, bodyHeight);
      setHelpOffset(next === 'close' ? null : next);
    },
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [bodyHeight],
  );
  routeRef.current = () => {
    if (helpRef.current !== null) return { handle: helpHandle };
    const owner = prompt.route();
    if (owner !== 'idle') return owner;
    const topKey = navRef.current.stack[navRef.current.stack.length - 1]!.key;
    const handler = viewKeys.current.get(topKey);
    // A view just pushed is not mounted yet: its keys wait for it.
    return handler ? { handle: handler } : 'hold';
  };
  interruptRef.current = (input, key, held) => {
    if (key.ctrl && input === 'c') {
      quit();
      return true;
    }
    // esc cancels a prompt still loading (the keys typed for it go with it).
    if (key.escape && held) return prompt.escapeWhileHeld();
    return false;
  };

  // Raw chunks from the terminal: ink's useInput parses a chunk as one key press (a burst of keys
  // becomes one string, escape sequences mangled), so the queue reads the chunk itself. The chunk
  // is fed from useInput's callback, which ink runs inside a batched update (one render per chunk).
  const { internal_eventEmitter: stdinEvents } = useStdin();
  const chunks = useRef<string[]>([]);
  const flush = useCallback(() => {
    for (const chunk of chunks.current.splice(0)) queue.feed(chunk);
  }, [queue]);
  useEffect(() => {
    const onChunk = (data: string | Buffer) => {
      chunks.current.push(String(data));
      // If ink's callback does not come (ctrl-c with exitOnCtrlC), feed it anyway.
      queueMicrotask(flush);
    };
    stdinEvents.on('input', onChunk);
    return () => {
      stdinEvents.off('input', onChunk);
    };
  }, [stdinEvents, flush]);
  useInput(flush);

  return (
    <UIProviders state={state} actions={actions}>
      <Box flexDirection="column" width={columns} height={height}>
        <Header theme={theme} width={columns} {...(workspace ? { workspace } : {})} {...(operator ? { operator } : {})} nav={nav} running={watches.filter((w) => w.job.status !== 'queued').length} queued={watches.filter((w) => w.job.status === 'queued').length} {...(autoRetries ? { autoRetries } : {})} />
        <Box flexDirection="column" height={bodyHeight} width={columns}>
          {nav.stack.map((entry) => (
            <StackEntry key={entry.key} navKey={entry.key} route={entry.route} shown={entry.key === top.key && !overlay} height={bodyHeight} />
          ))}
          {help ? (
            <HelpOverlay theme={theme} view={activeChrome.view} keys={activeChrome.keys} width={columns} height={bodyHeight} offset={helpOffset ?? 0} />
          ) : (
            prompt.panel
          )}
        </Box>
        <Footer
          theme={theme}
          width={columns}
          {...(message ? { message } : {})}
          {...(activeChrome.info ? { info: activeChrome.info } : {})}
          promptLine={prompt.line}
          promptHint={help ? <Text {...theme.muted()}>esc close help · j/k scroll</Text> : prompt.hint}
          view={activeChrome.view}
          keys={activeChrome.keys}
        />
      </Box>
    </UIProviders>
  );
}

function formatFailing(n: number): string {
  return n === 0 ? 'none failing' : `${plural(n, 'error')} still failing`;
}

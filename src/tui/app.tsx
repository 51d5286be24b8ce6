import { Box, Text, useApp } from 'ink';
import { memo, useCallback, useMemo, useRef, useState } from 'react';
import { TERMINAL_JOB_STATUSES } from '../domain/api.js';
import { failureMessage, type TuiBackend } from './backend.js';
import { usePromptHost } from './components/prompt.js';
import { Footer, Header, HelpOverlay } from './components/frame.js';
import { NavKeyProvider, UIProviders, type Chrome, type Message, type RetryWatch, type UIActions, type UIState } from './context.js';
import { plural } from './format.js';
import { useInterval, useSyncReducer, useTerminalSize } from './hooks.js';
import { currentRoute, initialNav, navReducer, type Route } from './state/nav.js';
import type { PromptAnswer, PromptSpec } from './state/prompt.js';
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
}

const RETRY_POLL_MS = 500;

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

export function App({ backend, workspace, operator, env = process.env, initialRoutes, editFile, onQuit }: AppProps) {
  const { exit } = useApp();
  const { columns, rows } = useTerminalSize();
  const theme = useMemo(() => createTheme(env), [env]);
  const [nav, dispatchNav, navRef] = useSyncReducer(navReducer, () => initialNav(initialRoutes));
  const [message, setMessage] = useState<Message | undefined>();
  const [chrome, setChromeState] = useState<{ navKey: number; chrome: Chrome } | undefined>();
  const [help, setHelp] = useState(false);
  const [watches, setWatches] = useState<RetryWatch[]>([]);
  const [dataVersion, setDataVersion] = useState(0);
  const capabilities = useRef<{ ascending?: boolean }>({}).current;

  // One line is left free below the frame: ink writes a newline after it, and a frame as tall as the
  // terminal would scroll it by one line on every redraw.
  const height = Math.max(8, rows - 1);
  const bodyHeight = height - 4;

  const quit = useCallback(() => {
    onQuit?.();
    exit();
  }, [exit, onQuit]);

  const prompt = usePromptHost({ theme, width: columns, height: bodyHeight, onQuit: quit });
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
      showHelp: () => setHelp(true),
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
      jumpPrompt: () => {
        void (async () => {
          try {
            const flows = await backend.listFlows();
            const answer = (await prompt.ask({
              kind: 'text',
              label: ':',
              hint: 'flows · jobs · a flow by name · quit',
              suggestions: ['flows', 'jobs', 'quit', ...flows.map((f) => f.name)],
              validate: (v) => {
                const t = v.trim().toLowerCase();
                if (!t || ['flows', 'jobs', 'q', 'quit'].includes(t)) return undefined;
                return flows.some((f) => f.name.toLowerCase().startsWith(t) || f._id === t) ? undefined : `no view or flow "${v.trim()}" (flows, jobs, or a flow's name)`;
              },
            })) as Extract<PromptAnswer, { kind: 'text' }> | undefined;
            if (!answer) return;
            const t = answer.value.trim().toLowerCase();
            if (t === '' || t === 'flows') return dispatchNav({ type: 'jump', routes: [{ view: 'flows' }] });
            // Jobs open over the current view (esc comes back to it); flows start over at the root.
            if (t === 'jobs') return currentRoute(navRef.current).view === 'jobs' ? undefined : dispatchNav({ type: 'push', route: { view: 'jobs' } });
            if (t === 'q' || t === 'quit') return quit();
            const flow = flows.find((f) => f._id === t) ?? flows.find((f) => f.name.toLowerCase() === t) ?? flows.find((f) => f.name.toLowerCase().startsWith(t))!;
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
  const promptOpen = prompt.open;
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
      isActive: (navKey: number) => navKey === topKey && !help && !promptOpen,
      isVisible: (navKey: number) => navKey === topKey,
      retryWatches: watches,
      dataVersion,
      capabilities,
    }),
    [backend, theme, columns, rows, bodyHeight, workspace, operator, nav, topKey, help, promptOpen, watches, dataVersion, capabilities],
  );

  const activeChrome = chrome && chrome.navKey === top.key ? chrome.chrome : { view: currentRoute(nav).view, keys: {} };

  return (
    <UIProviders state={state} actions={actions}>
      <Box flexDirection="column" width={columns} height={height}>
        <Header theme={theme} width={columns} {...(workspace ? { workspace } : {})} {...(operator ? { operator } : {})} nav={nav} running={watches.length} />
        <Box flexDirection="column" height={bodyHeight} width={columns}>
          {nav.stack.map((entry) => (
            <StackEntry key={entry.key} navKey={entry.key} route={entry.route} shown={entry.key === top.key && !overlay} height={bodyHeight} />
          ))}
          {help ? (
            <HelpOverlay theme={theme} view={activeChrome.view} keys={activeChrome.keys} width={columns} height={bodyHeight} onClose={() => setHelp(false)} />
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

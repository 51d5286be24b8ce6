import { spawnSync } from 'node:child_process';
import { writeSync } from 'node:fs';
import type { Instance } from 'ink';
import { InvalidInputError } from '../domain/errors.js';
import type { TuiBackend } from './backend.js';
import { liveRoutes, readSession, writeSession, type Session } from './session.js';
import type { Route } from './state/nav.js';

// Runs the TUI on the terminal: the alternate screen (so the shell's screen comes back intact),
// ink's render, and a terminal restored on every way out — quit, an error, SIGINT, SIGTERM, SIGHUP,
// and process exit as a last resort. Resolves when the operator quits.

export interface RunTuiOptions {
  stdin?: NodeJS.ReadStream;
  stdout?: NodeJS.WriteStream;
  stderr?: NodeJS.WriteStream;
  env?: NodeJS.ProcessEnv;
  /** Shown in the header: the workspace's directory, or the profile and server. */
  workspace?: string;
  /** Where the TUI keeps where the operator was (tui-state.json): the workspace's directory, or the profile's. */
  sessionDir?: string;
  operator?: string;
  initialRoutes?: Route[];
}

export interface TuiResult {
  /** 'quit' when the operator quit; the signal's name when one ended it. */
  reason: 'quit' | NodeJS.Signals;
  exitCode: number;
}

const ENTER_ALT = '\u001B[?1049h\u001B[H\u001B[2J';
const LEAVE_ALT = '\u001B[?1049l';
const SHOW_CURSOR = '\u001B[?25h';

/** $VISUAL / $EDITOR (or vi), as git runs it: the variable may carry arguments. */
export function runEditorSync(env: NodeJS.ProcessEnv, file: string): void {
  const editor = env.VISUAL || env.EDITOR || 'vi';
  const result = spawnSync('sh', ['-c', `${editor} "$@"`, 'sh', file], { stdio: 'inherit', env });
  if (result.error) throw new InvalidInputError(`cannot run the editor "${editor}": ${result.error.message}`, 'EDITOR');
  if (result.status !== 0) throw new InvalidInputError(`the editor "${editor}" exited with ${result.status ?? result.signal}; nothing saved`, 'EDITOR');
}

/** Loads ink, React and the app; React's production build unless NODE_ENV says otherwise. */
export async function loadTui() {
  // The development build checks and logs on every render: several times slower per frame.
  process.env.NODE_ENV ??= 'production';
  const [ink, react, app] = await Promise.all([import('ink'), import('react'), import('./app.js')]);
  // React is CommonJS: its exports are the default export however it is loaded (Node, or the bundle).
  return { render: ink.render, createElement: react.default.createElement, App: app.App };
}

export async function runTui(backend: TuiBackend, options: RunTuiOptions = {}): Promise<TuiResult> {
  const { render, createElement, App } = await loadTui();
  // Back where the operator was in this workspace (unless told where to start).
  const home = options.sessionDir ?? options.workspace;
  const saved = home !== undefined ? readSession(home) : undefined;
  const initialRoutes = options.initialRoutes ?? (saved ? await liveRoutes(backend, saved.routes) : undefined);
  const stdin = options.stdin ?? process.stdin;
  const stdout = options.stdout ?? process.stdout;
  const env = options.env ?? process.env;
  const fd = stdout === process.stdout ? 1 : undefined;
  const write = (text: string) => {
    // Synchronous where possible: restoring must reach the terminal even when the process is exiting.
    if (fd !== undefined) {
      try {
        writeSync(fd, text);
        return;
      } catch {
        // fall through to the stream
      }
    }
    stdout.write(text);
  };
  const setRaw = (on: boolean) => {
    if (stdin.isTTY && typeof stdin.setRawMode === 'function') {
      try {
        stdin.setRawMode(on);
      } catch {
        // the terminal is gone
      }
    }
  };

  let restored = false;
  const restore = () => {
    if (restored) return;
    restored = true;
    setRaw(false);
    write(`${SHOW_CURSOR}${LEAVE_ALT}`);
  };

  let instance: Instance | undefined;
  let reason: TuiResult['reason'] = 'quit';
  const onSignal = (signal: NodeJS.Signals) => {
    reason = signal;
    instance?.unmount();
  };
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  for (const s of signals) process.on(s, onSignal);
  process.on('exit', restore);

  /** Hands the terminal to the editor and takes it back. */
  const editFile = (file: string) => {
    setRaw(false);
    write(`${SHOW_CURSOR}${LEAVE_ALT}`);
    try {
      runEditorSync(env, file);
    } finally {
      write(ENTER_ALT);
      setRaw(true);
    }
  };

  write(ENTER_ALT);
  try {
    instance = render(
      createElement(App, {
        backend,
        env,
        editFile,
        ...(options.workspace !== undefined ? { workspace: options.workspace } : {}),
        ...(options.operator !== undefined ? { operator: options.operator } : {}),
        ...(initialRoutes ? { initialRoutes } : {}),
        ...(home !== undefined && saved ? { session: { history: saved.history, save: (s: Session) => writeSession(home, s) } } : {}),
      }),
      {
        stdin,
        stdout,
        ...(options.stderr ? { stderr: options.stderr } : {}),
        // ctrl-c is a key like q: the app quits through the same path.
        exitOnCtrlC: false,
        patchConsole: true,
        maxFps: 60,
      },
    );
    await instance.waitUntilExit();
  } finally {
    instance?.unmount();
    restore();
    for (const s of signals) process.off(s, onSignal);
    process.off('exit', restore);
  }
  const exitCode = reason === 'quit' ? 0 : reason === 'SIGINT' ? 130 : reason === 'SIGTERM' ? 143 : 129;
  return { reason, exitCode };
}

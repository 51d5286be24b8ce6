import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { render } from 'ink-testing-library';
import { afterAll, afterEach, beforeEach } from 'vitest';
import { LocalBackend } from '../../src/backend/local-backend.js';
import { decodeId } from '../../src/domain/ids.js';
import { App, type AppProps } from '../../src/tui/app.js';
import type { TuiBackend } from '../../src/tui/backend.js';
import type { Route } from '../../src/tui/state/nav.js';
import { seedDemoWorkspace } from '../../src/workspace/demo.js';
import { Workspace } from '../../src/workspace/workspace.js';
import { runDemoFlows } from './workspace.js';

// TUI tests: the real App over a real LocalBackend (a demo workspace whose flows really ran against
// the mock systems), rendered with ink-testing-library. Helpers send named keys and wait until the
// frame shows something — never for a fixed time.

export const KEYS = {
  up: '\u001B[A',
  down: '\u001B[B',
  shiftUp: '\u001B[1;2A',
  shiftDown: '\u001B[1;2B',
  pageUp: '\u001B[5~',
  pageDown: '\u001B[6~',
  home: '\u001B[H',
  end: '\u001B[F',
  enter: '\r',
  escape: '\u001B',
  tab: '\t',
  backspace: '\u007F',
  space: ' ',
  ctrlR: '\u0012',
  ctrlU: '\u0015',
  ctrlC: '\u0003',
} as const;

export const OPERATOR = 'ops.lead@acme.example';
export const ERP_FLOW = 'Shop orders to ERP';
export const ERP_STEP = 'ERP sales orders';
export const CRM_FLOW = 'Shop customers to CRM';
export const CRM_STEP = 'CRM contacts';

const ANSI = /\u001B\[[0-9;?]*[ -/]*[@-~]/g;

export function stripAnsi(text: string): string {
  return text.replace(ANSI, '');
}

let template: string | undefined;

/**
 * A demo workspace whose ERP and CRM flows ran (the warehouse flow, slow by design, is left out).
 * Seeded once per test file, then copied for each test: every test gets its own store.
 */
export async function seededHome(): Promise<{ home: string; cleanup: () => void }> {
  if (!template) {
    const dir = mkdtempSync(join(tmpdir(), 'flowdeck-tui-template-'));
    const env = { ...process.env, FLOWDECK_USER: OPERATOR };
    const backend = new LocalBackend(await seedDemoWorkspace(dir, env));
    await runDemoFlows(backend);
    await backend.close();
    template = dir;
  }
  const home = mkdtempSync(join(tmpdir(), 'flowdeck-tui-'));
  cpSync(template, home, { recursive: true });
  return { home, cleanup: () => rmSync(home, { recursive: true, force: true }) };
}

/** Removes the seeded template (call in afterAll of a file that used seededHome). */
export function removeTemplate(): void {
  if (template) rmSync(template, { recursive: true, force: true });
  template = undefined;
}

/** The TUI's retries queue without starting a background worker: tests run the jobs themselves. */
export async function openBackend(home: string): Promise<LocalBackend> {
  return new LocalBackend(await Workspace.open(home, { ...process.env, FLOWDECK_USER: OPERATOR, FLOWDECK_WORKER: 'off' }));
}

export interface SeededTui {
  /** The test's own workspace directory. */
  readonly home: string;
  readonly backend: LocalBackend;
  /** Renders the App over the test's backend; it is unmounted after the test. */
  render(options?: RenderOptions): TuiHarness;
}

/**
 * For every test of the calling file: its own seeded demo workspace (a copy of one template), a
 * backend on it, and the TUI the test renders — unmounted, closed and removed after the test.
 */
export function seededTuiPerTest(): SeededTui {
  let home: { home: string; cleanup: () => void } | undefined;
  let backend: LocalBackend | undefined;
  let tui: TuiHarness | undefined;
  beforeEach(async () => {
    home = await seededHome();
    backend = await openBackend(home.home);
  });
  afterEach(async () => {
    tui?.unmount();
    tui = undefined;
    await backend?.close();
    home?.cleanup();
  });
  afterAll(removeTemplate);
  return {
    get home() {
      return home!.home;
    },
    get backend() {
      return backend!;
    },
    render(options) {
      tui = renderTui(backend!, options);
      return tui;
    },
  };
}

export interface TuiHarness {
  frame(): string;
  /** Every frame written so far (ANSI stripped), oldest first. */
  frames(): string[];
  press(...keys: string[]): void;
  type(text: string): void;
  waitFor(predicate: string | RegExp | ((frame: string) => boolean), timeoutMs?: number): Promise<string>;
  /** Sends keys, then waits until the frame shows `expected`. */
  pressAndWait(keys: string | string[], expected: string | RegExp | ((frame: string) => boolean), timeoutMs?: number): Promise<string>;
  resize(columns: number, rows: number): void;
  unmount(): void;
  quitCount(): number;
  edits: string[];
}

export interface RenderOptions {
  columns?: number;
  rows?: number;
  env?: NodeJS.ProcessEnv;
  routes?: Route[];
  /** What "the editor" does to a file (the real app runs $EDITOR with the TUI suspended). */
  edit?: (file: string) => void;
  /** The views' own refresh period (ms); off unless a test asks for it. */
  refreshMs?: number;
  /** Where the session (view, filter, `/` history) is kept; not kept unless given. */
  session?: AppProps['session'];
  /** The header's place and operator (a workspace's directory, or a profile and its server). */
  workspace?: string;
  operator?: string;
}

export function renderTui(backend: TuiBackend, options: RenderOptions = {}): TuiHarness {
  let quits = 0;
  const edits: string[] = [];
  const r = render(
    <App
      backend={backend}
      workspace={options.workspace ?? '/tmp/test-workspace'}
      operator={options.operator ?? OPERATOR}
      env={options.env ?? { NO_COLOR: '1' }}
      {...(options.routes ? { initialRoutes: options.routes } : {})}
      editFile={(file) => {
        edits.push(file);
        options.edit?.(file);
      }}
      onQuit={() => quits++}
      refreshMs={options.refreshMs ?? 0}
      {...(options.session ? { session: options.session } : {})}
    />,
  );
  const resize = (columns: number, rows: number) => {
    Object.defineProperty(r.stdout, 'columns', { value: columns, configurable: true });
    Object.defineProperty(r.stdout, 'rows', { value: rows, configurable: true });
    r.stdout.emit('resize');
  };
  resize(options.columns ?? 160, options.rows ?? 40);
  const frame = () => stripAnsi(r.lastFrame() ?? '');
  const frames = () => r.frames.map(stripAnsi);
  const matches = (f: string, p: string | RegExp | ((frame: string) => boolean)) =>
    typeof p === 'string' ? f.includes(p) : p instanceof RegExp ? p.test(f) : p(f);
  const waitFor = async (p: string | RegExp | ((frame: string) => boolean), timeoutMs = 30_000) => {
    const started = Date.now();
    for (;;) {
      const f = frame();
      if (matches(f, p)) {
        // The frame is drawn before React runs effects (where ink subscribes key handlers): let
        // them run, so the next key reaches what is on screen.
        await new Promise((resolve) => setImmediate(resolve));
        await new Promise((resolve) => setImmediate(resolve));
        return f;
      }
      if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${String(p)}; the frame is:\n${f}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  };
  const press = (...keys: string[]) => {
    for (const k of keys) r.stdin.write(k);
  };
  return {
    frame,
    frames,
    press,
    type: (text) => r.stdin.write(text),
    waitFor,
    pressAndWait: async (keys, expected, timeoutMs) => {
      press(...(Array.isArray(keys) ? keys : [keys]));
      return waitFor(expected, timeoutMs);
    },
    resize,
    unmount: () => r.unmount(),
    quitCount: () => quits,
    edits,
  };
}

/** The store's row of an error (tests read the store to check what the TUI did). */
export async function errorRow(backend: LocalBackend, errorId: string) {
  return (await backend.ws.store.errors.getError(decodeId('error', errorId)!.rowId))!;
}

export function jobRowId(jobId: string): number {
  return decodeId('job', jobId)!.rowId;
}

/** The line of the frame holding `text` (the first), or undefined. */
export function lineWith(frame: string, text: string | RegExp): string | undefined {
  return frame.split('\n').find((l) => (typeof text === 'string' ? l.includes(text) : text.test(l)));
}

/** The cursor row of the table on screen (drawn with a leading ›). */
export function cursorLine(frame: string): string | undefined {
  return frame.split('\n').find((l) => l.startsWith('› '));
}

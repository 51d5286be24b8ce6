import { createContext, useContext, type ReactNode } from 'react';
import type { JobDetail } from '../backend/contract/index.js';
import type { TuiBackend } from './backend.js';
import type { KeyHandler } from './input-queue.js';
import type { KeyContext, ViewName } from './keys.js';
import type { NavState, Route } from './state/nav.js';
import type { PromptAnswer, PromptSpec } from './state/prompt.js';
import type { Theme } from './theme.js';

// Two contexts, as the views use them: what the app shows (state) and what a view can ask of it
// (actions). Each has a hook that throws outside its provider, so a view rendered without the app
// fails loudly instead of silently doing nothing.

export type MessageKind = 'info' | 'success' | 'error' | 'progress';

export interface Message {
  text: string;
  kind: MessageKind;
}

export interface Chrome {
  view: ViewName;
  keys: KeyContext;
  /** Right side of the footer's first line: position, marks, filter… */
  info?: string;
}

/** A retry job the operator queued from the TUI: its errors show as retrying until it ends. */
export interface RetryWatch {
  jobId: string;
  flowId: string;
  stepId: string;
  /** The errors it retries: explicit ids, or every open error matching `query` up to `maxRowId`. */
  errorIds?: ReadonlySet<string>;
  query?: string;
  maxRowId: number;
  /** Errors selected when it was queued (the progress bar's whole). */
  total: number;
  job: JobDetail;
}

export interface UIState {
  backend: TuiBackend;
  theme: Theme;
  columns: number;
  rows: number;
  /** Rows a view may draw (between the header and the footer). */
  bodyHeight: number;
  workspace?: string;
  operator?: string;
  nav: NavState;
  /** Whether the view with this nav key is the visible one. */
  isVisible(navKey: number): boolean;
  /** Retry jobs queued here and still running. */
  retryWatches: readonly RetryWatch[];
  /** Bumped whenever something changed the errors behind the views (a retry progressed or ended). */
  dataVersion: number;
  /** How often the visible view refreshes itself (ms; 0: never). */
  refreshMs: number;
  /** Cache of what the backend can do, shared by every view. */
  capabilities: { ascending?: boolean };
}

export interface UIActions {
  push(route: Route): void;
  pop(): void;
  jump(routes: Route[]): void;
  quit(): void;
  showHelp(): void;
  info(text: string): void;
  success(text: string): void;
  progress(text: string): void;
  fail(error: unknown): void;
  clearMessage(): void;
  /** Opens a prompt (its spec loaded first when given as a function); undefined when canceled. */
  ask<K extends PromptAnswer['kind']>(spec: PromptSpec & { kind: K } | (() => Promise<PromptSpec & { kind: K }>), loading?: string): Promise<Extract<PromptAnswer, { kind: K }> | undefined>;
  /** The active view says what its keys are (footer, help) and what to show beside them. */
  setChrome(navKey: number, chrome: Chrome): void;
  /** Opens a file in the operator's editor with the TUI suspended; resolves when the editor exits. */
  editFile(file: string): Promise<void>;
  /** Follows a queued retry job: its rows show as retrying, views refresh as it resolves them. */
  watchRetry(watch: RetryWatch): void;
  /** Tells every view that data changed (after a mutation made elsewhere). */
  touch(): void;
  /** The `:` prompt: flows, jobs, or a flow by name. */
  jumpPrompt(): void;
  /** A view of the stack takes its keys through this handler (undefined: it left); see KeyQueue. */
  registerKeys(navKey: number, handler: KeyHandler | undefined): void;
  /** How many views the navigation stack holds now (not as of the last render). */
  stackDepth(): number;
  /** An errors view says which filter it shows (remembered for the next TUI of this workspace). */
  noteFilter(navKey: number, query: string): void;
  /** The `/` prompt's history, oldest first; addFilterHistory records an applied filter. */
  filterHistory(): readonly string[];
  addFilterHistory(query: string): void;
}

const StateContext = createContext<UIState | undefined>(undefined);
const ActionsContext = createContext<UIActions | undefined>(undefined);

export function UIProviders({ state, actions, children }: { state: UIState; actions: UIActions; children: ReactNode }) {
  return (
    <StateContext.Provider value={state}>
      <ActionsContext.Provider value={actions}>{children}</ActionsContext.Provider>
    </StateContext.Provider>
  );
}

export function useUIState(): UIState {
  const value = useContext(StateContext);
  if (!value) throw new Error('useUIState must be used inside the flowdeck TUI (UIProviders)');
  return value;
}

export function useUIActions(): UIActions {
  const value = useContext(ActionsContext);
  if (!value) throw new Error('useUIActions must be used inside the flowdeck TUI (UIProviders)');
  return value;
}

/** The nav key of the view being rendered (each stack entry provides its own). */
const NavKeyContext = createContext<number | undefined>(undefined);

export function NavKeyProvider({ navKey, children }: { navKey: number; children: ReactNode }) {
  return <NavKeyContext.Provider value={navKey}>{children}</NavKeyContext.Provider>;
}

export function useNavKey(): number {
  const value = useContext(NavKeyContext);
  if (value === undefined) throw new Error('useNavKey must be used inside a view of the navigation stack');
  return value;
}

import type { Key } from 'ink';

// Key bindings as data: one table of commands, the keys that trigger them, a short footer label, a
// help line and the views where they work. The key matcher, the footer and the `?` overlay are all
// built from this table, so what the screen says is always what the keys do.

export type ViewName = 'flows' | 'steps' | 'errors' | 'error' | 'groups' | 'jobs' | 'job' | 'trace' | 'stage';

export const VIEW_TITLES: Record<ViewName, string> = {
  flows: 'Flows',
  steps: 'Steps',
  errors: 'Errors',
  error: 'Error',
  groups: 'Groups',
  jobs: 'Jobs',
  job: 'Job logs',
  trace: 'Trace',
  stage: 'Stage data',
};

export type Command =
  | 'up'
  | 'down'
  | 'pageUp'
  | 'pageDown'
  | 'top'
  | 'bottom'
  | 'open'
  | 'back'
  | 'clearFilter'
  | 'filter'
  | 'tab'
  | 'mark'
  | 'markRange'
  | 'markUp'
  | 'markDown'
  | 'markAll'
  | 'clearMarks'
  | 'retry'
  | 'retryBackoff'
  | 'resolve'
  | 'reopen'
  | 'assign'
  | 'tags'
  | 'edit'
  | 'patch'
  | 'export'
  | 'logs'
  | 'groups'
  | 'statusFilter'
  | 'cancelJob'
  | 'refresh'
  | 'jump'
  | 'help'
  | 'quit';

type Special = 'up' | 'down' | 'pageUp' | 'pageDown' | 'home' | 'end' | 'return' | 'escape' | 'tab';

export interface KeySpec {
  /** A printable character as typed (case matters: `G` is shift-g). */
  input?: string;
  special?: Special;
  ctrl?: boolean;
  shift?: boolean;
}

/** What the bindings' availability depends on. */
export interface KeyContext {
  /** Errors view: which tab. */
  tab?: 'open' | 'resolved';
  filtered?: boolean;
  marked?: boolean;
  /** Whether the view is the first of the stack (esc has nowhere to go). */
  root?: boolean;
  /** Jobs view: the job under the cursor can be canceled. */
  cancelable?: boolean;
  /** Error detail: the error is open. */
  open?: boolean;
}

export interface Binding {
  command: Command;
  keys: KeySpec[];
  /** How the keys are written in the footer and help ("j/↓"). */
  display: string;
  /** Footer label; absent: help only. */
  label?: string;
  help: string;
  views: readonly ViewName[] | 'all';
  when?: (ctx: KeyContext) => boolean;
  /** Footer order: lower first (default 50). */
  footer?: number;
  /** When the footer is too narrow, which stay: lower first (default 50); the others go. */
  priority?: number;
}

const LISTS: ViewName[] = ['flows', 'steps', 'errors', 'groups', 'jobs', 'job', 'trace'];
const ALL_SCROLL: ViewName[] = [...LISTS, 'error', 'stage'];
const ACT_ON_ERRORS: ViewName[] = ['errors', 'error'];
const openTab = (c: KeyContext) => c.tab !== 'resolved';
const openError = (c: KeyContext) => (c.tab === undefined ? c.open !== false : c.tab === 'open');

export const BINDINGS: readonly Binding[] = [
  { command: 'open', keys: [{ special: 'return' }], display: 'enter', label: 'open', footer: 80, priority: 30, help: 'open the row under the cursor (drill down)', views: ['flows', 'steps', 'errors', 'jobs', 'job', 'trace'] },
  { command: 'open', keys: [{ special: 'return' }], display: 'enter', label: 'errors', footer: 80, help: "open the group's errors (the errors table filtered to sig:<group>)", views: ['groups'] },
  { command: 'groups', keys: [{ input: 's' }], display: 's', label: 'groups', footer: 65, help: "error groups: errors counted by signature, largest first (the step's here; every step's from the steps view)", views: ['errors', 'steps'], when: (c) => c.tab !== 'resolved' },
  { command: 'retry', keys: [{ input: 'r' }], display: 'r', label: 'retry', help: 'retry every error of the group as a background job', views: ['groups'] },
  { command: 'retryBackoff', keys: [{ input: 'b' }], display: 'b', label: 'back-off', help: 'retry the group with exponential back-off (5 attempts, 1s ×2, at most 5m apart)', views: ['groups'] },
  { command: 'resolve', keys: [{ input: 'x' }], display: 'x', label: 'resolve', help: 'resolve every error of the group', views: ['groups'] },
  { command: 'assign', keys: [{ input: 'a' }], display: 'a', label: 'assign', help: 'assign every error of the group to a user, or unassign', views: ['groups'] },
  { command: 'tags', keys: [{ input: 't' }], display: 't', label: 'tags', help: 'add or remove tags on every error of the group', views: ['groups'] },
  { command: 'export', keys: [{ input: 'E' }], display: 'E', label: 'export', help: "export the group's errors to a CSV file", views: ['groups'] },
  { command: 'clearFilter', keys: [{ special: 'escape' }], display: 'esc', label: 'clear filter', priority: 8, help: 'clear the filter', views: ['errors', 'jobs'], when: (c) => c.filtered === true },
  { command: 'back', keys: [{ special: 'escape' }], display: 'esc', label: 'back', footer: 81, priority: 30, help: 'back to the previous view', views: 'all', when: (c) => c.root !== true && c.filtered !== true },
  { command: 'filter', keys: [{ input: '/' }], display: '/', label: 'filter', priority: 8, help: 'filter with the query language (code:429 tag:x assignee:me …); on jobs: type:retry status:failed by:me flow:<name>', views: ['errors', 'jobs'] },
  { command: 'tab', keys: [{ special: 'tab' }], display: 'tab', label: 'show resolved', footer: 70, help: 'switch between open and resolved errors', views: ['errors'], when: openTab },
  { command: 'tab', keys: [{ special: 'tab' }], display: 'tab', label: 'show open', footer: 70, help: 'switch between open and resolved errors', views: ['errors'], when: (c) => !openTab(c) },
  { command: 'mark', keys: [{ input: ' ' }], display: 'space', label: 'mark', priority: 9, help: 'mark or unmark the row', views: ['errors'] },
  { command: 'markRange', keys: [{ input: 'v' }], display: 'v', label: 'range', footer: 60, help: 'start or end a range mark: rows the cursor passes are marked', views: ['errors'] },
  { command: 'markUp', keys: [{ special: 'up', shift: true }, { input: 'K' }], display: 'shift-↑/K', help: 'mark the row and move up', views: ['errors'] },
  { command: 'markDown', keys: [{ special: 'down', shift: true }, { input: 'J' }], display: 'shift-↓/J', help: 'mark the row and move down', views: ['errors'] },
  { command: 'markAll', keys: [{ input: 'A' }], display: 'A', label: 'mark all', help: 'mark every error matching the filter (not only the rows on screen)', views: ['errors'] },
  { command: 'clearMarks', keys: [{ input: 'u' }], display: 'u', label: 'unmark', priority: 7, help: 'clear every mark', views: ['errors'], when: (c) => c.marked === true },
  { command: 'retry', keys: [{ input: 'r' }], display: 'r', label: 'retry', priority: 6, help: 'retry the marked errors (or the one under the cursor) as a background job', views: ACT_ON_ERRORS, when: openError },
  { command: 'retryBackoff', keys: [{ input: 'b' }], display: 'b', label: 'back-off', help: 'retry with exponential back-off (5 attempts, 1s ×2, at most 5m apart)', views: ACT_ON_ERRORS, when: openError },
  { command: 'resolve', keys: [{ input: 'x' }], display: 'x', label: 'resolve', priority: 5, help: 'resolve the marked errors (or the one under the cursor)', views: ACT_ON_ERRORS, when: openError },
  { command: 'reopen', keys: [{ input: 'o' }], display: 'o', label: 'reopen', priority: 5, help: 'reopen the marked resolved errors (or the one under the cursor)', views: ACT_ON_ERRORS, when: (c) => !openError(c) },
  { command: 'assign', keys: [{ input: 'a' }], display: 'a', label: 'assign', help: 'assign to a user (pick one or type an email), or unassign', views: ACT_ON_ERRORS, when: openError },
  { command: 'tags', keys: [{ input: 't' }], display: 't', label: 'tags', help: 'add or remove tags from the catalog', views: ACT_ON_ERRORS },
  { command: 'edit', keys: [{ input: 'e' }], display: 'e', label: 'edit', help: "edit the error's retry-data snapshot in $EDITOR (validated, diff before saving)", views: ACT_ON_ERRORS, when: openError },
  { command: 'patch', keys: [{ input: 'p' }], display: 'p', label: 'patch', help: 'patch the snapshots of the marked errors (set/unset a data path; diff before saving)', views: ['errors'], when: openTab },
  { command: 'export', keys: [{ input: 'E' }], display: 'E', label: 'export', help: 'export the errors matching the filter to a CSV file', views: ['errors'] },
  { command: 'logs', keys: [{ input: 'l' }], display: 'l', label: 'logs', help: "execution logs of the job (the error's run, the flow's last run)", views: ['flows', 'errors', 'error', 'jobs'] },
  { command: 'statusFilter', keys: [{ input: 's' }], display: 's', label: 'status', help: 'show all, error, success or ignored log entries', views: ['job'] },
  { command: 'cancelJob', keys: [{ input: 'c' }], display: 'c', label: 'cancel job', help: 'cancel the job under the cursor', views: ['jobs'], when: (c) => c.cancelable === true },
  { command: 'up', keys: [{ special: 'up' }, { input: 'k' }], display: '↑/k', help: 'move up', views: ALL_SCROLL },
  { command: 'down', keys: [{ special: 'down' }, { input: 'j' }], display: '↓/j', help: 'move down', views: ALL_SCROLL },
  { command: 'pageUp', keys: [{ special: 'pageUp' }, { input: 'b', ctrl: true }], display: 'PgUp/ctrl-b', help: 'one screen up', views: ALL_SCROLL },
  { command: 'pageDown', keys: [{ special: 'pageDown' }, { input: 'f', ctrl: true }], display: 'PgDn/ctrl-f', help: 'one screen down', views: ALL_SCROLL },
  { command: 'top', keys: [{ input: 'g' }, { special: 'home' }], display: 'g/Home', help: 'to the top (newest)', views: ALL_SCROLL },
  { command: 'bottom', keys: [{ input: 'G' }, { special: 'end' }], display: 'G/End', help: 'to the bottom (oldest)', views: ALL_SCROLL },
  { command: 'refresh', keys: [{ input: 'r', ctrl: true }], display: 'ctrl-r', help: 'reload the view', views: 'all' },
  { command: 'jump', keys: [{ input: ':' }], display: ':', label: 'jump', footer: 82, priority: 40, help: 'jump to a view: flows, jobs, or a flow by name', views: 'all' },
  { command: 'help', keys: [{ input: '?' }], display: '?', label: 'help', help: 'this help', views: 'all' },
  { command: 'quit', keys: [{ input: 'q' }, { input: 'c', ctrl: true }], display: 'q', label: 'quit', help: 'quit flowdeck', views: 'all' },
];

function inView(binding: Binding, view: ViewName): boolean {
  return binding.views === 'all' || binding.views.includes(view);
}

/** The bindings that work in this view now, in table order. */
export function bindingsFor(view: ViewName, ctx: KeyContext = {}): Binding[] {
  return BINDINGS.filter((b) => inView(b, view) && (b.when ? b.when(ctx) : true));
}

function specialOf(key: Key): Special | undefined {
  if (key.upArrow) return 'up';
  if (key.downArrow) return 'down';
  if (key.pageUp) return 'pageUp';
  if (key.pageDown) return 'pageDown';
  if (key.home) return 'home';
  if (key.end) return 'end';
  if (key.return) return 'return';
  if (key.escape) return 'escape';
  if (key.tab) return 'tab';
  return undefined;
}

function matches(spec: KeySpec, input: string, key: Key): boolean {
  const special = specialOf(key);
  if (spec.special) {
    if (special !== spec.special) return false;
    return (spec.shift ?? false) === (key.shift ?? false) && (spec.ctrl ?? false) === (key.ctrl ?? false);
  }
  if (special || key.meta) return false;
  if ((spec.ctrl ?? false) !== (key.ctrl ?? false)) return false;
  return spec.input === input;
}

/** The command a key press means in this view, or undefined. */
export function matchCommand(view: ViewName, ctx: KeyContext, input: string, key: Key): Command | undefined {
  for (const binding of bindingsFor(view, ctx)) {
    if (binding.keys.some((spec) => matches(spec, input, key))) return binding.command;
  }
  return undefined;
}

/** The footer: labelled bindings as `key label` pairs, as many as fit, `? help` always last. */
export function footerItems(view: ViewName, ctx: KeyContext, width: number): Array<{ key: string; label: string }> {
  const items = bindingsFor(view, ctx)
    .filter((b) => b.label !== undefined && b.command !== 'help' && b.command !== 'quit')
    .map((b, i) => ({ key: b.display, label: b.label!, order: (b.footer ?? 50) * 1000 + i, priority: (b.priority ?? 50) * 1000 + i }));
  const tail = [
    { key: '?', label: 'help' },
    { key: 'q', label: 'quit' },
  ];
  const size = (list: ReadonlyArray<{ key: string; label: string }>) => list.reduce((n, i) => n + i.key.length + i.label.length + 3, 0);
  // The most important keys that fit are kept (x resolve before l logs), then shown in footer order.
  let room = width - size(tail);
  const kept = [...items]
    .sort((a, b) => a.priority - b.priority)
    .filter((item) => {
      const need = size([item]);
      if (need > room) return false;
      room -= need;
      return true;
    });
  return [...kept.sort((a, b) => a.order - b.order).map(({ key, label }) => ({ key, label })), ...tail];
}

/** A no-op key (for synthesising presses, e.g. splitting a pasted burst into single keys). */
export const NO_KEY: Key = {
  upArrow: false,
  downArrow: false,
  leftArrow: false,
  rightArrow: false,
  pageDown: false,
  pageUp: false,
  home: false,
  end: false,
  return: false,
  escape: false,
  ctrl: false,
  shift: false,
  tab: false,
  backspace: false,
  delete: false,
  meta: false,
};

const SEQUENCES: Record<string, Partial<Key>> = {
  '[A': { upArrow: true },
  '[B': { downArrow: true },
  '[C': { rightArrow: true },
  '[D': { leftArrow: true },
  OA: { upArrow: true },
  OB: { downArrow: true },
  OC: { rightArrow: true },
  OD: { leftArrow: true },
  '[1;2A': { upArrow: true, shift: true },
  '[1;2B': { downArrow: true, shift: true },
  '[5~': { pageUp: true },
  '[6~': { pageDown: true },
  '[H': { home: true },
  '[1~': { home: true },
  OH: { home: true },
  '[F': { end: true },
  '[4~': { end: true },
  OF: { end: true },
  '[3~': { delete: true },
};

/** One key of a burst as ink would have reported it alone. */
export function keyOf(token: string): [string, Key] {
  if (token.startsWith('\u001B')) {
    if (token === '\u001B') return ['', { ...NO_KEY, escape: true, meta: true }];
    const known = SEQUENCES[token.slice(1)];
    return known ? ['', { ...NO_KEY, ...known }] : ['', { ...NO_KEY, meta: true }];
  }
  if (token === '\r' || token === '\n') return ['\r', { ...NO_KEY, return: true }];
  if (token === '\t') return ['', { ...NO_KEY, tab: true }];
  if (token === '\u007F') return ['', { ...NO_KEY, delete: true }];
  if (token === '\b') return ['', { ...NO_KEY, backspace: true }];
  const code = token.charCodeAt(0);
  if (token.length === 1 && code >= 1 && code <= 26) return [String.fromCharCode(code + 96), { ...NO_KEY, ctrl: true }];
  return [token, { ...NO_KEY, shift: /^[A-Z]$/.test(token) }];
}

/** Splits raw terminal input into keys: escape sequences whole, everything else one character each. */
export function tokenizeKeys(raw: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < raw.length) {
    if (raw[i] === '\u001B') {
      const rest = raw.slice(i + 1);
      const m = /^(\[[0-9;]*[~A-Za-z]|O[A-Za-z])/.exec(rest);
      const len = m ? 1 + m[1]!.length : 1;
      out.push(raw.slice(i, i + len));
      i += len;
      continue;
    }
    const cp = raw.codePointAt(i)!;
    const ch = String.fromCodePoint(cp);
    out.push(ch);
    i += ch.length;
  }
  return out;
}

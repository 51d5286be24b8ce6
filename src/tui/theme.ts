import type { JobStatus } from '../domain/api.js';

// Colours as functions of state, never literals in JSX. With NO_COLOR set the theme is plain: no
// foreground or background colours at all, only the attributes that carry meaning without colour
// (inverse for the cursor row, bold for headings). Every state a colour shows is also in the text
// (markers, words), so nothing is lost in plain mode.

export interface Style {
  color?: string;
  backgroundColor?: string;
  bold?: boolean;
  dimColor?: boolean;
  inverse?: boolean;
}

export interface Theme {
  readonly plain: boolean;
  title(): Style;
  breadcrumb(current: boolean): Style;
  muted(): Style;
  heading(): Style;
  row(state: { cursor: boolean; marked: boolean; retrying?: boolean; dim?: boolean }): Style;
  jobStatus(status: JobStatus | string | undefined): Style;
  classification(value: string | undefined): Style;
  message(kind: 'info' | 'success' | 'error' | 'progress'): Style;
  key(): Style;
  diff(kind: 'add' | 'remove' | 'context' | 'header'): Style;
  flowState(disabled: boolean): Style;
  count(n: number): Style;
  progress(): Style;
}

const CLASS_COLOURS: Record<string, string> = {
  connection: 'red',
  intermittent: 'yellow',
  rate_limit: 'yellow',
  value: 'magenta',
  missing: 'magenta',
  duplicate: 'cyan',
  parse: 'red',
  too_large: 'red',
  governance: 'blue',
  none: 'gray',
};

const STATUS_COLOURS: Record<string, string> = {
  queued: 'gray',
  running: 'cyan',
  retrying: 'yellow',
  canceling: 'yellow',
  completed: 'green',
  failed: 'red',
  canceled: 'gray',
};

function colourTheme(): Theme {
  return {
    plain: false,
    title: () => ({ color: 'cyan', bold: true }),
    breadcrumb: (current) => (current ? { color: 'white', bold: true } : { color: 'gray' }),
    muted: () => ({ color: 'gray' }),
    heading: () => ({ color: 'gray', bold: true }),
    row: ({ cursor, marked, retrying, dim }) => ({
      ...(cursor ? { inverse: true } : {}),
      ...(marked ? { color: 'yellow', bold: true } : retrying ? { color: 'cyan' } : dim ? { color: 'gray' } : {}),
    }),
    jobStatus: (status) => ({ color: STATUS_COLOURS[status ?? ''] ?? 'white' }),
    classification: (value) => ({ color: CLASS_COLOURS[value ?? ''] ?? 'white' }),
    message: (kind) => ({ color: kind === 'error' ? 'red' : kind === 'success' ? 'green' : kind === 'progress' ? 'cyan' : 'white' }),
    key: () => ({ color: 'cyan', bold: true }),
    diff: (kind) => ({ color: kind === 'add' ? 'green' : kind === 'remove' ? 'red' : kind === 'header' ? 'cyan' : 'gray' }),
    flowState: (disabled) => ({ color: disabled ? 'red' : 'green' }),
    count: (n) => (n > 0 ? { color: 'yellow', bold: true } : { color: 'gray' }),
    progress: () => ({ color: 'cyan' }),
  };
}

function plainTheme(): Theme {
  const none = (): Style => ({});
  return {
    plain: true,
    title: () => ({ bold: true }),
    breadcrumb: (current) => (current ? { bold: true } : {}),
    muted: none,
    heading: () => ({ bold: true }),
    row: ({ cursor }) => (cursor ? { inverse: true } : {}),
    jobStatus: none,
    classification: none,
    message: (kind) => (kind === 'error' ? { bold: true } : {}),
    key: () => ({ bold: true }),
    diff: none,
    flowState: none,
    count: none,
    progress: none,
  };
}

/** NO_COLOR (any non-empty value, https://no-color.org) makes the theme plain. */
export function createTheme(env: NodeJS.ProcessEnv = process.env): Theme {
  return env.NO_COLOR ? plainTheme() : colourTheme();
}

import { displayable } from '../domain/text.js';

// Human output: aligned tables sized to the terminal; machine output: JSON exactly as the API
// shapes it. Plain functions of their input so they are tested without a terminal.

export interface Column<T> {
  header: string;
  value: (row: T) => string;
  align?: 'left' | 'right';
  /** This column absorbs the width left over (e.g. the message); others keep their natural width. */
  flex?: boolean;
}

export function truncate(text: string, width: number): string {
  const flat = text.replace(/\s+/g, ' ');
  if (width <= 0) return '';
  return flat.length > width ? `${flat.slice(0, Math.max(0, width - 1))}…` : flat;
}

export function renderTable<T>(rows: readonly T[], columns: readonly Column<T>[], maxWidth = 0): string {
  const cells = rows.map((row) => columns.map((c) => displayable(c.value(row)).replace(/\s+/g, ' ')));
  const widths = columns.map((c, i) => Math.max(c.header.length, ...cells.map((r) => r[i]!.length)));
  const gap = 2;
  if (maxWidth > 0) {
    const flexIndex = columns.findIndex((c) => c.flex);
    const total = widths.reduce((a, b) => a + b, 0) + gap * (columns.length - 1);
    if (flexIndex >= 0 && total > maxWidth) {
      widths[flexIndex] = Math.max(columns[flexIndex]!.header.length, 10, widths[flexIndex]! - (total - maxWidth));
    }
  }
  const line = (values: string[]) =>
    values
      .map((v, i) => {
        const text = truncate(v, widths[i]!);
        return columns[i]!.align === 'right' ? text.padStart(widths[i]!) : i === values.length - 1 ? text : text.padEnd(widths[i]!);
      })
      .join(' '.repeat(gap))
      .trimEnd();
  return [line(columns.map((c) => c.header)), ...cells.map(line)].join('\n');
}

export function json(value: unknown): string {
  return JSON.stringify(value, null, 2);
}

export function formatCount(n: number): string {
  return n.toLocaleString('en-US');
}

/** "3m ago" style age for tables; exact ISO stays in --json. */
export function formatAge(isoTime: string | undefined, now = Date.now()): string {
  if (!isoTime) return '-';
  const ms = now - Date.parse(isoTime);
  if (Number.isNaN(ms)) return isoTime;
  const future = ms < 0;
  const s = Math.abs(ms) / 1000;
  const text = s < 60 ? `${Math.round(s)}s` : s < 3600 ? `${Math.round(s / 60)}m` : s < 86400 ? `${Math.round(s / 3600)}h` : `${Math.round(s / 86400)}d`;
  return future ? `in ${text}` : `${text} ago`;
}

/** When an automatic retry is due: "in 40s", or "due" once its time has come (a worker takes it). */
export function formatRetryAt(isoTime: string | undefined, now = Date.now()): string {
  if (!isoTime) return '-';
  return Date.parse(isoTime) <= now ? 'due' : formatAge(isoTime, now);
}


// Text helpers for fixed-width terminal tables: every row is one line, cut to its column.

export function formatCount(n: number): string {
  return n.toLocaleString('en-US');
}

export function plural(n: number, one: string, many = `${one}s`): string {
  return `${formatCount(n)} ${n === 1 ? one : many}`;
}

/** One line: whitespace flattened, cut with an ellipsis. */
export function fit(text: string, width: number): string {
  if (width <= 0) return '';
  const flat = text.replace(/\s+/g, ' ');
  return flat.length > width ? `${flat.slice(0, Math.max(0, width - 1))}…` : flat;
}

/** Cut to `width` (an ellipsis marks the cut); whitespace is kept as it is. */
export function cut(text: string, width: number): string {
  if (width <= 0) return '';
  return text.length > width ? `${text.slice(0, Math.max(0, width - 1))}…` : text;
}

export function pad(text: string, width: number, align: 'left' | 'right' = 'left'): string {
  const cut = fit(text, width);
  return align === 'right' ? cut.padStart(width) : cut.padEnd(width);
}

/** "3m ago", "in 20s": compact ages for tables. */
export function age(iso: string | undefined, now = Date.now()): string {
  if (!iso) return '-';
  const ms = now - Date.parse(iso);
  if (Number.isNaN(ms)) return iso;
  const s = Math.abs(ms) / 1000;
  const text = s < 60 ? `${Math.round(s)}s` : s < 3600 ? `${Math.round(s / 60)}m` : s < 86400 ? `${Math.round(s / 3600)}h` : `${Math.round(s / 86400)}d`;
  return ms < 0 ? `in ${text}` : `${text} ago`;
}

/** "11-21 06:13:32" in UTC: short, sortable, unambiguous. */
export function shortTime(iso: string | undefined): string {
  if (!iso) return '-';
  return iso.slice(5, 19).replace('T', ' ');
}

export { displayable, messageLine, prettyText } from '../domain/text.js';

export function progressBar(done: number, total: number, width: number): string {
  const w = Math.max(4, width);
  const ratio = total > 0 ? Math.min(1, done / total) : 0;
  const filled = Math.round(ratio * w);
  return `${'█'.repeat(filled)}${'░'.repeat(w - filled)}`;
}

export interface ColumnSpec {
  header: string;
  /** Natural width; a flex column takes what is left (at least `min`). */
  width: number;
  min?: number;
  flex?: boolean;
  align?: 'left' | 'right';
  /** Narrow terminals drop columns, lowest first, before squeezing the rest. */
  drop?: number;
}

/**
 * Widths for the columns in `total` characters (one space between shown columns); 0 marks a
 * column dropped for lack of room. Columns with a `drop` rank go first (lowest first) while the
 * others at their natural width leave the flexible column less than its minimum; then columns are
 * squeezed from the right down to their minimum.
 */
export function layoutColumns(columns: readonly ColumnSpec[], total: number): number[] {
  const shown = columns.map(() => true);
  const flexIndex = columns.findIndex((c) => c.flex);
  const need = () => {
    const visible = columns.filter((_, i) => shown[i]);
    const fixed = visible.reduce((n, c) => n + (c.flex ? c.min ?? 8 : c.width), 0);
    return fixed + Math.max(0, visible.length - 1);
  };
  const droppable = columns
    .map((c, i) => ({ rank: c.drop, i }))
    .filter((d): d is { rank: number; i: number } => d.rank !== undefined)
    .sort((a, b) => a.rank - b.rank);
  for (const d of droppable) {
    if (need() <= total) break;
    shown[d.i] = false;
  }
  const widths = columns.map((c, i) => (shown[i] ? c.width : 0));
  const gaps = Math.max(0, shown.filter(Boolean).length - 1);
  const fixed = widths.reduce((a, b) => a + b, 0) + gaps;
  if (flexIndex >= 0 && shown[flexIndex]) {
    const rest = total - (fixed - widths[flexIndex]!);
    widths[flexIndex] = Math.max(columns[flexIndex]!.min ?? 8, rest);
  }
  // Still too wide: squeeze columns from the right down to their minimum.
  let over = widths.reduce((a, b) => a + b, 0) + gaps - total;
  for (let i = columns.length - 1; i >= 0 && over > 0; i--) {
    if (!shown[i]) continue;
    const min = columns[i]!.min ?? Math.min(columns[i]!.width, 4);
    const take = Math.min(over, widths[i]! - min);
    if (take > 0) {
      widths[i] = widths[i]! - take;
      over -= take;
    }
  }
  return widths;
}


/**
 * A line cut into pieces of at most `width` characters, at spaces where there are any (a word
 * longer than the width is cut where it must), so a long message reads in full on a narrow screen.
 */
export function wrapLine(text: string, width: number): string[] {
  const w = Math.max(8, width);
  if (text.length <= w) return [text];
  const out: string[] = [];
  let rest = text;
  while (rest.length > w) {
    const space = rest.lastIndexOf(' ', w);
    const at = space > w / 3 ? space : w;
    out.push(rest.slice(0, at).trimEnd());
    rest = rest.slice(at).replace(/^ /, '');
  }
  if (rest) out.push(rest);
  return out;
}

import { Box, Text } from 'ink';
import { layoutColumns, pad, type ColumnSpec } from '../format.js';
import { useUIState } from '../context.js';
import type { Style } from '../theme.js';

// A fixed-height table: a heading line, one line per row (cells cut to their column), blank lines
// to the bottom so the footer never moves. Rows are pre-cut strings: a frame is cheap to build.

export interface TableRow {
  key: string;
  cells: string[];
  style?: Style;
  /** Per-cell colour (ignored on the cursor row, which is drawn inverse as a whole). */
  cellStyles?: Array<Style | undefined>;
}

export function Table({
  columns,
  rows,
  height,
  width,
  cursor,
  empty,
}: {
  columns: readonly ColumnSpec[];
  rows: readonly TableRow[];
  /** Lines for the rows (the heading is extra). */
  height: number;
  width: number;
  /** Index in `rows` of the cursor row. */
  cursor?: number;
  empty?: string;
}) {
  const { theme } = useUIState();
  // Two columns on the left carry the cursor (›), so it shows without colour or inverse too.
  const widths = layoutColumns(columns, width - 2);
  const shown = widths.map((w) => w > 0);
  const lastShown = shown.lastIndexOf(true);
  const heading = `  ${columns.flatMap((c, i) => (shown[i] ? [pad(c.header, widths[i]!, c.align)] : [])).join(' ')}`;
  const lines = rows.slice(0, height);
  return (
    <Box flexDirection="column" height={height + 1} width={width}>
      <Text {...theme.heading()} wrap="truncate">
        {heading}
      </Text>
      {lines.length === 0 && empty ? (
        <Text {...theme.muted()} wrap="truncate">
          {empty}
        </Text>
      ) : null}
      {lines.map((row, index) => {
        const isCursor = index === cursor;
        const style = { ...(row.style ?? {}), ...(isCursor ? { inverse: true } : {}) };
        return (
          <Text key={`${row.key}${isCursor ? "›" : ""}`} {...style} wrap="truncate">
            {isCursor ? '› ' : '  '}
            {row.cells.map((cell, i) => {
              if (!shown[i]) return null;
              const text = pad(cell, widths[i]!, columns[i]?.align) + (i < lastShown ? ' ' : '');
              const cellStyle = row.cellStyles?.[i];
              return cellStyle && !isCursor && !row.style?.color ? (
                <Text key={i} {...cellStyle}>
                  {text}
                </Text>
              ) : (
                text
              );
            })}
          </Text>
        );
      })}
    </Box>
  );
}

/** Lines of text in a fixed-height window (detail pages, stage data, previews). */
export function TextPage({ lines, offset, height, width }: { lines: ReadonlyArray<{ text: string; style?: Style }>; offset: number; height: number; width: number }) {
  const visible = lines.slice(offset, offset + height);
  return (
    <Box flexDirection="column" height={height} width={width}>
      {visible.map((line, i) => (
        <Text key={offset + i} {...(line.style ?? {})} wrap="truncate">
          {line.text === '' ? ' ' : line.text}
        </Text>
      ))}
    </Box>
  );
}

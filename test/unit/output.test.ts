import { describe, expect, it } from 'vitest';
import { formatAge, renderTable, truncate, type Column } from '../../src/cli/output.js';

interface Row {
  id: string;
  count: number;
  message: string;
}

const rows: Row[] = [
  { id: 'a1', count: 5, message: 'short' },
  { id: 'b22222', count: 1234, message: 'a much longer message that goes on and on and on' },
  { id: 'c', count: 0, message: 'with\nnewline\tand tab' },
];

const columns: Column<Row>[] = [
  { header: 'ID', value: (r) => r.id },
  { header: 'COUNT', value: (r) => String(r.count), align: 'right' },
  { header: 'MESSAGE', value: (r) => r.message, flex: true },
  { header: 'END', value: () => 'x' },
];

/** The start offset of each column in a line, from the header's layout. */
function starts(header: string, names: string[]): number[] {
  return names.map((n) => header.indexOf(n));
}

describe('renderTable', () => {
  it('aligns every column on the header, two spaces apart, right-aligned where asked', () => {
    const lines = renderTable(rows, columns).split('\n');
    expect(lines).toHaveLength(4);
    const [id, count, message, end] = starts(lines[0]!, ['ID', 'COUNT', 'MESSAGE', 'END']);
    expect(id).toBe(0);
    expect(count).toBe('b22222'.length + 2);
    expect(message).toBe(count! + 'COUNT'.length + 2);
    expect(end).toBe(message! + rows[1]!.message.length + 2);
    for (const [i, row] of rows.entries()) {
      const line = lines[i + 1]!;
      expect(line.slice(id!, id! + row.id.length)).toBe(row.id);
      // right-aligned: the number ends where the header ends
      expect(line.slice(count!, count! + 'COUNT'.length)).toBe(String(row.count).padStart('COUNT'.length));
      expect(line.slice(end!)).toBe('x');
    }
  });

  it('flattens whitespace inside cells and leaves no trailing spaces', () => {
    const text = renderTable(rows, columns);
    expect(text).toContain('with newline and tab');
    for (const line of text.split('\n')) expect(line).toBe(line.trimEnd());
    const oneColumn = renderTable([{ v: 'a' }, { v: 'longer' }], [{ header: 'V', value: (r: { v: string }) => r.v }]);
    expect(oneColumn).toBe('V\na\nlonger');
  });

  it('shrinks the flex column to fit the width, truncating with an ellipsis', () => {
    const width = 40;
    const lines = renderTable(rows, columns, width).split('\n');
    for (const line of lines) expect(line.length).toBeLessThanOrEqual(width);
    expect(lines[2]).toContain('…');
    expect(lines[2]).not.toContain('and on and on');
    // the other columns keep their full text
    expect(lines[2]!.startsWith('b22222')).toBe(true);
    expect(lines[2]!.endsWith('x')).toBe(true);
    // the rows stay aligned with the header after shrinking
    const endAt = lines[0]!.indexOf('END');
    for (const line of lines.slice(1)) expect(line.indexOf('x', endAt)).toBe(endAt);
  });

  it('never shrinks the flex column below 10 characters (or its header)', () => {
    const lines = renderTable(rows, columns, 10).split('\n');
    const messageAt = lines[0]!.indexOf('MESSAGE');
    expect(lines[0]!.indexOf('END') - messageAt - 2).toBe(10);
    expect(lines[2]!.slice(messageAt, messageAt + 10)).toBe('a much lo…');
  });

  it('does not truncate without a width or when the table fits', () => {
    const full = renderTable(rows, columns);
    expect(full).toContain(rows[1]!.message);
    expect(renderTable(rows, columns, 500)).toBe(full);
  });

  it('renders only the header for no rows', () => {
    expect(renderTable([], columns)).toBe('ID  COUNT  MESSAGE  END');
  });
});

describe('truncate', () => {
  it('keeps text that fits and cuts the rest with one ellipsis character', () => {
    expect(truncate('hello', 5)).toBe('hello');
    expect(truncate('hello!', 5)).toBe('hell…');
    expect(truncate('hello', 1)).toBe('…');
    expect(truncate('hello', 0)).toBe('');
    expect(truncate('a\n\nb', 10)).toBe('a b');
  });
});

describe('formatAge', () => {
  const now = Date.UTC(2025, 2, 3, 12, 0, 0);
  it('says how long ago, or how long until', () => {
    expect(formatAge(new Date(now - 30_000).toISOString(), now)).toBe('30s ago');
    expect(formatAge(new Date(now - 5 * 60_000).toISOString(), now)).toBe('5m ago');
    expect(formatAge(new Date(now - 3 * 3600_000).toISOString(), now)).toBe('3h ago');
    expect(formatAge(new Date(now - 2 * 86400_000).toISOString(), now)).toBe('2d ago');
    expect(formatAge(new Date(now + 90_000).toISOString(), now)).toBe('in 2m');
    expect(formatAge(undefined, now)).toBe('-');
    expect(formatAge('not a time', now)).toBe('not a time');
  });
});

describe('text from remote systems', () => {
  it('shows the gist of a JSON error body and never a control character', async () => {
    const { messageLine, displayable } = await import('../../src/domain/text.js');
    expect(messageLine('{"errors":[{"code":"invalid_email","message":"\'x\' is not a valid email address"}]}')).toBe("'x' is not a valid email address");
    expect(messageLine('HTTP 500: \u001b]0;pwned\u0007\u001b[2Jboom')).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/);
    expect(displayable('tab\tand\nnewline stay')).toBe('tab\tand\nnewline stay');
  });
});

describe('terminal safety', () => {
  it('terminalSafe escapes every control character but newline and tab, and keeps JSON the same JSON', async () => {
    const { terminalSafe } = await import('../../src/domain/text.js');
    const value = { body: 'a\u001b[6n\u009b6n\u007f\r', ok: 'tab\there' };
    const text = JSON.stringify(value, null, 2);
    const safe = terminalSafe(text);
    expect(safe).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/);
    expect(JSON.parse(safe)).toEqual(value);
    expect(terminalSafe('x\u001b]0;t\u0007\ny')).toBe('x\\u001b]0;t\\u0007\ny');
  });

  it('prettyText of JSON leaves no DEL or C1 character (JSON.stringify keeps them raw)', async () => {
    const { prettyText } = await import('../../src/domain/text.js');
    expect(prettyText(JSON.stringify({ m: 'x\u009b6n\u007f' }))).not.toMatch(/[\u007f-\u009f]/);
  });
});

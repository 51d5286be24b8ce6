import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parsePatchText } from '../../src/tui/actions.js';
import { layoutColumns, messageLine, progressBar } from '../../src/tui/format.js';
import { BINDINGS, bindingsFor, footerItems, keyOf, matchCommand, NO_KEY, tokenizeKeys, type ViewName } from '../../src/tui/keys.js';
import { createTheme } from '../../src/tui/theme.js';
import { complete } from '../../src/tui/components/prompt.js';

// Key bindings are data: the matcher, the footer and the help come from one table.

const key = (over: Partial<typeof NO_KEY>) => ({ ...NO_KEY, ...over });
const VIEWS: ViewName[] = ['flows', 'steps', 'errors', 'error', 'groups', 'jobs', 'job', 'trace', 'stage'];

describe('bindings', () => {
  it('no two commands of a view share a key at the same time', () => {
    const contexts = [{}, { tab: 'resolved' as const }, { filtered: true, marked: true }, { root: true }, { cancelable: true }, { open: false }];
    for (const view of VIEWS) {
      for (const ctx of contexts) {
        const seen = new Map<string, string>();
        for (const b of bindingsFor(view, ctx)) {
          for (const k of b.keys) {
            const id = JSON.stringify(k);
            expect(seen.get(id), `${view}: ${id} is bound to ${seen.get(id)} and ${b.command}`).toBeUndefined();
            seen.set(id, b.command);
          }
        }
      }
    }
  });

  it('maps keys to commands per view and context', () => {
    expect(matchCommand('errors', {}, 'x', key({}))).toBe('resolve');
    expect(matchCommand('errors', { tab: 'resolved' }, 'x', key({}))).toBeUndefined();
    expect(matchCommand('errors', { tab: 'resolved' }, 'o', key({}))).toBe('reopen');
    expect(matchCommand('flows', {}, 'x', key({}))).toBeUndefined();
    expect(matchCommand('errors', {}, 'G', key({ shift: true }))).toBe('bottom');
    expect(matchCommand('errors', {}, 'g', key({}))).toBe('top');
    expect(matchCommand('errors', {}, '', key({ downArrow: true }))).toBe('down');
    expect(matchCommand('errors', {}, '', key({ downArrow: true, shift: true }))).toBe('markDown');
    expect(matchCommand('errors', {}, 'b', key({}))).toBe('retryBackoff');
    expect(matchCommand('errors', {}, 'b', key({ ctrl: true }))).toBe('pageUp');
    expect(matchCommand('errors', { filtered: true }, '', key({ escape: true }))).toBe('clearFilter');
    expect(matchCommand('errors', {}, '', key({ escape: true }))).toBe('back');
    expect(matchCommand('flows', { root: true }, '', key({ escape: true }))).toBeUndefined();
    expect(matchCommand('jobs', { cancelable: true }, 'c', key({}))).toBe('cancelJob');
    expect(matchCommand('jobs', {}, 'c', key({ ctrl: true }))).toBe('quit');
    // alt-x is not x
    expect(matchCommand('errors', {}, 'x', key({ meta: true }))).toBeUndefined();
  });

  it('the footer shows the keys that work here, as many as fit, help and quit last', () => {
    const items = footerItems('errors', {}, 240);
    expect(items.map((i) => i.key)).toEqual(expect.arrayContaining(['/', 'space', 'A', 'r', 'b', 'x', 'a', 't', 'e', 'E', 'l', 's']));
    expect(items.slice(-2).map((i) => i.label)).toEqual(['help', 'quit']);
    expect(items.some((i) => i.label === 'reopen')).toBe(false);
    expect(footerItems('errors', { tab: 'resolved' }, 200).some((i) => i.label === 'reopen')).toBe(true);
    const narrow = footerItems('errors', {}, 60);
    expect(narrow.reduce((n, i) => n + i.key.length + i.label.length + 3, 0)).toBeLessThanOrEqual(60);
    expect(narrow.slice(-2).map((i) => i.key)).toEqual(['?', 'q']);
    // At 90 columns with rows marked, what acts on them stays; less important keys go first.
    const marked = footerItems('errors', { marked: true }, 90);
    expect(marked.reduce((n, i) => n + i.key.length + i.label.length + 3, 0)).toBeLessThanOrEqual(90);
    expect(marked.map((i) => `${i.key} ${i.label}`)).toEqual(expect.arrayContaining(['x resolve', 'r retry', 'u unmark', '/ filter']));
    // The tab key says where it goes.
    expect(footerItems('errors', {}, 200).map((i) => `${i.key} ${i.label}`)).toContain('tab show resolved');
    expect(footerItems('errors', { tab: 'resolved' }, 200).map((i) => `${i.key} ${i.label}`)).toContain('tab show open');
    // Every binding says what it does.
    for (const b of BINDINGS) expect(b.help.length).toBeGreaterThan(3);
  });

  it('splits a burst of keys (tmux send-keys, a paste) into single keys', () => {
    expect(tokenizeKeys('jj\r\u001B[B\u001B[1;2Ax\u001B')).toEqual(['j', 'j', '\r', '\u001B[B', '\u001B[1;2A', 'x', '\u001B']);
    const keys = tokenizeKeys('jG\r\u0012').map(keyOf);
    expect(keys.map(([i]) => i)).toEqual(['j', 'G', '\r', 'r']);
    expect(keys[1]![1].shift).toBe(true);
    expect(keys[2]![1].return).toBe(true);
    expect(keys[3]![1].ctrl).toBe(true);
    expect(keyOf('\u001B[B')[1].downArrow).toBe(true);
  });
});

describe('theme', () => {
  it('is plain with NO_COLOR: no colour anywhere, meaning kept by attributes and text', () => {
    const plain = createTheme({ NO_COLOR: '1' });
    const coloured = createTheme({});
    expect(plain.plain).toBe(true);
    const styles = [
      plain.title(),
      plain.row({ cursor: false, marked: true, retrying: true }),
      plain.jobStatus('failed'),
      plain.classification('connection'),
      plain.message('error'),
      plain.diff('add'),
      plain.flowState(true),
      plain.count(3),
    ];
    for (const s of styles) {
      expect(s.color).toBeUndefined();
      expect(s.backgroundColor).toBeUndefined();
    }
    expect(plain.row({ cursor: true, marked: false })).toEqual({ inverse: true });
    expect(coloured.jobStatus('failed').color).toBe('red');
    expect(coloured.row({ cursor: false, marked: true }).color).toBeDefined();
  });
});

describe('format and parsing helpers', () => {
  it('lays columns out in the width, the flexible one taking what is left', () => {
    const cols = [
      { header: 'A', width: 10 },
      { header: 'MSG', width: 20, flex: true, min: 8 },
      { header: 'B', width: 12, min: 4 },
    ];
    expect(layoutColumns(cols, 100)).toEqual([10, 76, 12]);
    const tight = layoutColumns(cols, 30);
    expect(tight.reduce((a, b) => a + b, 0) + 2).toBeLessThanOrEqual(30);
    // Narrow terminals drop the least useful columns first, then squeeze.
    const ranked = [
      { header: 'TIME', width: 14 },
      { header: 'SOURCE', width: 11, drop: 1 },
      { header: 'MESSAGE', width: 30, flex: true, min: 24 },
      { header: 'ASSIGNEE', width: 18, drop: 2 },
    ];
    expect(layoutColumns(ranked, 120)).toEqual([14, 11, 74, 18]);
    expect(layoutColumns(ranked, 60)).toEqual([14, 0, 26, 18]);
    expect(layoutColumns(ranked, 40)).toEqual([14, 0, 25, 0]);
    expect(messageLine('{"errors":[{"code":"x","message":"Too many requests"}]}')).toBe('Too many requests');
    expect(messageLine('plain')).toBe('plain');
    expect(progressBar(5, 10, 10)).toBe('█████░░░░░');
  });

  it('reads a snapshot patch as set/unset operations or a JSON Patch', () => {
    expect(parsePatchText('set data.customer.email=a@b.c; unset data.note')).toEqual([
      { op: 'set', path: '/data/customer/email', value: 'a@b.c' },
      { op: 'unset', path: '/data/note' },
    ]);
    expect(parsePatchText('[{"op":"replace","path":"/data/x","value":1}]')).toEqual([{ op: 'replace', path: '/data/x', value: 1 }]);
    expect(() => parsePatchText('frobnicate data.x')).toThrow(/set data.path=value/);
    expect(() => parsePatchText('')).toThrow();
  });

  it('completes the word before the cursor', () => {
    expect(complete({ value: 'code:429 cla', cursor: 12 }, ['class:', 'class:value'])).toEqual({ value: 'code:429 class:', cursor: 15 });
    expect(complete({ value: '!tag:Inv', cursor: 8 }, ['tag:Investigating'])).toEqual({ value: '!tag:Investigating', cursor: 18 });
    expect(complete({ value: 'zzz', cursor: 3 }, ['class:'])).toEqual({ value: 'zzz', cursor: 3 });
  });
});

describe('boundaries', () => {
  function files(dir: string): string[] {
    return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : /\.tsx?$/.test(e.name) ? [join(dir, e.name)] : []));
  }

  const importsOf = (file: string) =>
    [...readFileSync(file, 'utf8').matchAll(/^import\s+(type\s+)?[^'"]*from\s+'([^']+)'/gm)].map((m) => ({ typeOnly: !!m[1], from: m[2]! }));
  // The client's helpers (following a job, saving a download) work over any Backend, as the CLI's
  // commands use them: the TUI may call them too.
  const CLIENT_HELPERS = ['src/backend/follow-job.ts', 'src/backend/download.ts'];
  const isClientHelper = (from: string) => /\/backend\/(follow-job|download)\.js$/.test(from);

  it('the TUI sits on the backend interface: no store, no SQLite, no runtime; backend modules for types only', () => {
    for (const file of files('src/tui')) {
      for (const i of importsOf(file)) {
        expect(i.from, file).not.toMatch(/\/store\/|better-sqlite3|\/runtime\/|\/workspace\//);
        if (/\/backend\//.test(i.from) && !isClientHelper(i.from)) expect(i.typeOnly, `${file} imports ${i.from} for more than types`).toBe(true);
      }
    }
  });

  it('the client\'s helpers the TUI may use load no backend implementation, store or runtime', () => {
    for (const file of CLIENT_HELPERS) {
      for (const i of importsOf(file)) {
        expect(i.from, file).not.toMatch(/\/store\/|better-sqlite3|\/runtime\/|\/workspace\//);
        if (/^\.\/(?!contract\/)/.test(i.from)) expect(i.typeOnly, `${file} imports ${i.from} for more than types`).toBe(true);
      }
    }
  });

  it('plain commands never load ink or react: the TUI is imported lazily', () => {
    for (const file of files('commands')) {
      const text = readFileSync(file, 'utf8');
      expect(text, file).not.toMatch(/^import[^;]*from '(ink|react|[^']*\/tui\/[^']*)'/m);
    }
  });
});

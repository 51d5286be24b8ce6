import { Box, Text, type Key } from 'ink';
import type { ReactNode } from 'react';
import { QUERY_HELP } from '../../domain/query.js';
import { fit } from '../format.js';
import { BINDINGS, footerItems, VIEW_TITLES, type Binding, type KeyContext, type ViewName } from '../keys.js';
import { routeLabel, type NavState } from '../state/nav.js';
import type { Theme } from '../theme.js';
import type { Message } from '../context.js';
import type { AutomaticRetries } from '../../backend/contract/index.js';

// The fixed parts of the screen: a header (title, workspace, breadcrumb), a footer (a message or
// the open prompt, then the keys that work here) and the `?` overlay. Footer and help are drawn
// from the binding table.

/** What the header says of automatic retries: only when due ones wait for a worker that is not there. */
export function autoRetryNote(auto: AutomaticRetries | undefined): string {
  if (!auto || auto.due === 0 || auto.worker !== 'off') return '';
  return `${auto.due.toLocaleString('en-US')} retr${auto.due === 1 ? 'y' : 'ies'} due: no worker (flowdeck worker)`;
}

/** "2 retry jobs running · 1 queued": a queued job waits for a worker, it is not running. */
export function retryJobsNote(running: number, queued: number): string {
  const jobs = (n: number) => `${n} retry job${n === 1 ? '' : 's'}`;
  if (running > 0) return `${jobs(running)} running${queued > 0 ? ` · ${queued} queued` : ''}`;
  return queued > 0 ? `${jobs(queued)} queued` : '';
}

export function Header({ theme, width, workspace, operator, nav, running, queued = 0, autoRetries }: { theme: Theme; width: number; workspace?: string; operator?: string; nav: NavState; running: number; queued?: number; autoRetries?: AutomaticRetries }) {
  const crumbs = nav.stack.map((e) => routeLabel(e.route));
  const right = [retryJobsNote(running, queued), autoRetryNote(autoRetries), operator ?? ''].filter(Boolean).join(' · ');
  const left = `flowdeck${workspace ? `  ${workspace}` : ''}`;
  const gap = Math.max(1, width - left.length - right.length);
  return (
    <Box flexDirection="column" height={2} width={width}>
      <Text key={right} wrap="truncate">
        <Text {...theme.title()}>flowdeck</Text>
        <Text {...theme.muted()}>{fit(workspace ? `  ${workspace}` : '', Math.max(0, width - right.length - 9))}</Text>
        {' '.repeat(gap)}
        <Text {...theme.muted()}>{right}</Text>
      </Text>
      <Text key={crumbs.join('\u0000')} wrap="truncate">
        {crumbs.map((c, i) => (
          <Text key={i}>
            {i > 0 ? <Text {...theme.muted()}> › </Text> : null}
            <Text {...theme.breadcrumb(i === crumbs.length - 1)}>{c}</Text>
          </Text>
        ))}
      </Text>
    </Box>
  );
}

export function KeyHints({ theme, view, keys, width }: { theme: Theme; view: ViewName; keys: KeyContext; width: number }) {
  const items = footerItems(view, keys, width);
  // Keyed by its content: a line whose nested texts change is remounted, so ink measures it anew.
  return (
    <Text key={items.map((i) => i.key + i.label).join(' ')} wrap="truncate">
      {items.map((item, i) => (
        <Text key={item.key}>
          {i > 0 ? '  ' : ''}
          <Text {...theme.key()}>{item.key}</Text> {item.label}
        </Text>
      ))}
    </Text>
  );
}

export function Footer({
  theme,
  width,
  message,
  info,
  promptLine,
  promptHint,
  view,
  keys,
}: {
  theme: Theme;
  width: number;
  message?: Message;
  info?: string;
  promptLine?: ReactNode;
  promptHint?: ReactNode;
  view: ViewName;
  keys: KeyContext;
}) {
  const infoText = info ? fit(info, Math.max(0, Math.floor(width / 2))) : '';
  const room = Math.max(0, width - infoText.length - 1);
  return (
    <Box flexDirection="column" height={2} width={width}>
      {promptLine ? (
        <Box width={width}>{promptLine}</Box>
      ) : (
        <Box width={width}>
          <Box width={room}>
            <Text {...theme.message(message?.kind ?? 'info')} wrap="truncate">
              {message ? fit(message.text, room) : ' '}
            </Text>
          </Box>
          <Text {...theme.muted()}>{infoText ? ` ${infoText}` : ''}</Text>
        </Box>
      )}
      {promptHint ? <Box width={width}>{promptHint}</Box> : <KeyHints theme={theme} view={view} keys={keys} width={width} />}
    </Box>
  );
}

export function helpLines(view: ViewName, keys: KeyContext): Array<{ text: string; bold?: boolean }> {
  const inView = (b: Binding) => b.views === 'all' || b.views.includes(view);
  const all = BINDINGS.filter(inView);
  const width = Math.max(...all.map((b) => b.display.length));
  const lines: Array<{ text: string; bold?: boolean }> = [{ text: `Keys — ${VIEW_TITLES[view]}`, bold: true }, { text: '' }];
  const seen = new Set<string>();
  for (const b of all) {
    const key = `${b.display}:${b.command}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const twins = all.filter((x) => x.display === b.display && x.command === b.command);
    const off = twins.some((x) => !x.when || x.when(keys)) ? '' : '  (not here now)';
    lines.push({ text: `  ${b.display.padEnd(width)}  ${b.help}${off}` });
  }
  if (view === 'errors') {
    lines.push({ text: '' }, { text: 'Filter (/)', bold: true });
    for (const l of QUERY_HELP.split('\n')) lines.push({ text: `  ${l}` });
  }
  lines.push({ text: '' }, { text: 'esc, ? or q closes this help', bold: false });
  return lines;
}

/** A key in the help overlay: the new scroll offset, or 'close'. */
export function helpKey(input: string, key: Key, offset: number, lineCount: number, height: number): number | 'close' {
  const max = Math.max(0, lineCount - height);
  if (key.escape || input === '?' || input === 'q') return 'close';
  if (key.downArrow || input === 'j') return Math.min(max, offset + 1);
  if (key.upArrow || input === 'k') return Math.max(0, offset - 1);
  if (key.pageDown || input === ' ') return Math.min(max, offset + height - 1);
  if (key.pageUp) return Math.max(0, offset - height + 1);
  return offset;
}

/** The `?` overlay; its keys come through the app's key queue (helpKey). */
export function HelpOverlay({ theme, view, keys, width, height, offset }: { theme: Theme; view: ViewName; keys: KeyContext; width: number; height: number; offset: number }) {
  const lines = helpLines(view, keys);
  return (
    <Box flexDirection="column" height={height} width={width}>
      {lines.slice(offset, offset + height).map((l, i) => (
        <Text key={offset + i} {...(l.bold ? theme.heading() : {})} wrap="truncate">
          {l.text === '' ? ' ' : l.text}
        </Text>
      ))}
    </Box>
  );
}

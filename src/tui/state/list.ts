// The scroll window of a list held in memory (flows, steps, jobs, log entries) or of a text page
// (error detail, stage data), as state: the cursor, the first visible row and the visible height.
// The window scrolls only when the cursor leaves it and is kept when the rows are replaced by a
// reload, clamped to the new count.

export interface ListState {
  /** 'cursor': a row is selected; 'scroll': a page of text, the window itself moves. */
  mode: 'cursor' | 'scroll';
  count: number;
  cursor: number;
  offset: number;
  height: number;
}

export type ListAction =
  | { type: 'move'; delta: number }
  | { type: 'page'; direction: 1 | -1 }
  | { type: 'top' }
  | { type: 'bottom' }
  | { type: 'select'; index: number }
  | { type: 'set-count'; count: number }
  | { type: 'resize'; height: number };

/** The list motion a command means, if it is one: the same in every list view. */
export function listMotion(command: string): ListAction | undefined {
  switch (command) {
    case 'up':
      return { type: 'move', delta: -1 };
    case 'down':
      return { type: 'move', delta: 1 };
    case 'pageUp':
      return { type: 'page', direction: -1 };
    case 'pageDown':
      return { type: 'page', direction: 1 };
    case 'top':
      return { type: 'top' };
    case 'bottom':
      return { type: 'bottom' };
    default:
      return undefined;
  }
}

export function initialList(height: number, mode: ListState['mode'] = 'cursor', count = 0): ListState {
  return clamp({ mode, count, cursor: 0, offset: 0, height: Math.max(1, height) });
}

function clamp(s: ListState): ListState {
  const height = Math.max(1, s.height);
  if (s.mode === 'scroll') {
    const maxOffset = Math.max(0, s.count - height);
    const offset = Math.min(Math.max(0, s.offset), maxOffset);
    return { ...s, height, offset, cursor: offset };
  }
  const cursor = s.count === 0 ? 0 : Math.min(Math.max(0, s.cursor), s.count - 1);
  let offset = Math.min(Math.max(0, s.offset), Math.max(0, s.count - height));
  if (cursor < offset) offset = cursor;
  if (cursor >= offset + height) offset = cursor - height + 1;
  return { ...s, height, cursor, offset };
}

export function listReducer(state: ListState, action: ListAction): ListState {
  const scroll = state.mode === 'scroll';
  switch (action.type) {
    case 'move':
      return scroll ? clamp({ ...state, offset: state.offset + action.delta }) : clamp({ ...state, cursor: state.cursor + action.delta });
    case 'page': {
      const step = Math.max(1, state.height - 1) * action.direction;
      return clamp({ ...state, cursor: state.cursor + step, offset: state.offset + step });
    }
    case 'top':
      return clamp({ ...state, cursor: 0, offset: 0 });
    case 'bottom':
      return clamp({ ...state, cursor: state.count - 1, offset: state.count });
    case 'select':
      return clamp({ ...state, cursor: action.index });
    case 'set-count':
      return action.count === state.count ? state : clamp({ ...state, count: action.count });
    case 'resize':
      return action.height === state.height ? state : clamp({ ...state, height: action.height });
  }
}

/** Indexes of the visible rows. */
export function visibleRange(state: ListState): { from: number; to: number } {
  return { from: state.offset, to: Math.min(state.count, state.offset + state.height) };
}

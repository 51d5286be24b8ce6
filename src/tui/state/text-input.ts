// A one-line text input as a reducer (value + cursor), apart from the keys that drive it.

export interface TextInputState {
  value: string;
  cursor: number;
}

export type TextInputAction =
  | { type: 'insert'; text: string }
  | { type: 'backspace' }
  | { type: 'delete' }
  | { type: 'left' }
  | { type: 'right' }
  | { type: 'home' }
  | { type: 'end' }
  | { type: 'clear' }
  | { type: 'delete-word' }
  | { type: 'set'; value: string };

export function initialTextInput(value = ''): TextInputState {
  return { value, cursor: value.length };
}

export function textInputReducer(s: TextInputState, a: TextInputAction): TextInputState {
  switch (a.type) {
    case 'insert': {
      // Pasted line breaks become spaces: the input is one line.
      const text = a.text.replace(/[\r\n]+/g, ' ').replace(/[\u0000-\u001f\u007f]/g, '');
      if (!text) return s;
      return { value: s.value.slice(0, s.cursor) + text + s.value.slice(s.cursor), cursor: s.cursor + text.length };
    }
    case 'backspace':
      if (s.cursor === 0) return s;
      return { value: s.value.slice(0, s.cursor - 1) + s.value.slice(s.cursor), cursor: s.cursor - 1 };
    case 'delete':
      if (s.cursor >= s.value.length) return s;
      return { value: s.value.slice(0, s.cursor) + s.value.slice(s.cursor + 1), cursor: s.cursor };
    case 'left':
      return { ...s, cursor: Math.max(0, s.cursor - 1) };
    case 'right':
      return { ...s, cursor: Math.min(s.value.length, s.cursor + 1) };
    case 'home':
      return { ...s, cursor: 0 };
    case 'end':
      return { ...s, cursor: s.value.length };
    case 'clear':
      return { value: s.value.slice(s.cursor), cursor: 0 };
    case 'delete-word': {
      const head = s.value.slice(0, s.cursor).replace(/\S*\s*$/, '');
      return { value: head + s.value.slice(s.cursor), cursor: head.length };
    }
    case 'set':
      return initialTextInput(a.value);
  }
}

// Text from remote systems, made fit to show: the gist of a JSON error body, pretty JSON, and no
// control characters (a target's response must not be able to drive the operator's terminal).

const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;

export function displayable(text: string): string {
  return text.replace(CONTROL, '\ufffd');
}

/**
 * Text for a terminal with every control character but newline and tab written as a `\u00XX`
 * escape. What every command prints goes through it: a human line shows an escape where a
 * target's body (or a tag, an echoed argument) had one, and JSON stays exactly the same JSON —
 * control characters occur only inside its strings, where `\u00XX` means the same character
 * (JSON.stringify leaves DEL and C1 raw, which some terminals obey).
 */
export function terminalSafe(text: string): string {
  return text.replace(CONTROL, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** A message that is JSON, pretty-printed; anything else as it is. */
export function prettyText(text: string): string {
  const trimmed = text.trim();
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
    try {
      // JSON.stringify escapes C0 controls in strings, not DEL or C1 (U+009B is a CSI).
      return displayable(JSON.stringify(JSON.parse(trimmed), null, 2));
    } catch {
      // not JSON after all
    }
  }
  return displayable(text);
}

/** The one-line gist of a message: a JSON error body's first message, else the text. */
export function messageLine(text: string): string {
  const trimmed = text.trim();
  if (trimmed.startsWith('{')) {
    try {
      const body = JSON.parse(trimmed) as { errors?: Array<{ message?: unknown; code?: unknown }>; message?: unknown };
      const first = body.errors?.[0];
      if (first && typeof first.message === 'string') return displayable(first.message);
      if (typeof body.message === 'string') return displayable(body.message);
    } catch {
      // not JSON after all
    }
  }
  return displayable(text);
}

/** A duration as a message says it: whole seconds when exact ("5s"), else to a tenth ("0.4s"). */
export function secondsText(ms: number): string {
  return ms >= 1000 && ms % 1000 === 0 ? `${ms / 1000}s` : `${Math.round(ms / 100) / 10}s`;
}

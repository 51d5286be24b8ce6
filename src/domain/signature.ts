// Error signatures: what makes two errors "the same problem". A signature is the step, code, source
// and classification of an error plus its message *template*: the message with its variable parts
// (numbers, ids, hex, UUIDs, emails, URLs, IPs, dates, quoted values) replaced by placeholders, so
// "order 1042: email x@y.com is not valid" and "order 977: email a@b.org is not valid" share one.
// A JSON body's template is built from the messages it carries (errors[].message, error.message,
// detail, …, each normalised): values at the same path are one slot. Pure: no I/O, no clock.

/** Longest template kept (a template is an identity, not a document). */
export const TEMPLATE_LIMIT = 300;

export interface SignatureParts {
  /** The store's step key: a signature never spans steps. */
  step: number;
  code: string;
  source: string;
  classification: string | null;
  /** The message template (messageTemplate of the stored, masked message). */
  template: string;
}

// Order matters: each rule sees the text the earlier ones left, and no placeholder contains a
// character a later rule matches (digits, '@', '://', quotes).
const QUOTED = [
  // 'value' — an apostrophe inside a word (O'Brien, can't) neither opens nor closes one.
  /(?<![\p{L}\p{N}])'((?:[^'\n]|'(?=\p{L}))*)'(?![\p{L}\p{N}])/gu,
  // "value"; a "key": of JSON-like text is kept (the match still consumes it, so pairs stay aligned)
  /"((?:[^"\\\n]|\\.)*)"(\s*:)?/g,
  /`([^`\n]*)`/g,
  /“([^”\n]*)”/g,
];
const URL = /\b[a-z][a-z0-9+.-]*:\/\/[^\s"'<>()[\]{}]+/gi;
const EMAIL = /[\p{L}\p{N}._%+-]+@[\p{L}\p{N}-]+(?:\.[\p{L}\p{N}-]+)+/gu;
const UUID = /\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/gi;
const ISO_DATE = /\b\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?\b/g;
const HTTP_DATE = /\b(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{1,2} (?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d{2}:\d{2}:\d{2}(?: GMT| [+-]\d{4})?/g;
const TIME = /\b\d{1,2}:\d{2}:\d{2}(?:\.\d+)?\b/g;
const IPV4 = /\b\d{1,3}(?:\.\d{1,3}){3}(?::\d{1,5})?\b/g;
// 8+ hex digits with at least one digit (so words made of a-f stay), or 0x-prefixed.
const HEX = /\b(?:0x[0-9a-f]+|(?=[0-9a-f]*\d)[0-9a-f]{8,})\b/gi;
// A word, a separator and something with a digit: SO-100042, cus_N2fF3k, ord#77a1 (utf-8 stays).
const PREFIXED_ID = /\b[A-Za-z][A-Za-z0-9]*[-_#:](?=[A-Za-z0-9_-]*\d)[A-Za-z0-9_-]{2,}\b/g;
// Long runs of letters and digits mixed (tokens, keys): at least 12, with both.
const TOKEN = /\b(?=[A-Za-z0-9]*\d)(?=[A-Za-z0-9]*[A-Za-z])[A-Za-z0-9]{12,}\b/g;
// Numbers, with a unit glued on (10s, 5MB) or not; an HTTP status after "HTTP" names the problem.
const NUMBER = /(?<![\p{L}\p{N}_])(?<!HTTP )[-+]?\d+(?:[.,]\d+)*(?=[A-Za-z]{0,3}(?![\p{L}\p{N}_]))/gu;

/** The template of plain text: variable parts replaced, whitespace collapsed. */
export function normaliseText(text: string): string {
  let t = text.replace(/\s+/g, ' ').trim();
  // Each rule runs only when its text can be there: most messages skip most rules (recording pays this).
  if (/['"`“]/.test(t)) for (const q of QUOTED) t = t.replace(q, (m: string, _inner: string, key: unknown) => (typeof key === 'string' ? m : `${m[0]}<value>${m[m.length - 1]}`));
  if (t.includes('://')) t = t.replace(URL, '<url>');
  if (t.includes('@')) t = t.replace(EMAIL, '<email>');
  if (!/\d/.test(t)) return t;
  return t
    .replace(UUID, '<uuid>')
    .replace(ISO_DATE, '<date>')
    .replace(HTTP_DATE, '<date>')
    .replace(TIME, '<time>')
    .replace(IPV4, '<ip>')
    .replace(HEX, '<hex>')
    .replace(PREFIXED_ID, '<id>')
    .replace(TOKEN, '<id>')
    .replace(NUMBER, '<n>');
}

// Where error bodies put their human message, in the order they are looked for (first found wins
// per object): our mocks and many APIs ({errors:[{message}]}), Google/Stripe ({error:{message}}),
// RFC 7807 ({title, detail}), OAuth ({error_description}), SOAP-ish faults.
const MESSAGE_KEYS = ['message', 'error_description', 'detail', 'title', 'msg', 'description', 'reason', 'faultstring', 'error'];
const NESTED_KEYS = ['errors', 'error', 'fault', 'details'];

function messagesIn(value: unknown, depth: number, out: string[]): void {
  if (depth > 4 || out.length >= 8) return;
  if (typeof value === 'string') {
    if (value.trim()) out.push(value);
    return;
  }
  if (Array.isArray(value)) {
    for (const v of value) messagesIn(v, depth + 1, out);
    return;
  }
  if (value === null || typeof value !== 'object') return;
  const obj = value as Record<string, unknown>;
  for (const key of NESTED_KEYS) {
    const nested = obj[key];
    if (nested !== null && typeof nested === 'object') {
      const before = out.length;
      messagesIn(nested, depth + 1, out);
      if (out.length > before) return;
    }
  }
  for (const key of MESSAGE_KEYS) {
    const v = obj[key];
    if (typeof v === 'string' && v.trim()) {
      out.push(v);
      return;
    }
  }
}

/** A JSON value with every string normalised and every number a placeholder (keys kept). */
function normaliseJson(value: unknown): unknown {
  if (typeof value === 'string') return normaliseText(value);
  if (typeof value === 'number') return '<n>';
  if (Array.isArray(value)) return value.map(normaliseJson);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) out[k] = normaliseJson(v);
    return out;
  }
  return value;
}

function clipTemplate(t: string): string {
  return t.length > TEMPLATE_LIMIT ? `${t.slice(0, TEMPLATE_LIMIT - 1)}…` : t;
}

/**
 * The message's template. A JSON body reads as its messages (normalised, joined by "; "), or as
 * the normalised JSON when it carries none; anything else is normalised as text.
 */
export function messageTemplate(message: string): string {
  const trimmed = message.trim();
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
    let parsed: unknown;
    let ok = false;
    try {
      parsed = JSON.parse(trimmed);
      ok = true;
    } catch {
      // not JSON after all (or clipped): normalised as text below
    }
    if (ok) {
      const messages: string[] = [];
      messagesIn(parsed, 0, messages);
      const unique = [...new Set(messages.map(normaliseText))];
      return clipTemplate(unique.length > 0 ? unique.join('; ') : JSON.stringify(normaliseJson(parsed)));
    }
  }
  return clipTemplate(normaliseText(message));
}

/**
 * A 48-bit hash (cyrb53's mixing, cut to 48 bits so it is an exact JS number and 12 hex digits).
 * Collisions among a store's few thousand signatures are out of reach (~n²/2⁴⁹).
 */
function hash48(text: string): number {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ ch, 2654435761);
    h2 = Math.imul(h2 ^ ch, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507);
  h1 ^= Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507);
  h2 ^= Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return (h2 & 0xffff) * 0x1_0000_0000 + (h1 >>> 0);
}

/** The signature as the store keeps it (an integer) from its parts. */
export function signatureOf(parts: SignatureParts): number {
  return hash48(`${parts.step}\u0000${parts.code}\u0000${parts.source}\u0000${parts.classification ?? ''}\u0000${parts.template}`);
}

const SIG_RE = /^[0-9a-f]{12}$/;

/** The signature as people type it: 12 hex digits (what `sig:` takes). */
export function formatSignature(sig: number): string {
  return sig.toString(16).padStart(12, '0');
}

/** The stored signature of a typed id, or undefined when the text is not one. */
export function parseSignature(text: string): number | undefined {
  const t = text.trim().toLowerCase();
  return SIG_RE.test(t) ? parseInt(t, 16) : undefined;
}

export interface ErrorFacts {
  step: number;
  code: string;
  source: string;
  classification: string | null;
  message: string;
}

/**
 * Computes signatures with a bounded memo of templates by message: recorders see the same message
 * many times over (a 503 page, a rate limit), and the memo makes those cost one map lookup.
 */
export class Signer {
  private readonly templates = new Map<string, string>();

  constructor(private readonly memo = 2000) {}

  template(message: string): string {
    let t = this.templates.get(message);
    if (t === undefined) {
      t = messageTemplate(message);
      if (this.templates.size >= this.memo) this.templates.clear();
      this.templates.set(message, t);
    }
    return t;
  }

  sign(e: ErrorFacts): { sig: number; template: string } {
    const template = this.template(e.message);
    return { sig: signatureOf({ step: e.step, code: e.code, source: e.source, classification: e.classification, template }), template };
  }
}

// Secrets are masked before anything is stored, logged or shown. Two layers: names that carry
// secrets (headers, query parameters, JSON keys) and, for defence in depth, the known secret
// values of the workspace's connections wherever they appear (echoed bodies, URLs, messages).

export const MASK = '********';
/** Bumped when masking widens: stored definitions are then masked again (catalog sync). */
export const MASKING_VERSION = 2;

// Header names are matched broadly (Ocp-Apim-Subscription-Key, X-Auth-Key, X-Step-Token…): masking a
// harmless header costs a little readability, missing a credential leaks it. A connection can name
// more (`secretHeaders`).
const SECRET_HEADER = /key|token|secret|auth|passw|pwd|signature|session|cookie|subscription|credential/i;
// Query parameters: a narrower net, since `keyword` or `author` are ordinary search fields.
const SECRET_PARAM = /^(key|sig|signature|auth|authorization|sessionid|code|pwd|passwd)$|token|secret|password|api[-_]?key|[-_]key$|subscription|signature|credential|session/i;
// In JSON bodies `key`, `code` or `auth` are ordinary field names (an error's code!): only the
// unmistakable names are masked there.
const SECRET_JSON_KEY = /^(authorization|pwd|passwd)$|token|secret|password|api[-_]?key/i;

export function isSecretHeader(name: string, extra?: ReadonlySet<string>): boolean {
  return SECRET_HEADER.test(name) || (extra !== undefined && extra.has(name.toLowerCase()));
}

export function isSecretParam(name: string): boolean {
  return SECRET_PARAM.test(name);
}

export class Redactor {
  private readonly values: string[];
  private readonly headerNames: ReadonlySet<string>;

  /**
   * `secrets`: the clear values to hide wherever they occur (shorter than 4 chars are ignored);
   * `secretHeaders`: header names to mask beyond the built-in pattern (the connections' `secretHeaders`).
   */
  constructor(secrets: Iterable<string> = [], secretHeaders: Iterable<string> = []) {
    this.values = [...new Set([...secrets].filter((s) => s.length >= 4))].sort((a, b) => b.length - a.length);
    this.headerNames = new Set([...secretHeaders].map((h) => h.toLowerCase()));
  }

  /** The values it hides: another thread's redactor is built from them (`new Redactor(r.secrets(), r.secretHeaders())`). */
  secrets(): string[] {
    return [...this.values];
  }

  secretHeaders(): string[] {
    return [...this.headerNames];
  }

  text(input: string): string {
    let out = input;
    for (const value of this.values) {
      if (out.includes(value)) out = out.split(value).join(MASK);
    }
    return out;
  }

  headers(headers: Record<string, string>): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [name, value] of Object.entries(headers)) {
      out[name] = isSecretHeader(name, this.headerNames) ? MASK : this.text(value);
    }
    return out;
  }

  url(raw: string): string {
    let parsed: URL;
    try {
      parsed = new URL(raw);
    } catch {
      return this.text(raw);
    }
    if (parsed.username) parsed.username = MASK;
    if (parsed.password) parsed.password = MASK;
    for (const name of [...parsed.searchParams.keys()]) {
      if (isSecretParam(name)) parsed.searchParams.set(name, MASK);
    }
    // URLSearchParams encodes the mask's asterisks as-is; keep the URL readable.
    return this.text(parsed.toString());
  }

  /** Known secret values masked in every string of a JSON value; keys and other values untouched. */
  inStrings<T>(value: T): T {
    const walk = (v: unknown): unknown => {
      if (typeof v === 'string') return this.text(v);
      if (Array.isArray(v)) return v.map(walk);
      if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, walk(x)]));
      return v;
    };
    return walk(value) as T;
  }

  /** Masks secret-named keys anywhere in a JSON value, and known secret values in its strings. */
  json<T>(value: T): T {
    return this.walk(value) as T;
  }

  private walk(value: unknown): unknown {
    if (typeof value === 'string') return this.text(value);
    if (Array.isArray(value)) return value.map((v) => this.walk(v));
    if (value && typeof value === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
        out[k] = SECRET_JSON_KEY.test(k) && (typeof v === 'string' || typeof v === 'number') ? MASK : this.walk(v);
      }
      return out;
    }
    return value;
  }
}

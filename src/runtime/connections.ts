import { MASK, Redactor, isSecretHeader, isSecretParam } from '../domain/mask.js';
import { getPath, templateRefs, renderTemplate, renderTemplateRoots } from '../flows/template.js';
import type { Auth, ConnectionDef } from '../flows/schema.js';

// A connection's and a step's templates ({{env.X}}, {{config.x}}, {{mocks.shop}}) are resolved
// only in memory, at run time; the store keeps the definitions with every secret masked. Every
// value that reaches a request's auth, headers or query from a definition and is a secret (by its
// header or parameter name, the connection's `secretHeaders`, or because it comes from the env or
// the config) is collected, so the redactor hides it wherever a target echoes it.

export interface TemplateScope {
  env: Record<string, string | undefined>;
  config: Record<string, unknown>;
  mocks: Record<string, string>;
}

export interface ResolvedConnection {
  id: string;
  name: string;
  baseURI: string;
  headers: Record<string, string>;
  /** Idle timeout (headers, then between body bytes). */
  timeoutMs: number;
  /** Total deadline of one request. */
  deadlineMs: number;
  maxResponseBytes: number;
  concurrency: number;
  /** Lower-cased header names masked beyond the built-in pattern. */
  secretHeaders: string[];
  /** Clear secret values, so the redactor can hide them wherever they are echoed. */
  secrets: string[];
}

/** A step's request with its definition's templates resolved (all but the record's). */
export interface ResolvedRequest {
  /** The relativeURI with env, config and mocks values in place (URL-encoded); `{{record.…}}` stay for each record. */
  relativeURI: string;
  headers: Record<string, string>;
  secrets: string[];
}

const DEFINITION_ROOTS = ['env.', 'config.', 'mocks.'];
const isSecretRoot = (ref: string) => ref.startsWith('env.') || ref.startsWith('config.');

/** A value and the forms it takes in a URL or an echo of one. */
function forms(value: string): string[] {
  const out = [value, encodeURIComponent(value)];
  try {
    out.push(decodeURIComponent(value));
  } catch {
    // not percent-encoded text: the value itself is enough
  }
  return out;
}

/** The env and config values a template pulls in: each a secret on its own, wherever it is used. */
function referencedSecrets(template: string, scope: TemplateScope): string[] {
  const out: string[] = [];
  for (const ref of templateRefs(template)) {
    if (!isSecretRoot(ref)) continue;
    const value = getPath(scope, ref);
    if (typeof value === 'string' || typeof value === 'number') out.push(...forms(String(value)));
  }
  return out;
}

/** Literal values of secret-named query parameters in a URL (or a relativeURI): `?api_key=abc`. */
function querySecrets(url: string): string[] {
  const query = url.split('#')[0]!.split('?').slice(1).join('?');
  const out: string[] = [];
  for (const pair of query.split('&')) {
    const eq = pair.indexOf('=');
    if (eq <= 0) continue;
    const name = pair.slice(0, eq);
    const value = pair.slice(eq + 1);
    if (value && !value.includes('{{') && isSecretParam(safeDecode(name))) out.push(...forms(value));
  }
  return out;
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

const USERINFO = /^([a-z][a-z0-9+.-]*:\/\/)([^/?#]*)@/i;

export function resolveConnection(id: string, def: ConnectionDef, scope: TemplateScope): ResolvedConnection {
  const render = (t: string) => renderTemplate(t, scope as unknown as Record<string, unknown>);
  const secretHeaders = def.http.secretHeaders.map((h) => h.toLowerCase());
  const extra = new Set(secretHeaders);
  const headers: Record<string, string> = {};
  const secrets: string[] = [];
  secrets.push(...referencedSecrets(def.http.baseURI, scope));
  for (const h of def.http.headers) {
    const value = render(h.value);
    headers[h.name.toLowerCase()] = value;
    secrets.push(...referencedSecrets(h.value, scope));
    if (isSecretHeader(h.name, extra) || templateRefs(h.value).some(isSecretRoot)) secrets.push(value);
  }
  const auth = resolveAuth(def.http.auth, render);
  if (auth) {
    headers[auth.header] = auth.value;
    secrets.push(...auth.secrets);
  }
  let baseURI = render(def.http.baseURI).replace(/\/+$/, '');
  secrets.push(...querySecrets(baseURI));
  // Credentials in the URL (http://svc:PASS@host) become basic auth: undici never sends userinfo,
  // and a URL with them must never be echoed into a trace.
  const userinfo = USERINFO.exec(baseURI);
  if (userinfo) {
    baseURI = userinfo[1]! + baseURI.slice(userinfo[0].length);
    const [user = '', ...rest] = userinfo[2]!.split(':');
    const password = safeDecode(rest.join(':'));
    if (password) secrets.push(...forms(password), rest.join(':'));
    if (!headers.authorization) {
      const encoded = Buffer.from(`${safeDecode(user)}:${password}`).toString('base64');
      headers.authorization = `Basic ${encoded}`;
      secrets.push(encoded);
    }
  }
  return {
    id,
    name: def.name,
    baseURI,
    headers,
    timeoutMs: def.http.timeoutMs,
    deadlineMs: def.http.deadlineMs,
    maxResponseBytes: def.http.maxResponseBytes,
    concurrency: def.http.concurrency,
    secretHeaders,
    secrets: secrets.filter((s) => s.length > 0),
  };
}

/** A step's relativeURI and headers resolved against the scope; their secrets collected. */
export function resolveRequest(
  http: { relativeURI: string; headers: readonly { name: string; value: string }[] },
  scope: TemplateScope,
  connection: Pick<ResolvedConnection, 'secretHeaders'>,
): ResolvedRequest {
  const s = scope as unknown as Record<string, unknown>;
  const extra = new Set(connection.secretHeaders);
  const secrets = [...referencedSecrets(http.relativeURI, scope)];
  const relativeURI = renderTemplateRoots(http.relativeURI, s, DEFINITION_ROOTS, encodeURIComponent);
  secrets.push(...querySecrets(relativeURI));
  const headers: Record<string, string> = {};
  for (const h of http.headers) {
    const value = renderTemplate(h.value, s);
    headers[h.name.toLowerCase()] = value;
    secrets.push(...referencedSecrets(h.value, scope));
    if (isSecretHeader(h.name, extra)) secrets.push(value);
  }
  return { relativeURI, headers, secrets: secrets.filter((v) => v.length > 0) };
}

function resolveAuth(auth: Auth, render: (t: string) => string): { header: string; value: string; secrets: string[] } | undefined {
  switch (auth.type) {
    case 'none':
      return undefined;
    case 'bearer': {
      const token = render(auth.token);
      return { header: 'authorization', value: `Bearer ${token}`, secrets: [token] };
    }
    case 'basic': {
      const user = render(auth.username);
      const password = render(auth.password);
      const encoded = Buffer.from(`${user}:${password}`).toString('base64');
      return { header: 'authorization', value: `Basic ${encoded}`, secrets: [password, encoded] };
    }
    case 'apikey': {
      const value = render(auth.value);
      return { header: auth.header.toLowerCase(), value, secrets: [value] };
    }
  }
}

export function redactorFor(connections: Iterable<ResolvedConnection>, requests: Iterable<ResolvedRequest> = []): Redactor {
  const secrets: string[] = [];
  const headerNames: string[] = [];
  for (const c of connections) {
    secrets.push(...c.secrets);
    headerNames.push(...c.secretHeaders);
  }
  for (const r of requests) secrets.push(...r.secrets);
  return new Redactor(secrets, headerNames);
}

/** A value that only says where a secret lives ({{env.X}}), not what it is. */
const isPureRef = (v: unknown) => typeof v === 'string' && /^\s*\{\{\s*(env|config)\.[\w.]+\s*\}\}\s*$/.test(v);
/** URL parts made only of templates ({{env.USER}}, {{record.id}}): nothing literal to hide. */
const isOnlyRefs = (v: string) => /^(\{\{[^}]*\}\})+$/.test(v);

/** A URL (or a relativeURI template) with its literal credentials and secret-named query values masked. */
export function maskUrlTemplate(url: string): string {
  let out = url.replace(USERINFO, (_, scheme: string, info: string) => {
    const parts = info.split(':').map((p) => (isOnlyRefs(p) ? p : MASK));
    return `${scheme}${parts.join(':')}@`;
  });
  out = out.replace(/([?&])([^=&#?]+)=([^&#]*)/g, (whole, sep: string, name: string, value: string) =>
    value && isSecretParam(safeDecode(name)) && !isOnlyRefs(value) ? `${sep}${name}=${MASK}` : whole,
  );
  return out;
}

/**
 * A definition as the store may keep it: auth values and secret-named header values replaced by
 * the mask unless they are pure references ({{env.X}}), and literal credentials and secret query
 * values in its URLs masked. `secretHeaders`: more header names to treat as secret (every
 * connection's list: a step's headers go to its connection's target).
 */
export function maskDefinition(def: unknown, secretHeaders: Iterable<string> = []): unknown {
  const own = (def as { http?: { secretHeaders?: unknown } } | null)?.http?.secretHeaders;
  const extra = new Set([...secretHeaders, ...(Array.isArray(own) ? own.filter((h): h is string => typeof h === 'string') : [])].map((h) => h.toLowerCase()));
  const walk = (value: unknown, parentKey: string): unknown => {
    if (Array.isArray(value)) return value.map((v) => walk(v, parentKey));
    if (value && typeof value === 'object') {
      const obj = value as Record<string, unknown>;
      const out: Record<string, unknown> = {};
      const headerIsSecret = typeof obj.name === 'string' && 'value' in obj && isSecretHeader(obj.name, extra);
      for (const [k, v] of Object.entries(obj)) {
        const secretField =
          (parentKey === 'auth' && ['token', 'password', 'value', 'username'].includes(k)) || (headerIsSecret && k === 'value');
        if (secretField && !isPureRef(v)) out[k] = MASK;
        else if ((k === 'baseURI' || k === 'relativeURI') && typeof v === 'string') out[k] = maskUrlTemplate(v);
        else out[k] = walk(v, k);
      }
      return out;
    }
    return value;
  };
  return walk(def, '');
}

/** The store's masker for one catalog: every connection's `secretHeaders` count for every definition. */
export function definitionMasker(connections: Iterable<{ def: ConnectionDef }>): (def: unknown) => unknown {
  const names = [...connections].flatMap((c) => c.def.http.secretHeaders);
  return (def) => maskDefinition(def, names);
}

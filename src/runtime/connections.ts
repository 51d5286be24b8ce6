import { MASK, Redactor, isSecretHeader } from '../domain/mask.js';
import { getPath, templateRefs, renderTemplate } from '../flows/template.js';
import type { Auth, ConnectionDef } from '../flows/schema.js';

// A connection's templates ({{env.X}}, {{config.x}}, {{mocks.shop}}) are resolved only in memory,
// at run time; the store keeps the definition with every secret masked.

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
  timeoutMs: number;
  concurrency: number;
  /** Clear secret values, so the redactor can hide them wherever they are echoed. */
  secrets: string[];
}

export function resolveConnection(id: string, def: ConnectionDef, scope: TemplateScope): ResolvedConnection {
  const render = (t: string) => renderTemplate(t, scope as unknown as Record<string, unknown>);
  const headers: Record<string, string> = {};
  const secrets: string[] = [];
  // Every value a template pulls from the environment or the config is treated as a secret on its
  // own (so an echoed bare token is caught, not only the whole header), wherever it is used.
  const referenced = (template: string) => {
    for (const ref of templateRefs(template)) {
      if (ref.startsWith('mocks.')) continue;
      const value = getPath(scope, ref);
      if (typeof value === 'string' || typeof value === 'number') secrets.push(String(value));
    }
  };
  referenced(def.http.baseURI);
  for (const h of def.http.headers) {
    const value = render(h.value);
    headers[h.name.toLowerCase()] = value;
    referenced(h.value);
    if (isSecretHeader(h.name) || templateRefs(h.value).some((r) => !r.startsWith('mocks.'))) secrets.push(value);
  }
  const auth = resolveAuth(def.http.auth, render);
  if (auth) {
    headers[auth.header] = auth.value;
    secrets.push(...auth.secrets);
  }
  return {
    id,
    name: def.name,
    baseURI: render(def.http.baseURI).replace(/\/+$/, ''),
    headers,
    timeoutMs: def.http.timeoutMs,
    concurrency: def.http.concurrency,
    secrets: secrets.filter((s) => s.length > 0),
  };
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

export function redactorFor(connections: Iterable<ResolvedConnection>): Redactor {
  const secrets: string[] = [];
  for (const c of connections) secrets.push(...c.secrets);
  return new Redactor(secrets);
}

/**
 * A definition as the store may keep it: auth values and secret-named header values replaced by
 * the mask unless they are pure references ({{env.X}}), which say where the secret lives, not what it is.
 */
export function maskDefinition(def: unknown): unknown {
  const isPureRef = (v: unknown) => typeof v === 'string' && /^\s*\{\{\s*(env|config)\.[\w.]+\s*\}\}\s*$/.test(v);
  const walk = (value: unknown, parentKey: string): unknown => {
    if (Array.isArray(value)) return value.map((v) => walk(v, parentKey));
    if (value && typeof value === 'object') {
      const obj = value as Record<string, unknown>;
      const out: Record<string, unknown> = {};
      const headerIsSecret = typeof obj.name === 'string' && 'value' in obj && isSecretHeader(obj.name);
      for (const [k, v] of Object.entries(obj)) {
        const secretField =
          (parentKey === 'auth' && ['token', 'password', 'value', 'username'].includes(k)) || (headerIsSecret && k === 'value');
        out[k] = secretField && !isPureRef(v) ? MASK : walk(v, k);
      }
      return out;
    }
    return value;
  };
  return walk(def, '');
}

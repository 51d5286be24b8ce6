import type { Mapping } from './schema.js';

// Templates and mappings are pure functions of a record and a context, so the runtime, the
// retry path and the tests all share one behaviour.

/** Reads `a.b[0].c` (or `a.b.0.c`) out of a value; undefined when any step is missing. */
export function getPath(value: unknown, path: string): unknown {
  let current: unknown = value;
  for (const part of splitPath(path)) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string, unknown>)[part];
  }
  return current;
}

// Mappings read the same few paths for every record: parse each path once.
const parsedPaths = new Map<string, readonly string[]>();

export function splitPath(path: string): readonly string[] {
  let parts = parsedPaths.get(path);
  if (!parts) {
    parts = path
      .replace(/\[(\d+)\]/g, '.$1')
      .split('.')
      .filter((p) => p.length > 0);
    if (parsedPaths.size < 10_000) parsedPaths.set(path, parts);
  }
  return parts;
}

export function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const parts = splitPath(path);
  let current: Record<string, unknown> = target;
  parts.forEach((part, i) => {
    if (i === parts.length - 1) {
      current[part] = value;
      return;
    }
    const next = current[part];
    if (next === null || typeof next !== 'object') current[part] = /^\d+$/.test(parts[i + 1] ?? '') ? [] : {};
    current = current[part] as Record<string, unknown>;
  });
}

const TEMPLATE = /\{\{\s*([^}]+?)\s*\}\}/g;

/** Replaces `{{path}}` with values from `scope` (e.g. {record, env, config, mocks}). */
export function renderTemplate(template: string, scope: Record<string, unknown>, encode: (s: string) => string = (s) => s): string {
  return template.replace(TEMPLATE, (_, expr: string) => {
    const value = getPath(scope, expr);
    if (value === undefined || value === null) return '';
    return encode(typeof value === 'object' ? JSON.stringify(value) : String(value));
  });
}

/**
 * Renders only the `{{…}}` whose expression starts with one of `roots` (e.g. 'env.'), leaving the
 * others for a later render (a relativeURI's `{{record.id}}`). A value is encoded, so it cannot
 * bring new `{{` of its own.
 */
export function renderTemplateRoots(template: string, scope: Record<string, unknown>, roots: readonly string[], encode: (s: string) => string): string {
  return template.replace(TEMPLATE, (whole, expr: string) => {
    if (!roots.some((r) => expr.startsWith(r))) return whole;
    const value = getPath(scope, expr);
    if (value === undefined || value === null) return '';
    return encode(typeof value === 'object' ? JSON.stringify(value) : String(value));
  });
}

/** The `{{…}}` expressions a template refers to. */
export function templateRefs(template: string): string[] {
  return [...template.matchAll(TEMPLATE)].map((m) => m[1]!);
}

/** The `{{…}}` expressions of every string in a definition, at any depth. */
export function templateRefsIn(value: unknown): string[] {
  if (typeof value === 'string') return templateRefs(value);
  if (value === null || typeof value !== 'object') return [];
  return Object.values(value).flatMap(templateRefsIn);
}

export type MappingResult = { ok: true; value: Record<string, unknown> } | { ok: false; field: string; detail: string };

/** integrator.io-style field and list mappings; without a mapping the record passes unchanged. */
export function applyMapping(mapping: Mapping | undefined, record: unknown): MappingResult {
  if (!mapping || (mapping.fields.length === 0 && mapping.lists.length === 0)) {
    return { ok: true, value: (record ?? {}) as Record<string, unknown> };
  }
  const out: Record<string, unknown> = {};
  for (const field of mapping.fields) {
    const value = field.extract !== undefined ? getPath(record, field.extract) : field.hardCodedValue;
    if ((value === undefined || value === null || value === '') && field.required) {
      return { ok: false, field: field.generate, detail: `${field.extract ?? field.generate} is required but missing in the record` };
    }
    if (value !== undefined) setPath(out, field.generate, coerce(value, field.dataType));
  }
  for (const list of mapping.lists) {
    const source = getPath(record, list.extract);
    const items = Array.isArray(source) ? source : [];
    const mapped: Record<string, unknown>[] = [];
    for (const [index, item] of items.entries()) {
      const row: Record<string, unknown> = {};
      for (const field of list.fields) {
        const value = field.extract !== undefined ? getPath(item, field.extract) : field.hardCodedValue;
        if ((value === undefined || value === null || value === '') && field.required) {
          return { ok: false, field: `${list.generate}[${index}].${field.generate}`, detail: `${field.extract ?? field.generate} is required but missing` };
        }
        if (value !== undefined) setPath(row, field.generate, coerce(value, field.dataType));
      }
      mapped.push(row);
    }
    setPath(out, list.generate, mapped);
  }
  return { ok: true, value: out };
}

function coerce(value: unknown, dataType: string | undefined): unknown {
  switch (dataType) {
    case 'string':
      return typeof value === 'string' ? value : typeof value === 'object' ? JSON.stringify(value) : String(value);
    case 'number': {
      const n = Number(value);
      return Number.isFinite(n) ? n : value;
    }
    case 'boolean':
      return value === true || value === 'true' || value === 1 || value === '1';
    default:
      return value;
  }
}

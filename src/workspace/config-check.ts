import { WorkspaceError } from '../domain/errors.js';
import type { Catalog } from '../flows/load.js';
import { getPath, templateRefsIn } from '../flows/template.js';

// config.json is a file people edit by hand: a value of the wrong type there would surface far
// away (an "Invalid URL" from a connection whose {{config.host}} is an object). These checks name
// the key instead; `flowdeck doctor` lists them all, a run refuses to start on one it would use.

export interface ConfigProblem {
  key: string;
  problem: string;
}

const kind = (v: unknown): string => (v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v === 'object' ? 'an object' : `a ${typeof v}`);
const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
const isScalar = (v: unknown) => typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean';

/** The `{{config.…}}` keys each connection's templates use. */
export function configReferences(catalog: Catalog): Array<{ key: string; connection: string }> {
  const refs: Array<{ key: string; connection: string }> = [];
  for (const c of catalog.connections.values()) {
    for (const ref of new Set(templateRefsIn(c.def))) {
      if (ref.startsWith('config.')) refs.push({ key: ref.slice('config.'.length), connection: c.name });
    }
  }
  return refs;
}

/** Values of the wrong type for what flowdeck reads them as; `missing` adds referenced keys that are not set. */
export function configProblems(store: Record<string, unknown>, refs: ReadonlyArray<{ key: string; connection: string }>, { missing = false } = {}): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const fix = (key: string) => `set it with flowdeck config set ${key} <value>`;
  if ('demo' in store && typeof store.demo !== 'boolean') problems.push({ key: 'demo', problem: `must be true or false, is ${kind(store.demo)}` });
  if ('user' in store) {
    if (!isObject(store.user)) problems.push({ key: 'user', problem: `must be an object with email (and name), is ${kind(store.user)}` });
    else {
      for (const field of ['email', 'name'] as const) {
        const v = store.user[field];
        if (v !== undefined && typeof v !== 'string') problems.push({ key: `user.${field}`, problem: `must be text, is ${kind(v)}; ${fix(`user.${field}`)}` });
      }
    }
  }
  if ('secrets' in store) {
    if (!isObject(store.secrets)) problems.push({ key: 'secrets', problem: `must be an object of named secrets, is ${kind(store.secrets)}` });
    else {
      for (const [name, v] of Object.entries(store.secrets)) {
        if (!isScalar(v)) problems.push({ key: `secrets.${name}`, problem: `must be text, is ${kind(v)}; ${fix(`secrets.${name}`)}` });
      }
    }
  }
  const seen = new Set(problems.map((p) => p.key));
  for (const { key, connection } of refs) {
    if (seen.has(key) || [...seen].some((k) => key.startsWith(`${k}.`))) continue;
    const value = getPath(store, key);
    if (value === undefined || value === null) {
      if (missing) problems.push({ key, problem: `is not set, but connection "${connection}" uses {{config.${key}}} (it renders empty); ${fix(key)}` });
    } else if (!isScalar(value)) {
      problems.push({ key, problem: `is ${kind(value)}, but connection "${connection}" uses {{config.${key}}} as text; ${fix(key)}` });
    } else continue;
    seen.add(key);
  }
  return problems;
}

/** Before a run resolves its connections: a wrong-typed value it would use is refused by name. */
export function assertConfigUsable(store: Record<string, unknown>, catalog: Catalog, configFile: string): void {
  const problem = configProblems(store, configReferences(catalog))[0];
  if (problem) throw new WorkspaceError(`${configFile}: "${problem.key}" ${problem.problem}`, problem.key);
}

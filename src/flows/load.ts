import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename } from 'node:path';
import type { z } from 'zod';
import { FlowDefinitionError } from '../domain/errors.js';
import { definitionId } from '../domain/ids.js';
import { flowFiles } from './files.js';
import {
  schemas,
  type ConnectionDef,
  type ExportDef,
  type FlowDef,
  type FlowFile,
  type ImportDef,
  type RetryPolicy,
} from './schema.js';

// Loads every flow file of a workspace into one catalog with resolved ids and references.
// Validation errors name the file and the field path (`flows[0].pageProcessors[1]._importId`).

export type StepKind = 'export' | 'lookup' | 'import';

export interface CatalogEntry<T> {
  id: string;
  name: string;
  file: string;
  def: T;
}

export interface FlowStepDef {
  /** The `_exportId` / `_importId` of the step. */
  id: string;
  kind: StepKind;
  name: string;
  position: number;
  proceedOnFailure: boolean;
  retryPolicy?: RetryPolicy;
}

export interface CatalogFlow extends CatalogEntry<FlowDef> {
  steps: FlowStepDef[];
}

export interface Catalog {
  connections: Map<string, CatalogEntry<ConnectionDef>>;
  exports: Map<string, CatalogEntry<ExportDef> & { connectionId: string }>;
  imports: Map<string, CatalogEntry<ImportDef> & { connectionId: string }>;
  flows: Map<string, CatalogFlow>;
  /** A digest of the files' contents, so the store re-syncs only when they change. */
  digest: string;
}


// The YAML parser is required when a file is parsed, not when the module loads: opening a workspace
// whose flow files did not change parses nothing, and the parser costs ~30 ms to load.
const require = createRequire(import.meta.url);
const yaml = (): typeof import('yaml') => require('yaml') as typeof import('yaml');

function zodPath(path: ReadonlyArray<PropertyKey>): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out ? `.${String(part)}` : String(part);
  }
  return out;
}

export function parseFlowFile(file: string, text: string): FlowFile {
  let raw: unknown;
  try {
    raw = /\.json$/i.test(file) ? JSON.parse(text) : yaml().parse(text);
  } catch (e) {
    const where = e instanceof yaml().YAMLParseError && e.linePos ? `line ${e.linePos[0].line}` : '';
    const detail = (e as Error).message.split('\n')[0] ?? 'cannot parse';
    throw new FlowDefinitionError(file, where, `not valid ${/\.json$/i.test(file) ? 'JSON' : 'YAML'}: ${detail}`);
  }
  if (raw === null || raw === undefined) raw = {};
  const result = schemas().flowFileSchema.safeParse(raw, { reportInput: true });
  if (!result.success) {
    const issue = result.error.issues[0] as z.core.$ZodIssue;
    throw new FlowDefinitionError(file, zodPath(issue.path), describeIssue(issue));
  }
  return result.data;
}

function describeIssue(issue: z.core.$ZodIssue): string {
  if (issue.code === 'unrecognized_keys') return `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.join(', ')}`;
  if (issue.code === 'invalid_type' && issue.input === undefined) return `is required`;
  return issue.message;
}

interface Pending {
  file: string;
  data: FlowFile;
}

export function loadCatalog(dir: string): Catalog {
  const files = flowFiles(dir);
  const hash = createHash('sha1');
  const pending: Pending[] = files.map((file) => {
    const text = readFileSync(file, 'utf8');
    hash.update(basename(file)).update('\0').update(text).update('\0');
    return { file, data: parseFlowFile(file, text) };
  });
  return buildCatalog(pending, hash.digest('hex'));
}

/** Resolves names to ids across all files; references may point into another file. */
export function buildCatalog(files: Pending[], digest: string): Catalog {
  const catalog: Catalog = { connections: new Map(), exports: new Map(), imports: new Map(), flows: new Map(), digest };
  const byName = { connection: new Map<string, string>(), export: new Map<string, string>(), import: new Map<string, string>() };

  const register = <T extends { _id?: string | undefined; name: string }>(
    kind: 'connection' | 'export' | 'import' | 'flow',
    file: string,
    field: string,
    def: T,
    target: Map<string, CatalogEntry<T>>,
    extra: object = {},
  ): string => {
    const id = (def._id ?? definitionId(kind, def.name)).toLowerCase();
    const names = kind === 'flow' ? undefined : byName[kind];
    const existing = target.get(id) ?? (names?.has(def.name) ? target.get(names.get(def.name)!) : undefined);
    if (existing) throw new FlowDefinitionError(file, field, `duplicate ${kind} "${def.name}" (also in ${existing.file})`);
    target.set(id, { id, name: def.name, file, def, ...extra });
    names?.set(def.name, id);
    return id;
  };

  for (const { file, data } of files) {
    data.connections.forEach((c, i) => register('connection', file, `connections[${i}]`, c, catalog.connections));
  }
  const resolve = (kind: 'connection' | 'export' | 'import', ref: string, file: string, field: string): string => {
    const map = kind === 'connection' ? catalog.connections : kind === 'export' ? catalog.exports : catalog.imports;
    const lower = ref.toLowerCase();
    if (map.has(lower)) return lower;
    const id = byName[kind].get(ref);
    if (id) return id;
    throw new FlowDefinitionError(file, field, `unknown ${kind} "${ref}"`);
  };

  for (const { file, data } of files) {
    data.exports.forEach((e, i) => {
      const connectionId = resolve('connection', e._connectionId, file, `exports[${i}]._connectionId`);
      register('export', file, `exports[${i}]`, e, catalog.exports as Map<string, CatalogEntry<ExportDef>>, { connectionId });
    });
    data.imports.forEach((m, i) => {
      const connectionId = resolve('connection', m._connectionId, file, `imports[${i}]._connectionId`);
      register('import', file, `imports[${i}]`, m, catalog.imports as Map<string, CatalogEntry<ImportDef>>, { connectionId });
    });
  }

  for (const { file, data } of files) {
    data.flows.forEach((flow, i) => {
      const steps: FlowStepDef[] = [];
      const flowPolicy = flow.onError?.retries;
      flow.pageGenerators.forEach((pg, j) => {
        const id = resolve('export', pg._exportId, file, `flows[${i}].pageGenerators[${j}]._exportId`);
        steps.push({
          id,
          kind: 'export',
          name: catalog.exports.get(id)!.name,
          position: steps.length,
          proceedOnFailure: false,
          ...policy(pg.onError?.retries ?? flowPolicy),
        });
      });
      flow.pageProcessors.forEach((pp, j) => {
        const field = `flows[${i}].pageProcessors[${j}]`;
        const id =
          pp.type === 'import'
            ? resolve('import', pp._importId, file, `${field}._importId`)
            : resolve('export', pp._exportId, file, `${field}._exportId`);
        if (steps.some((s) => s.id === id)) throw new FlowDefinitionError(file, field, `step "${pp.type === 'import' ? pp._importId : pp._exportId}" appears twice in the flow`);
        steps.push({
          id,
          kind: pp.type === 'import' ? 'import' : 'lookup',
          name: (pp.type === 'import' ? catalog.imports.get(id)! : catalog.exports.get(id)!).name,
          position: steps.length,
          proceedOnFailure: pp.proceedOnFailure,
          ...policy(pp.onError?.retries ?? flowPolicy),
        });
      });
      register('flow', file, `flows[${i}]`, flow, catalog.flows as Map<string, CatalogEntry<FlowDef>>, { steps });
    });
  }
  return catalog;
}

function policy(retries: RetryPolicy | undefined): { retryPolicy?: RetryPolicy } {
  return retries ? { retryPolicy: retries } : {};
}

import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { isFlowdeckError } from '../domain/errors.js';
import { loadCatalog, type Catalog } from '../flows/load.js';
import { inspectOpenStore, inspectStoreFile, type StoreInspection } from '../store/sqlite/inspect.js';
import { schemaComplete } from '../store/sqlite/schema-check.js';
import type { SqliteCore } from '../store/sqlite/core.js';
import { configProblems, configReferences } from './config-check.js';
import { configFileOf, mustOpenReadOnly } from './open-checks.js';
import { openSnapshotCopy } from './store-checks.js';

// `flowdeck doctor`: every check of a workspace's files, each with what to do about a problem. It
// opens nothing through Workspace.open (which refuses a damaged store), so it can speak about one.

export interface DoctorCheck {
  name: string;
  ok: boolean;
  detail: string;
  /** What to do, when not ok. */
  fix?: string;
}

export interface DoctorReport {
  home: string;
  ok: boolean;
  checks: DoctorCheck[];
}

const firstLine = (e: unknown) => ((e as Error).message ?? String(e)).split('\n')[0]!;

function checkConfig(home: string, catalog: Catalog | undefined): DoctorCheck[] {
  const file = configFileOf(home);
  if (!existsSync(file)) return [{ name: 'config.json', ok: true, detail: `${file} does not exist yet (an empty config)` }];
  let store: unknown;
  try {
    const text = readFileSync(file, 'utf8');
    store = text.trim() === '' ? Symbol('empty') : JSON.parse(text);
  } catch (e) {
    return [{ name: 'config.json', ok: false, detail: `${file} is not valid JSON (${firstLine(e)})`, fix: 'fix it by hand, or move it away to start with an empty config' }];
  }
  if (typeof store === 'symbol') return [{ name: 'config.json', ok: false, detail: `${file} is empty`, fix: 'write {} into it, or remove it' }];
  if (store === null || typeof store !== 'object' || Array.isArray(store)) {
    return [{ name: 'config.json', ok: false, detail: `${file} holds ${Array.isArray(store) ? 'an array' : String(store)}, not an object`, fix: 'write {} into it, or remove it' }];
  }
  const problems = configProblems(store as Record<string, unknown>, catalog ? configReferences(catalog) : [], { missing: true });
  if (problems.length === 0) return [{ name: 'config.json', ok: true, detail: `${file}: every value has the type flowdeck reads it as` }];
  return problems.map((p) => ({ name: `config ${p.key}`, ok: false, detail: `"${p.key}" ${p.problem.split('; ')[0]}`, fix: p.problem.split('; ')[1] ?? `fix "${p.key}" in ${file}` }));
}

function checkStore(inspection: StoreInspection, dbFile: string): DoctorCheck[] {
  const checks: DoctorCheck[] = [];
  const { version, expectedVersion, integrity } = inspection;
  if (version === expectedVersion) checks.push({ name: 'schema version', ok: true, detail: `${version}, as this flowdeck expects` });
  else if (version < expectedVersion) checks.push({ name: 'schema version', ok: false, detail: `${version}, older than this flowdeck's ${expectedVersion}`, fix: 'run any flowdeck command on a writable workspace: it upgrades the store' });
  else checks.push({ name: 'schema version', ok: false, detail: `${version}, newer than this flowdeck's ${expectedVersion}`, fix: 'upgrade flowdeck' });

  if (integrity.length === 1 && integrity[0] === 'ok') checks.push({ name: 'integrity', ok: true, detail: 'PRAGMA integrity_check: ok' });
  else {
    checks.push({
      name: 'integrity',
      ok: false,
      detail: `PRAGMA integrity_check found damage: ${integrity.slice(0, 3).join('; ')}${integrity.length > 3 ? ` (and ${integrity.length - 3} more)` : ''}`,
      fix: `stop every flowdeck on this workspace, copy ${dbFile} aside, then restore a backup; or export what you need (flowdeck errors export), move ${dbFile} away and start afresh`,
    });
  }

  const report = inspection.schema;
  if (!report) return checks;
  const repaired = inspection.repaired;
  if (report.missingTables.length > 0) {
    checks.push({ name: 'schema', ok: false, detail: `missing table ${report.missingTables.join(', ')}`, fix: `the store lost data: restore ${dbFile} from a backup, or move it away and start afresh` });
  }
  const missing = [...report.missingIndexes, ...report.missingOther];
  if (missing.length > 0) {
    checks.push({ name: 'schema', ok: false, detail: `missing index ${missing.join(', ')} (an interrupted run; listings scan without them)`, fix: 'run flowdeck doctor --repair (any command on a writable workspace also re-creates them)' });
  }
  if (schemaComplete(report)) checks.push({ name: 'schema', ok: true, detail: repaired.length ? `re-created ${repaired.join(', ')}; every table and index is there` : 'every table and index the migrations create is there' });
  return checks;
}

export function runDoctor(home: string, env: NodeJS.ProcessEnv, { repair = false } = {}): DoctorReport {
  const checks: DoctorCheck[] = [];
  const done = (): DoctorReport => ({ home, ok: checks.every((c) => c.ok), checks });
  let isDirectory: boolean | undefined;
  try {
    isDirectory = statSync(home).isDirectory();
  } catch {
    // missing
  }
  if (isDirectory === undefined) {
    checks.push({ name: 'workspace', ok: false, detail: `${home} does not exist`, fix: 'run flowdeck demo, or point FLOWDECK_HOME at a workspace' });
    return done();
  }
  if (!isDirectory) {
    checks.push({ name: 'workspace', ok: false, detail: `${home} is a file, not a directory`, fix: 'point FLOWDECK_HOME at a directory (or move the file away)' });
    return done();
  }
  const dbFile = join(home, 'flowdeck.db');
  const readonly = mustOpenReadOnly(home, dbFile, env);
  checks.push({ name: 'workspace', ok: true, detail: `${home}${readonly ? ' (read-only: reading commands work, changes are refused)' : ''}` });

  let catalog: Catalog | undefined;
  try {
    catalog = loadCatalog(join(home, 'flows'));
    checks.push({ name: 'flow files', ok: true, detail: `${catalog.flows.size} flow${catalog.flows.size === 1 ? '' : 's'} defined` });
  } catch (e) {
    checks.push({ name: 'flow files', ok: false, detail: firstLine(e), fix: isFlowdeckError(e) ? 'fix the file and field named' : 'check the flows/ directory can be read' });
  }
  checks.push(...checkConfig(home, catalog));

  if (!existsSync(dbFile)) {
    checks.push({ name: 'store', ok: true, detail: `${dbFile} does not exist yet (the first command creates it)` });
    return done();
  }
  let copy: SqliteCore | undefined;
  try {
    let inspection: StoreInspection;
    try {
      inspection = inspectStoreFile(dbFile, { readonly, repair });
    } catch (e) {
      if ((e as { code?: string }).code !== 'SQLITE_READONLY_DIRECTORY') throw e;
      copy = openSnapshotCopy(dbFile);
      inspection = inspectOpenStore(copy);
    }
    checks.push(...checkStore(inspection, dbFile));
  } catch (e) {
    const code = (e as { code?: string }).code ?? '';
    checks.push({
      name: code.startsWith('SQLITE_CORRUPT') || code === 'SQLITE_NOTADB' ? 'integrity' : 'store',
      ok: false,
      detail: `${dbFile} cannot be read as a flowdeck store (${firstLine(e)})`,
      fix: `copy ${dbFile} aside, then restore a backup, or move it away and start afresh`,
    });
  } finally {
    copy?.close();
  }
  return done();
}

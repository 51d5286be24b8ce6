import { existsSync } from 'node:fs';
import { inspectOpenStore, inspectStoreFile, type StoreInspection } from './inspect.js';
import { schemaComplete } from './schema-check.js';
import type { StoreCheck } from '../contract/checks.js';
import type { SqliteCore } from './core.js';
import { openSnapshotCopy } from './open.js';

// `flowdeck doctor`'s checks of a SQLite store file: its schema version, SQLite's integrity check
// and the schema check, read without opening the store as usual (a damaged one must be spoken about).


const firstLine = (e: unknown) => ((e as Error).message ?? String(e)).split('\n')[0]!;

function checkStore(inspection: StoreInspection, dbFile: string): StoreCheck[] {
  const checks: StoreCheck[] = [];
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

/** The checks of the store file `dbFile`; `repair` re-creates missing indexes (not on a read-only workspace). */
export function sqliteStoreChecks(dbFile: string, { readonly, repair }: { readonly: boolean; repair: boolean }): StoreCheck[] {
  const checks: StoreCheck[] = [];
  if (!existsSync(dbFile)) {
    checks.push({ name: 'store', ok: true, detail: `${dbFile} does not exist yet (the first command creates it)` });
    return checks;
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
  return checks;
}

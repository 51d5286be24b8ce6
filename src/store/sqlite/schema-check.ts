import Database from 'better-sqlite3';
import { migrate, type Db } from './db.js';
import { MIGRATIONS } from './migrations.js';

// Whether a store has every table and index its migrations created. A migration commits or not as
// a whole, but work outside one can drop indexes for a while (the demo generator drops the error
// indexes to load rows faster, and a kill before it re-creates them leaves them gone): listings
// then scan, and nothing else would notice.

export type SchemaObjectType = 'table' | 'index' | 'trigger' | 'view';

export interface SchemaReport {
  missingTables: string[];
  missingIndexes: string[];
  /** Triggers and views, which no migration uses today but a future one may. */
  missingOther: string[];
}

let expected: Map<string, SchemaObjectType> | undefined;

/**
 * The named objects the migrations leave, read from their SQL (cheap: no database is built on a
 * normal open). A unit test checks this against a store that ran them.
 */
export function expectedSchema(migrations: readonly string[] = MIGRATIONS): Map<string, SchemaObjectType> {
  if (migrations === MIGRATIONS && expected) return expected;
  // name -> its type and, for an index or trigger, its table: dropping or renaming a table takes them along.
  const objects = new Map<string, { type: SchemaObjectType; table?: string }>();
  const id = String.raw`["\x60\[]?([A-Za-z_][A-Za-z0-9_]*)["\x60\]]?`;
  const ifExists = String.raw`(?:IF\s+(?:NOT\s+)?EXISTS\s+)?`;
  const statement = new RegExp(
    String.raw`\b(?:(CREATE|DROP)\s+(?:UNIQUE\s+|VIRTUAL\s+|TEMP\s+|TEMPORARY\s+)?(TABLE|INDEX|TRIGGER|VIEW)\s+${ifExists}${id}(?:[^;]*?\bON\s+${id})?|ALTER\s+TABLE\s+${id}\s+RENAME\s+TO\s+${id})`,
    'gi',
  );
  for (const sql of migrations) {
    const code = sql.replace(/--[^\n]*/g, '').replace(/\/\*[\s\S]*?\*\//g, '');
    for (const m of code.matchAll(statement)) {
      if (m[5] !== undefined) {
        const from = m[5].toLowerCase();
        const to = m[6]!.toLowerCase();
        const table = objects.get(from);
        objects.delete(from);
        if (table) objects.set(to, table);
        for (const o of objects.values()) if (o.table === from) o.table = to;
        continue;
      }
      const type = m[2]!.toLowerCase() as SchemaObjectType;
      const objectName = m[3]!.toLowerCase();
      if (m[1]!.toUpperCase() === 'CREATE') {
        objects.set(objectName, type === 'index' || type === 'trigger' ? { type, table: m[4]?.toLowerCase() } : { type });
      } else {
        objects.delete(objectName);
        if (type === 'table') for (const [name, o] of objects) if (o.table === objectName) objects.delete(name);
      }
    }
  }
  const result = new Map([...objects].map(([name, o]) => [name, o.type] as const));
  if (migrations === MIGRATIONS) expected = result;
  return result;
}

export function checkSchema(db: Db): SchemaReport {
  const present = new Set((db.prepare('SELECT lower(name) AS name FROM sqlite_master').all() as Array<{ name: string }>).map((r) => r.name));
  const report: SchemaReport = { missingTables: [], missingIndexes: [], missingOther: [] };
  for (const [name, type] of expectedSchema()) {
    if (present.has(name)) continue;
    if (type === 'table') report.missingTables.push(name);
    else if (type === 'index') report.missingIndexes.push(name);
    else report.missingOther.push(name);
  }
  return report;
}

export function schemaComplete(report: SchemaReport): boolean {
  return report.missingTables.length === 0 && report.missingIndexes.length === 0 && report.missingOther.length === 0;
}

/** The CREATE statements of a freshly migrated store, by lower-cased name. */
function referenceSql(): Map<string, string> {
  const ref = new Database(':memory:');
  try {
    migrate(ref);
    const rows = ref.prepare('SELECT lower(name) AS name, sql FROM sqlite_master WHERE sql IS NOT NULL').all() as Array<{ name: string; sql: string }>;
    return new Map(rows.map((r) => [r.name, r.sql]));
  } finally {
    ref.close();
  }
}

/**
 * Re-creates missing indexes (and triggers/views) from the migrations' own statements, in one
 * transaction; returns their names. Missing tables are not re-created: their rows are gone, and
 * an empty table would hide that.
 */
export function repairSchema(db: Db, report: SchemaReport): string[] {
  const names = [...report.missingIndexes, ...report.missingOther];
  if (names.length === 0) return [];
  const sql = referenceSql();
  db.exec('BEGIN IMMEDIATE');
  try {
    const repaired: string[] = [];
    // Another process may have repaired it meanwhile: check again under the write lock.
    const now = checkSchema(db);
    const still = new Set([...now.missingIndexes, ...now.missingOther]);
    for (const name of names) {
      const create = sql.get(name);
      if (!create || !still.has(name)) continue;
      db.exec(create);
      repaired.push(name);
    }
    db.exec('COMMIT');
    return repaired;
  } catch (e) {
    db.exec('ROLLBACK');
    throw e;
  }
}

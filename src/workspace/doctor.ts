import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { isFlowdeckError } from '../domain/errors.js';
import { loadCatalog, type Catalog } from '../flows/load.js';
import { chooseStoreUrl, storeChecks } from '../store/open-store.js';
import { configProblems, configReferences } from './config-check.js';
import { configFileOf, mustOpenReadOnly, readConfigFile } from './open-checks.js';

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

export async function runDoctor(home: string, env: NodeJS.ProcessEnv, { repair = false } = {}): Promise<DoctorReport> {
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

  const storeUrl = (() => {
    let configStore: unknown;
    try {
      configStore = readConfigFile<Record<string, unknown>>(home)?.store;
    } catch {
      // An unreadable config.json is checkConfig's to report.
    }
    try {
      return { url: chooseStoreUrl(env.FLOWDECK_STORE_URL, configStore) };
    } catch (e) {
      return { error: e };
    }
  })();
  if ('error' in storeUrl) {
    checks.push({ name: 'store', ok: false, detail: firstLine(storeUrl.error), fix: 'set a postgres:// URL, or remove it to use the workspace\'s own SQLite store' });
    return done();
  }
  checks.push(...(await storeChecks({ home, dbFile, readonly, repair, ...(storeUrl.url !== undefined ? { url: storeUrl.url } : {}) })));
  return done();
}

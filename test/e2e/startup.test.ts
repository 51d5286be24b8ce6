import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { DEMO_FLOWS_YAML } from '../../src/workspace/demo.js';
import { REPO_ROOT } from '../helpers/cli.js';
import { tempHome, writeFlowFile, type TempHome } from '../helpers/workspace.js';

// What a command loads at start-up (issue 10 §6): on a workspace whose flow files did not change
// since the last sync, a listing parses no flow file (no YAML parser) and reads no config through
// conf (its schema validator alone costs more than the query).

let tmp: TempHome | undefined;
afterEach(() => {
  tmp?.cleanup();
  tmp = undefined;
});

const hooks = `data:text/javascript,${encodeURIComponent('export async function resolve(s, c, n) { const r = await n(s, c); process._rawDebug(r.url); return r; }')}`;
const register = `data:text/javascript,${encodeURIComponent(`import { register } from 'node:module'; register(${JSON.stringify(hooks)});`)}`;

// require() (the lazily loaded conf and YAML parser) does not pass the resolve hook: log it too.
const REQUIRE_HOOK = `const M = require('node:module'); const load = M._load; M._load = function (request, ...rest) { process._rawDebug('require:' + request); return load.call(this, request, ...rest); };`;

/** Runs flowdeck with module hooks; its output and the modules it loaded (imports as file: URLs, requires as require:name). */
function traced(args: string[], env: NodeJS.ProcessEnv): { code: number | null; stdout: string; modules: string[] } {
  const requireHook = join(tmp!.home, 'require-hook.cjs');
  writeFileSync(requireHook, REQUIRE_HOOK);
  const r = spawnSync(process.execPath, ['--require', requireHook, '--import', register, 'bin/flowdeck.js', ...args], { cwd: REPO_ROOT, env: { ...process.env, NO_COLOR: '1', ...env }, encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, modules: r.stderr.split('\n').filter((l) => l.startsWith('file:') || l.startsWith('require:')) };
}

it('a listing on an unchanged workspace loads neither the YAML parser nor conf, and still lists; an edit is picked up', () => {
  tmp = tempHome();
  const file = writeFlowFile(tmp.home, 'demo.yaml', DEMO_FLOWS_YAML);
  writeFileSync(join(tmp.home, 'config.json'), JSON.stringify({ user: { email: 'ana.lima@acme.example' } }));
  const env = { FLOWDECK_HOME: tmp.home, FLOWDECK_USER: '' };

  const first = traced(['flows', 'list', '--json'], env);
  expect(first.code).toBe(0);
  const names = (JSON.parse(first.stdout) as Array<{ name: string }>).map((f) => f.name).sort();
  expect(names).toContain('Shop orders to ERP');

  // `assignee:me` reads the operator from config.json.
  const again = traced(['errors', 'list', 'Shop orders to ERP', 'ERP sales orders', '--query', 'assignee:me', '--json'], env);
  expect(again.code).toBe(0);
  expect(JSON.parse(again.stdout)).toMatchObject({ errors: [] });
  expect(again.modules.some((u) => u.includes('/node_modules/better-sqlite3/'))).toBe(true);
  const heavy = again.modules.filter((u) => /\/node_modules\/(yaml|conf|ajv)\/|^require:(yaml|conf|ajv)$/.test(u));
  expect(heavy).toEqual([]);

  writeFileSync(file, DEMO_FLOWS_YAML.replace('name: Shop orders to ERP', 'name: Shop orders to SAP'));
  const edited = traced(['flows', 'list', '--json'], env);
  expect(edited.code).toBe(0);
  expect(edited.stdout).toContain('Shop orders to SAP');
}, 60_000);

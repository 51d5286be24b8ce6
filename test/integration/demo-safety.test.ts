import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { commandEnv, runInProcess } from '../helpers/in-process.js';
import { testStore } from '../helpers/store.js';
import { tempHome, writeFlowFile, type TempHome } from '../helpers/workspace.js';

// `flowdeck demo` writes flows and secrets and may start over: it must never do either to a
// workspace that is not a demo. Run in this process: the output and exit codes of bin/flowdeck.js
// without starting one (test/e2e/executable.test.ts runs the demo as a process).

let tmp: TempHome;
beforeEach(() => {
  tmp = tempHome();
});
afterEach(() => tmp.cleanup());

it('refuses to seed, reset or generate into a real workspace, and changes nothing in it', async () => {
  const config = JSON.stringify({ user: { email: 'ops@acme.example' }, secrets: { prodToken: 'REAL-PROD-TOKEN-123' } });
  writeFileSync(join(tmp.home, 'config.json'), config);
  const flows = writeFlowFile(tmp.home, 'prod.yaml', 'flows: []\n');
  for (const args of [['demo', '--no-tui'], ['demo', '--reset', '--no-tui'], ['demo', '--errors', '10', '--no-tui']]) {
    const r = await runInProcess(commandEnv({ FLOWDECK_HOME: tmp.home }), args);
    expect(r.code, args.join(' ')).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain('not a demo workspace');
  }
  expect(readFileSync(join(tmp.home, 'config.json'), 'utf8')).toBe(config);
  expect(existsSync(flows)).toBe(true);
  expect(existsSync(join(tmp.home, 'flows', 'demo.yaml'))).toBe(false);
  expect(existsSync(join(tmp.home, 'flowdeck.db'))).toBe(false);
});

it('seeds an empty directory, and runs again in it', async () => {
  expect((await runInProcess(commandEnv({ FLOWDECK_HOME: tmp.home }), ['demo', '--no-tui'])).code).toBe(0);
  const again = await runInProcess(commandEnv({ FLOWDECK_HOME: tmp.home }), ['demo', '--no-tui']);
  expect(again.code).toBe(0);
  expect(again.stdout).toContain('Shop orders to ERP');
});

// A new workspace on a server has one file, its config naming the store: that is still empty.
it.runIf(testStore() === 'postgres')('seeds a new home whose config names only its store, and keeps that store on --reset', async () => {
  const store = (JSON.parse(readFileSync(join(tmp.home, 'config.json'), 'utf8')) as { store: string }).store;
  expect((await runInProcess(commandEnv({ FLOWDECK_HOME: tmp.home }), ['demo', '--no-tui'])).code).toBe(0);
  expect((await runInProcess(commandEnv({ FLOWDECK_HOME: tmp.home }), ['demo', '--reset', '--no-tui'])).code).toBe(0);
  expect(JSON.parse(readFileSync(join(tmp.home, 'config.json'), 'utf8'))).toMatchObject({ store, demo: true });
  expect(existsSync(join(tmp.home, 'flowdeck.db'))).toBe(false);
});

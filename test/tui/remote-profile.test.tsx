import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { tuiPlace } from '../../commands/index.js';
import type { Backend } from '../../src/backend/contract/index.js';
import { openBackend, profileTarget } from '../../src/cli/context.js';
import { runInProcess } from '../helpers/in-process.js';
import { cursorLine, errorRow, KEYS, lineWith, renderTui, type TuiHarness } from '../helpers/render.js';
import { ANA, demoStep, FLOW, insertErrors, startServer, STEP, type TestServer } from '../helpers/serve.js';
import { tempHome, type TempHome } from '../helpers/workspace.js';
import { sqliteCoreOf } from '../helpers/sqlite.js';

// The TUI on a remote profile (issue 11 §4): the App over the RemoteBackend that `flowdeck` opens
// for a profile "team" pointing at a real `flowdeck serve` app (127.0.0.1, port 0). The header
// names the profile and the server and the token's user; a small loop by keys — open the flow and
// the step, mark errors, assign them, resolve them after the confirmation — is recorded in the
// served workspace as that user, and nothing is made locally.

let server: TestServer | undefined;
let shell: TempHome | undefined;
let backend: Backend | undefined;
let tui: TuiHarness | undefined;

afterEach(async () => {
  tui?.unmount();
  await backend?.close();
  await server?.close();
  shell?.cleanup();
  tui = backend = server = shell = undefined;
});

it('opens on a remote profile, shows it in the header, and records what the keys do as the token user', async () => {
  server = await startServer();
  const ids = await insertErrors(server.local, await demoStep(server.local), 5);
  shell = tempHome('flowdeck-tui-profile-');
  const env: NodeJS.ProcessEnv = {
    FLOWDECK_CONFIG_DIR: join(shell.home, 'config'),
    FLOWDECK_HOME: join(shell.home, 'no-local-workspace'),
    FD_TEAM_TOKEN: server.tokens.ana,
    FLOWDECK_PROFILE: 'team',
  };
  const added = await runInProcess(env, ['profile', 'add', 'team', '--url', server.url, '--token-env', 'FD_TEAM_TOKEN']);
  expect(added.code, added.stderr).toBe(0);

  // As `flowdeck --profile team` opens the TUI on a terminal (commands/index.ts main).
  const target = await profileTarget(env);
  expect(target).toMatchObject({ kind: 'remote', name: 'team', url: server.url });
  backend = await openBackend(env);
  const [me, where] = await Promise.all([backend.whoami(), tuiPlace(env, target)]);
  expect(me.email).toBe(ANA);
  tui = renderTui(backend, { workspace: where.workspace, operator: me.email });

  const flows = await tui.waitFor(FLOW);
  expect(lineWith(flows, /^flowdeck/)).toMatch(new RegExp(`^flowdeck\\s+team ${server.url.replace(/\./g, '\\.')}\\s.*${ANA.replace(/\./g, '\\.')}$`));
  await tui.pressAndWait('G', (f) => cursorLine(f)?.includes(FLOW) === true);
  const steps = await tui.pressAndWait(KEYS.enter, (f) => f.includes(`Flows › ${FLOW}`) && f.includes(STEP));
  // A served flow has no flow file here: the flow's line ends with its last run.
  expect(lineWith(steps, new RegExp(`^${FLOW} enabled`))).toMatch(/ · last run never$/);
  await tui.pressAndWait('G', (f) => cursorLine(f)?.includes(STEP) === true);
  await tui.pressAndWait(KEYS.enter, 'row 1 of 5');

  await tui.pressAndWait(KEYS.space, '1 marked');
  await tui.pressAndWait(KEYS.space, '2 marked');
  await tui.pressAndWait('a', 'ben.okafor@acme.example');
  tui.type('ben');
  await tui.waitFor((f) => cursorLine(f)?.includes('ben.okafor@acme.example') === true);
  await tui.pressAndWait(KEYS.enter, 'Assign 2 errors to ben.okafor@acme.example? y/N');
  await tui.pressAndWait('y', 'Assigned 2 errors to ben.okafor@acme.example.');
  await tui.pressAndWait('x', 'Resolve 2 errors? y/N');
  await tui.pressAndWait('y', 'Resolved 2 errors.');
  await tui.waitFor('row 1 of 3');

  // The served workspace recorded it all as the token's user.
  for (const id of ids.slice(0, 2)) {
    expect(await errorRow(server.local, id)).toMatchObject({ resolved: true, resolvedBy: ANA, assignee: 'ben.okafor@acme.example', assignedBy: ANA });
  }
  for (const id of ids.slice(2)) expect(await errorRow(server.local, id)).toMatchObject({ resolved: false, assignee: null });
  // (The server's own entries are the tokens it made for the test.)
  const audit = sqliteCoreOf(server.local.ws).db.prepare(`SELECT actor, action, count FROM audit WHERE action != 'token.create' ORDER BY id`).all();
  expect(audit).toEqual([
    { actor: ANA, action: 'assign', count: 2 },
    { actor: ANA, action: 'resolve', count: 2 },
  ]);
  expect(server.logs.some((l) => l.includes(ANA))).toBe(true);
  // Nothing acted on a local workspace.
  expect(existsSync(env.FLOWDECK_HOME!)).toBe(false);
});

import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { runInProcess } from '../helpers/in-process.js';
import { FLOW, startServer, type TestServer } from '../helpers/serve.js';
import { tempHome, type TempHome } from '../helpers/workspace.js';

// `flows show` on a remote profile: a served flow has no flow file on the client's side (the
// contract's FlowInfo.file is local-only), so neither the text nor the JSON names one — no blank
// "File:" line, no `"file": ""` — while the local workspace still shows where its flow is defined.

let server: TestServer | undefined;
let shell: TempHome | undefined;

afterEach(async () => {
  await server?.close();
  shell?.cleanup();
  server = shell = undefined;
});

it('names no flow file for a served flow, and the local one still does', async () => {
  server = await startServer();
  shell = tempHome('flowdeck-remote-show-');
  const env: NodeJS.ProcessEnv = { FLOWDECK_CONFIG_DIR: join(shell.home, 'config'), FLOWDECK_HOME: join(shell.home, 'none'), FD_TEAM_TOKEN: server.tokens.ana };
  expect((await runInProcess(env, ['profile', 'add', 'team', '--url', server.url, '--token-env', 'FD_TEAM_TOKEN'])).code).toBe(0);

  const remote = await runInProcess({ ...env, FLOWDECK_PROFILE: 'team' }, ['flows', 'show', FLOW]);
  expect(remote.code, remote.stderr).toBe(0);
  expect(remote.stdout).toMatch(/^Flow: {8}Shop orders to ERP\nId: {10}\S+\nState: {7}enabled\nOpen errors: 0\n/);
  expect(remote.stdout).not.toContain('File:');
  const asJson = await runInProcess({ ...env, FLOWDECK_PROFILE: 'team' }, ['flows', 'show', FLOW, '--json']);
  expect(JSON.parse(asJson.stdout)).not.toHaveProperty('file');

  const local = await runInProcess({ FLOWDECK_HOME: server.tmp.home, FLOWDECK_WORKER: 'off', FLOWDECK_PROFILE: 'local' }, ['flows', 'show', FLOW]);
  expect(local.stdout).toContain(`File:        ${join(server.tmp.home, 'flows', 'demo.yaml')}\n`);
});

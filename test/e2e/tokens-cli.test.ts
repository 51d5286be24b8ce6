import { afterEach, beforeEach, expect, it } from 'vitest';
import { TokenService } from '../../src/backend/tokens.js';
import { hashToken } from '../../src/domain/tokens.js';
import { runInProcess } from '../helpers/in-process.js';
import { openBackend, tempHome, type TempHome } from '../helpers/workspace.js';

// `flowdeck tokens create|list|revoke` as an admin runs them (in this process: the commands, their
// output and exit codes, without spawning one). The token is printed once, alone on stdout, so
// TOKEN=$(flowdeck tokens create …) captures it; everything else about it shows at most `fdk_…last4`.

const OPERATOR = 'ops.lead@acme.example';
let tmp: TempHome;
let env: NodeJS.ProcessEnv;

beforeEach(async () => {
  tmp = tempHome();
  env = { ...process.env, FLOWDECK_HOME: tmp.home, FLOWDECK_USER: OPERATOR };
});
afterEach(() => tmp.cleanup());

it('creates, lists and revokes tokens; the token shows once, on stdout alone', async () => {
  const created = await runInProcess(env, ['tokens', 'create', '--user', 'ana@acme.example', '--name', 'laptop']);
  expect(created.code, created.stderr).toBe(0);
  const token = created.stdout.trimEnd();
  expect(created.stdout).toMatch(/^fdk_[A-Za-z0-9_-]{43}\n$/);
  expect(created.stderr).toBe(
    'Created token 1 "laptop" for ana@acme.example. Keep it safe: it is shown only this once (flowdeck keeps only its hash); send it as "Authorization: Bearer <token>".\n',
  );

  const asJson = await runInProcess(env, ['tokens', 'create', '--user', 'bob@acme.example', '--json']);
  expect(asJson.code, asJson.stderr).toBe(0);
  const bob = JSON.parse(asJson.stdout) as { token: string; info: { id: number; name: string; user: string; hint: string } };
  expect(bob.info).toMatchObject({ id: 2, user: 'bob@acme.example', name: `token-${bob.token.slice(-4)}`, hint: `fdk_…${bob.token.slice(-4)}` });
  expect(asJson.stderr).toMatch(/^Created token 2 .*shown only this once/);

  const list = await runInProcess(env, ['tokens', 'list']);
  expect(list.code, list.stderr).toBe(0);
  const lines = list.stdout.trimEnd().split('\n');
  expect(lines[0]).toMatch(/^ID\s+NAME\s+USER\s+TOKEN\s+CREATED\s+LAST USED\s+STATUS$/);
  expect(lines[1]).toMatch(new RegExp(`^ 1\\s+laptop\\s+ana@acme\\.example\\s+fdk_…${token.slice(-4)}\\s+\\d+s ago\\s+-\\s+active$`));
  expect(lines).toHaveLength(3);
  const listJson = await runInProcess(env, ['tokens', 'list', '--json']);
  expect(JSON.parse(listJson.stdout)).toMatchObject([{ id: 1, active: true }, { id: 2, active: true }]);

  // The workspace verifies what the command printed (as serve will), until it is revoked.
  const verifyNow = async () => {
    const backend = await openBackend(tmp.home, env);
    try {
      return await new TokenService(backend.ws).verify(token);
    } finally {
      await backend.ws.close();
    }
  };
  expect(await verifyNow()).toEqual({ user: 'ana@acme.example', tokenId: 1 });
  const revoked = await runInProcess(env, ['tokens', 'revoke', 'laptop']);
  expect(revoked.code, revoked.stderr).toBe(0);
  expect(revoked.stdout).toBe(`Revoked token 1 "laptop" of ana@acme.example (fdk_…${token.slice(-4)}).\n`);
  expect(await verifyNow()).toBeUndefined();
  const after = await runInProcess(env, ['tokens', 'list']);
  expect(after.stdout).toMatch(/^ 1\s+laptop\s+.*\s+revoked \d+s ago$/m);

  // Only the first output ever held a token; none holds a hash.
  for (const out of [list, listJson, revoked, after]) {
    for (const secret of [token, bob.token]) {
      expect(out.stdout + out.stderr).not.toContain(secret.slice(4));
      expect(out.stdout + out.stderr).not.toContain(hashToken(secret));
    }
  }
});

it('says what is wrong in one line, exit 2 for bad input and 1 for a token that is not there', async () => {
  const cases: Array<[string[], number, RegExp]> = [
    [['tokens', 'create'], 2, /^flowdeck: required option '--user <email>' not specified\n$/],
    [['tokens', 'create', '--user', 'ana'], 2, /^flowdeck: not an email address: "ana" \(a token acts as this user, e\.g\. --user ana@acme\.example\)\n$/],
    [['tokens', 'create', '--user', 'ana@acme.example', '--name', '7'], 2, /^flowdeck: a token name cannot be all digits/],
    [['tokens', 'revoke', 'laptop'], 1, /^flowdeck: token not found: laptop \(no active tokens\)\n$/],
    [['tokens', 'revoke'], 2, /^flowdeck: missing required argument 'token'\n$/],
  ];
  for (const [args, code, stderr] of cases) {
    const r = await runInProcess(env, args);
    expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(code);
    expect(r.stderr, args.join(' ')).toMatch(stderr);
    expect(r.stdout).toBe('');
  }
  expect((await runInProcess(env, ['tokens', 'create', '--user', 'ana@acme.example', '--name', 'laptop'])).code).toBe(0);
  const twice = await runInProcess(env, ['tokens', 'create', '--user', 'ana@acme.example', '--name', 'laptop']);
  expect([twice.code, twice.stdout]).toEqual([1, '']);
  expect(twice.stderr).toMatch(/^flowdeck: ana@acme\.example has an active token named "laptop" already \(id 1\)/);
  expect((await runInProcess(env, ['tokens', 'revoke', '1'])).code).toBe(0);
  const again = await runInProcess(env, ['tokens', 'revoke', '1']);
  expect(again.code).toBe(1);
  expect(again.stderr).toMatch(/^flowdeck: token 1 "laptop" of ana@acme\.example \(fdk_….{4}\) is revoked already \(since .*Z\)\n$/);
});

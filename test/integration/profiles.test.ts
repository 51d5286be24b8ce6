import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { profilesFile, readTokenLine, resolveProfile } from '../../src/cli/profiles.js';
import { runInProcess } from '../helpers/in-process.js';
import { tempHome } from '../helpers/workspace.js';

// Profiles on disk through the commands (in this process): the file conf writes is the user's
// alone, a token given on stdin never comes back on any output, FLOWDECK_CONFIG_DIR keeps every
// test away from the real config directory, and --profile reaches the profile resolution from
// before or after the command (issue 11 §3).

const TOKEN = 'fdk_Qm9vN2xXa2pIb3B0ZXN0LXRva2VuLXZhbHVlLTAx';

const cleanups: Array<() => void> = [];
afterEach(() => {
  while (cleanups.length) cleanups.pop()!();
});

/** An env whose config directory, HOME and workspace are all temporary (nothing of the real user's). */
function isolatedEnv(): { env: NodeJS.ProcessEnv; root: string } {
  const t = tempHome('flowdeck-profiles-');
  cleanups.push(t.cleanup);
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: join(t.home, 'home'),
    FLOWDECK_CONFIG_DIR: join(t.home, 'config'),
    FLOWDECK_HOME: join(t.home, 'workspace'),
    FLOWDECK_WORKER: 'off',
  };
  return { env, root: t.home };
}

const run = (env: NodeJS.ProcessEnv, ...args: string[]) => runInProcess(env, args);

describe('the profiles file', () => {
  it('is written 0600 in FLOWDECK_CONFIG_DIR (0700), and nothing lands in HOME', async () => {
    const { env } = isolatedEnv();
    const added = await runInProcess(env, ['profile', 'add', 'team', '--url', 'http://127.0.0.1:7700/', '--token', '-'], { stdin: `${TOKEN}\n` });
    expect(added.code, added.stderr).toBe(0);
    expect(added.stdout).toContain('Added profile team: http://127.0.0.1:7700, its token stored in');
    const file = profilesFile(env);
    expect(file).toBe(join(env.FLOWDECK_CONFIG_DIR!, 'profiles.json'));
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(env.FLOWDECK_CONFIG_DIR!).mode & 0o777).toBe(0o700);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ profiles: { team: { url: 'http://127.0.0.1:7700', token: TOKEN } } });
    // Rewritten by later changes, it stays private.
    expect((await run(env, 'profile', 'use', 'team')).code).toBe(0);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(existsSync(env.HOME!)).toBe(false);
  });

  it('without FLOWDECK_CONFIG_DIR lives in $XDG_CONFIG_HOME/flowdeck, where conf and resolveProfile both find it', async () => {
    const { env, root } = isolatedEnv();
    delete env.FLOWDECK_CONFIG_DIR;
    env.XDG_CONFIG_HOME = join(root, 'xdg');
    env.TEAM_TOKEN = TOKEN;
    expect((await run(env, 'profile', 'add', 'team', '--url', 'http://127.0.0.1:7700', '--token-env', 'TEAM_TOKEN')).code).toBe(0);
    expect(readdirSync(join(root, 'xdg', 'flowdeck'))).toEqual(['profiles.json']);
    expect(resolveProfile(env, 'team')).toEqual({ kind: 'remote', name: 'team', url: 'http://127.0.0.1:7700', token: TOKEN });
  });

  it('a file made readable by others is made private again before it is written', async () => {
    const { env } = isolatedEnv();
    mkdirSync(env.FLOWDECK_CONFIG_DIR!, { recursive: true });
    writeFileSync(profilesFile(env), JSON.stringify({ profiles: {} }), { mode: 0o644 });
    expect((await runInProcess(env, ['profile', 'add', 'team', '--url', 'http://127.0.0.1:7700', '--token', '-'], { stdin: TOKEN })).code).toBe(0);
    expect(statSync(profilesFile(env)).mode & 0o777).toBe(0o600);
  });

  it('in a directory of the user\'s that others can read: the directory is left as it is, and add warns once', async () => {
    const { env } = isolatedEnv();
    mkdirSync(env.FLOWDECK_CONFIG_DIR!, { recursive: true, mode: 0o755 });
    chmodSync(env.FLOWDECK_CONFIG_DIR!, 0o755); // past the umask
    const added = await runInProcess(env, ['profile', 'add', 'team', '--url', 'http://127.0.0.1:7700', '--token', '-'], { stdin: TOKEN });
    expect(added.code, added.stderr).toBe(0);
    expect(added.stderr).toBe(`flowdeck: warning: ${env.FLOWDECK_CONFIG_DIR} is readable by other users; the profiles file itself is 0600\n`);
    expect(statSync(env.FLOWDECK_CONFIG_DIR!).mode & 0o777).toBe(0o755);
    expect(statSync(profilesFile(env)).mode & 0o777).toBe(0o600);
    // The directory flowdeck makes itself is 0700: no warning.
    const fresh = isolatedEnv().env;
    expect((await runInProcess(fresh, ['profile', 'add', 'team', '--url', 'http://127.0.0.1:7700', '--token', '-'], { stdin: TOKEN })).stderr).toBe('');
  });

  it('one that does not parse is named, with what to do, and left as it is', async () => {
    const { env } = isolatedEnv();
    mkdirSync(env.FLOWDECK_CONFIG_DIR!, { recursive: true });
    writeFileSync(profilesFile(env), '{"profiles": ');
    for (const args of [['profile', 'list'], ['profile', 'add', 'x', '--url', 'http://h', '--token-env', 'X'], ['tags', 'list']]) {
      const r = await run(env, ...args);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`${profilesFile(env)} is not valid JSON`);
    }
    expect(readFileSync(profilesFile(env), 'utf8')).toBe('{"profiles": ');
    // --profile local needs no file: a broken one does not stop local work.
    expect((await run(env, '--profile', 'local', 'tags', 'list')).code).toBe(0);
  });
});

describe('a token', () => {
  it('is never printed back: list and show give env $VAR or its last 4 characters', async () => {
    const { env } = isolatedEnv();
    expect((await runInProcess(env, ['profile', 'add', 'prod', '--url', 'https://flows.acme.example/api', '--token', '-'], { stdin: `${TOKEN}\r\n` })).code).toBe(0);
    expect((await run(env, 'profile', 'add', 'team', '--url', 'http://127.0.0.1:7700', '--token-env', 'FLOWDECK_TEAM_TOKEN')).code).toBe(0);
    expect((await run(env, 'profile', 'use', 'team')).stdout).toBe('Now using profile team (http://127.0.0.1:7700).\n');

    const outputs: string[] = [];
    const list = await run(env, 'profile', 'list');
    expect(list.stdout).toBe(
      [
        '   NAME   URL                             TOKEN',
        '   local  (the local workspace)           -',
        '   prod   https://flows.acme.example/api  …LTAx',
        '*  team   http://127.0.0.1:7700           env $FLOWDECK_TEAM_TOKEN',
        '',
      ].join('\n'),
    );
    const listJson = await run(env, 'profile', 'list', '--json');
    expect(JSON.parse(listJson.stdout)).toEqual([
      { name: 'local', kind: 'local', current: false },
      { name: 'prod', kind: 'remote', url: 'https://flows.acme.example/api', token: '…LTAx', current: false },
      { name: 'team', kind: 'remote', url: 'http://127.0.0.1:7700', token: 'env $FLOWDECK_TEAM_TOKEN', current: true },
    ]);
    const show = await run(env, 'profile', 'show', 'prod');
    expect(show.stdout).toBe(`Profile:  prod\nURL:      https://flows.acme.example/api\nToken:    …LTAx (stored)\nFile:     ${profilesFile(env)}\n`);
    const current = await run({ ...env, FLOWDECK_TEAM_TOKEN: TOKEN }, 'profile', 'show', '--json');
    expect(JSON.parse(current.stdout)).toEqual({ name: 'team', kind: 'remote', url: 'http://127.0.0.1:7700', token: 'env $FLOWDECK_TEAM_TOKEN', current: true, tokenSet: true, file: profilesFile(env) });
    const unset = await run(env, 'profile', 'show', 'team');
    expect(unset.stdout).toContain('Token:    env $FLOWDECK_TEAM_TOKEN (not set)');
    outputs.push(list.stdout, list.stderr, listJson.stdout, show.stdout, current.stdout, unset.stdout);
    outputs.push(...Object.values(await run({ ...env, FLOWDECK_TEAM_TOKEN: TOKEN }, 'profile', 'list')).filter((v): v is string => typeof v === 'string'));
    for (const text of outputs) expect(text).not.toContain(TOKEN.slice(0, 12));
  });

  it('on the command line is refused with why, not echoed, and nothing is written', async () => {
    const { env } = isolatedEnv();
    const r = await run(env, 'profile', 'add', 'team', '--url', 'http://127.0.0.1:7700', '--token', TOKEN);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--token takes only -, to read the token from stdin: a token on the command line stays in the shell history');
    expect(r.stderr + r.stdout).not.toContain(TOKEN);
    expect(existsSync(profilesFile(env))).toBe(false);
  });

  it('from stdin must be there; exactly one of --token and --token-env is given', async () => {
    const { env } = isolatedEnv();
    const add = ['profile', 'add', 'team', '--url', 'http://127.0.0.1:7700'];
    const empty = await runInProcess(env, [...add, '--token', '-'], { stdin: '\n' });
    expect(empty.code).toBe(2);
    expect(empty.stderr).toContain('no token on stdin');
    expect((await runInProcess(env, [...add, '--token', '-'], { stdin: '' })).stderr).toContain('no token on stdin');
    expect((await run(env, ...add)).stderr).toContain('exactly one of --token-env VAR');
    expect((await run(env, ...add, '--token-env', 'X', '--token', '-')).stderr).toContain('exactly one of --token-env VAR');
    expect(existsSync(profilesFile(env))).toBe(false);
    // Only the first line is the token.
    expect((await runInProcess(env, [...add, '--token', '-'], { stdin: `${TOKEN}\nsomething else\n` })).code).toBe(0);
    expect(resolveProfile(env, 'team')).toMatchObject({ token: TOKEN });
  });

  it('is asked for on a terminal without being echoed', async () => {
    const stdin = Object.assign(new PassThrough(), { isTTY: true, setRawMode: () => stdin });
    let shown = '';
    const stderr = new PassThrough().on('data', (c: Buffer) => (shown += c.toString()));
    const line = readTokenLine(stdin, stderr, 'Token for team: ');
    stdin.write(`${TOKEN}\r`);
    expect(await line).toBe(TOKEN);
    expect(shown).toBe('Token for team: \n');
  });

  it('in a URL is refused without echoing it', async () => {
    const { env } = isolatedEnv();
    const r = await run(env, 'profile', 'add', 'team', '--url', 'http://ana:s3cr3t-pw@127.0.0.1:7700', '--token-env', 'X');
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('flowdeck: the URL must not carry credentials (user:password@host): give the token with --token - (read from stdin) or --token-env VAR\n');
    expect(existsSync(profilesFile(env))).toBe(false);
  });
});

describe('profile commands', () => {
  it('add refuses a name that exists unless --replace; use and remove keep the current one right', async () => {
    const { env } = isolatedEnv();
    const add = (name: string, ...more: string[]) => run(env, 'profile', 'add', name, '--url', 'http://127.0.0.1:7700', '--token-env', 'T', ...more);
    expect((await add('team')).code).toBe(0);
    const again = await add('team');
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('a profile named "team" already exists (http://127.0.0.1:7700): give --replace');
    expect((await add('team', '--replace')).stdout).toMatch(/^Replaced profile team/);
    expect((await add('local')).stderr).toContain('"local" is the local workspace');

    const unknown = await run(env, 'profile', 'use', 'staging');
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toBe('flowdeck: no profile named "staging"; known profiles: local, team (add one with flowdeck profile add)\n');
    expect((await run(env, 'profile', 'use', 'team')).code).toBe(0);
    expect((await run(env, 'profile', 'remove', 'team')).stdout).toBe('Removed profile team. It was the current one: the local workspace is current again.\n');
    expect(JSON.parse(readFileSync(profilesFile(env), 'utf8'))).toEqual({ profiles: {} });
    expect((await run(env, 'profile', 'remove', 'team')).code).toBe(1);
    expect((await run(env, 'profile', 'remove', 'local')).stderr).toContain('cannot be removed');
    expect((await run(env, 'profile', 'use', 'local')).stdout).toBe('Now using the local workspace.\n');
  });

  it('say when FLOWDECK_PROFILE chooses another profile than the current one', async () => {
    const { env } = isolatedEnv();
    expect((await run(env, 'profile', 'add', 'team', '--url', 'http://127.0.0.1:7700', '--token-env', 'T')).code).toBe(0);
    const r = await run({ ...env, FLOWDECK_PROFILE: 'team' }, 'profile', 'use', 'local');
    expect(r.stderr).toContain('note: FLOWDECK_PROFILE (or --profile) chooses "team" for this command, not the current profile');
    expect((await run({ ...env, FLOWDECK_PROFILE: 'local' }, 'profile', 'list')).stderr).toBe('');
  });

  it('warn that plain http beyond this machine sends the token in clear', async () => {
    const { env } = isolatedEnv();
    const r = await run(env, 'profile', 'add', 'lan', '--url', 'http://10.1.2.3:7700', '--token-env', 'T');
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('http://10.1.2.3:7700 is plain http: the token crosses the network unencrypted');
  });
});

describe('--profile on every command', () => {
  it('reaches the profile resolution before and after the command, as does FLOWDECK_PROFILE', async () => {
    const { env } = isolatedEnv();
    expect((await run(env, 'profile', 'add', 'team', '--url', 'http://127.0.0.1:7700', '--token-env', 'FLOWDECK_TEAM_TOKEN')).code).toBe(0);
    const cases: Array<[NodeJS.ProcessEnv, string[], string]> = [
      [env, ['--profile', 'nosuch', 'errors', 'list', 'F', 'S'], '(from --profile)'],
      [env, ['--profile=nosuch', 'errors', 'list', 'F', 'S'], '(from --profile)'],
      [env, ['errors', 'list', 'F', 'S', '--profile', 'nosuch'], '(from --profile)'],
      [env, ['errors', 'list', 'F', 'S', '--limit', '5', '--profile=nosuch'], '(from --profile)'],
      [{ ...env, FLOWDECK_PROFILE: 'nosuch' }, ['errors', 'list', 'F', 'S'], '(from FLOWDECK_PROFILE)'],
      // The flag beats the variable.
      [{ ...env, FLOWDECK_PROFILE: 'team' }, ['errors', 'list', 'F', 'S', '--profile', 'nosuch'], '(from --profile)'],
    ];
    for (const [e, args, source] of cases) {
      const r = await run(e, ...args);
      expect(r.code, args.join(' ')).toBe(1);
      expect(r.stderr).toBe(`flowdeck: no profile named "nosuch" ${source}; known profiles: local, team (add one with flowdeck profile add)\n`);
    }
    // A known profile whose token variable is unset: named, before and after the command.
    for (const args of [['--profile', 'team', 'errors', 'list', 'F', 'S'], ['errors', 'list', 'F', 'S', '--profile', 'team']]) {
      const r = await run(env, ...args);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('profile "team" reads its token from $FLOWDECK_TEAM_TOKEN, which is not set or empty');
    }
    // So is the current profile: `profile use` reaches every command.
    expect((await run(env, 'profile', 'use', 'team')).code).toBe(0);
    expect((await run(env, 'tags', 'list')).stderr).toContain('$FLOWDECK_TEAM_TOKEN, which is not set or empty');
    // Nothing ran: no workspace was opened (and so none created).
    expect(existsSync(env.FLOWDECK_HOME!)).toBe(false);
  });

  it('local acts on the workspace whatever the current profile, and the caller’s env is left as it was', async () => {
    const { env } = isolatedEnv();
    expect((await run(env, 'profile', 'add', 'team', '--url', 'http://127.0.0.1:7700', '--token-env', 'FLOWDECK_TEAM_TOKEN')).code).toBe(0);
    expect((await run(env, 'profile', 'use', 'team')).code).toBe(0);
    for (const [e, args] of [
      [env, ['--profile', 'local', 'tags', 'list']],
      [env, ['tags', 'list', '--profile', 'local']],
      [{ ...env, FLOWDECK_PROFILE: 'local' }, ['tags', 'list']],
    ] as Array<[NodeJS.ProcessEnv, string[]]>) {
      const r = await run(e, ...args);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
      expect(r.stdout).toContain('No tags');
    }
    expect(existsSync(env.FLOWDECK_HOME!)).toBe(true);
    expect(env.FLOWDECK_PROFILE).toBeUndefined();
    // An empty --profile is a usage error, not "no choice".
    const empty = await run(env, 'tags', 'list', '--profile=');
    expect(empty.code).toBe(2);
    expect(empty.stderr).toContain('--profile needs a profile name');
  });

  it('the profile commands act on no profile: a broken one can still be shown and removed', async () => {
    const { env } = isolatedEnv();
    expect((await run(env, 'profile', 'add', 'team', '--url', 'http://127.0.0.1:7700', '--token-env', 'FLOWDECK_TEAM_TOKEN')).code).toBe(0);
    expect((await run(env, 'profile', 'use', 'team')).code).toBe(0);
    expect((await run(env, '--profile', 'team', 'profile', 'show')).stdout).toContain('(not set)');
    expect((await run(env, 'profile', 'remove', 'team')).code).toBe(0);
    expect(resolveProfile(env)).toEqual({ kind: 'local' });
  });
});

import { describe, expect, it } from 'vitest';
import { leadingProfile } from '../../commands/index.js';
import {
  checkProfileName,
  checkProfileUrl,
  checkToken,
  checkTokenEnvName,
  chosenProfile,
  isLoopbackUrl,
  MissingTokenError,
  parseProfilesFile,
  ProfileNotFoundError,
  ProfilesFileError,
  profileEntries,
  targetOf,
  tokenHint,
  type ProfilesFile,
} from '../../src/cli/profile-rules.js';
import { InvalidInputError } from '../../src/domain/errors.js';

// The rules of profiles as plain functions: what a profile may hold, which one a command acts on,
// and what is shown of its token (issue 11 §3).

const TOKEN = 'fdk_Zx8pQ2mN4vB6cD1eF3gH5jK7lM9nP0qR2sT4uV6wXyz';

const file: ProfilesFile = {
  current: 'team',
  profiles: {
    team: { url: 'http://127.0.0.1:7700', tokenEnv: 'FLOWDECK_TEAM_TOKEN' },
    prod: { url: 'https://flows.acme.example/api', token: TOKEN },
  },
};

const thrown = (fn: () => unknown): Error => {
  try {
    fn();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a throw');
};

describe('what a profile may hold', () => {
  it('takes names of letters, digits, dots, dashes and underscores; local is the workspace', () => {
    expect(checkProfileName('team.eu-1_b')).toBe('team.eu-1_b');
    for (const bad of ['', '-x', 'a b', 'x/y', 'a'.repeat(65)]) expect(() => checkProfileName(bad)).toThrow(InvalidInputError);
    expect(thrown(() => checkProfileName('local')).message).toContain('local workspace');
  });

  it('takes http and https base URLs, kept without a trailing slash', () => {
    expect(checkProfileUrl('http://127.0.0.1:7700/')).toBe('http://127.0.0.1:7700');
    expect(checkProfileUrl(' https://flows.acme.example/api/v1/ ')).toBe('https://flows.acme.example/api/v1');
    expect(checkProfileUrl('HTTPS://Flows.Acme.Example')).toBe('https://flows.acme.example');
    expect(thrown(() => checkProfileUrl('ftp://host')).message).toContain('http or https');
    expect(thrown(() => checkProfileUrl('host:7700')).message).toContain('http or https');
    expect(thrown(() => checkProfileUrl('not a url')).message).toContain('is not a URL');
    expect(thrown(() => checkProfileUrl('http://host/?token=x')).message).toContain('without a query');
    expect(thrown(() => checkProfileUrl('http://host/#x')).message).toContain('fragment');
  });

  it('refuses credentials in the URL, and never echoes them', () => {
    for (const url of ['http://ana:s3cr3t-pw@host:7700', 'https://s3cr3t-pw@host', 'http://ana:s3cr3t-pw@', 'http://:s3cr3t-pw@host']) {
      const e = thrown(() => checkProfileUrl(url));
      expect(e).toBeInstanceOf(InvalidInputError);
      expect(e.message).not.toContain('s3cr3t-pw');
    }
    expect(thrown(() => checkProfileUrl('http://ana:s3cr3t-pw@host')).message).toContain('must not carry credentials');
  });

  it('knows which URLs stay on this machine', () => {
    expect(isLoopbackUrl('http://127.0.0.1:7700')).toBe(true);
    expect(isLoopbackUrl('http://localhost:7700')).toBe(true);
    expect(isLoopbackUrl('http://[::1]:7700')).toBe(true);
    expect(isLoopbackUrl('http://10.0.0.5:7700')).toBe(false);
  });

  it("takes a variable's name for --token-env, and does not echo what looks like a token", () => {
    expect(checkTokenEnvName('FLOWDECK_TOKEN')).toBe('FLOWDECK_TOKEN');
    expect(checkTokenEnvName('_x1')).toBe('_x1');
    for (const bad of ['1X', 'A-B', '$X', '', TOKEN, 'fdk_abc']) {
      const e = thrown(() => checkTokenEnvName(bad));
      expect(e).toBeInstanceOf(InvalidInputError);
      if (bad) expect(e.message).not.toContain(bad);
    }
    expect(thrown(() => checkTokenEnvName(TOKEN)).message).toContain('looks like a token');
  });

  it('takes one line of stdin as the token: its line end dropped, empty or spaced refused', () => {
    expect(checkToken(`${TOKEN}\n`)).toBe(TOKEN);
    expect(checkToken(`${TOKEN}\r\n`)).toBe(TOKEN);
    expect(checkToken(`  ${TOKEN}  `)).toBe(TOKEN);
    expect(thrown(() => checkToken('')).message).toContain('no token on stdin');
    expect(thrown(() => checkToken('  \n')).message).toContain('no token on stdin');
    const spaced = thrown(() => checkToken('fdk_ab cd'));
    expect(spaced.message).toContain('spaces or control characters');
    expect(spaced.message).not.toContain('fdk_ab');
    expect(() => checkToken('x\u001b[2Jy')).toThrow(InvalidInputError);
    expect(() => checkToken('x'.repeat(4097))).toThrow(/longer than 4096/);
  });

  it('shows a token only as its variable or its last 4 characters (a short one not at all)', () => {
    expect(tokenHint({ url: 'http://h', tokenEnv: 'FLOWDECK_TOKEN' })).toBe('env $FLOWDECK_TOKEN');
    expect(tokenHint({ url: 'http://h', token: TOKEN })).toBe('…wXyz');
    expect(tokenHint({ url: 'http://h', token: 'short-tok' })).toBe('…');
  });
});

describe('the profiles file', () => {
  it('is checked entry by entry, each problem naming the file and the profile', () => {
    expect(parseProfilesFile({}, '/p.json')).toEqual({ profiles: {} });
    expect(parseProfilesFile(file, '/p.json')).toEqual(file);
    const bad: Array<[unknown, string]> = [
      [[], 'no JSON object'],
      [{ current: 3 }, '"current"'],
      [{ profiles: [] }, '"profiles"'],
      [{ profiles: { a: { tokenEnv: 'X' } } }, 'profile "a" has no url'],
      [{ profiles: { a: { url: 'ftp://h', tokenEnv: 'X' } } }, 'profile "a": the URL must be http or https'],
      [{ profiles: { a: { url: 'http://h' } } }, 'exactly one of'],
      [{ profiles: { a: { url: 'http://h', tokenEnv: 'X', token: TOKEN } } }, 'exactly one of'],
    ];
    for (const [value, says] of bad) {
      const e = thrown(() => parseProfilesFile(value, '/p.json'));
      expect(e).toBeInstanceOf(ProfilesFileError);
      expect(e.message).toContain('/p.json');
      expect(e.message).toContain(says);
      expect(e.message).not.toContain(TOKEN);
    }
  });

  it('lists local first, then the profiles by name, the current one marked, tokens as hints', () => {
    expect(profileEntries(file)).toEqual([
      { name: 'local', kind: 'local', current: false },
      { name: 'prod', kind: 'remote', url: 'https://flows.acme.example/api', token: '…wXyz', current: false },
      { name: 'team', kind: 'remote', url: 'http://127.0.0.1:7700', token: 'env $FLOWDECK_TEAM_TOKEN', current: true },
    ]);
    expect(profileEntries(undefined)).toEqual([{ name: 'local', kind: 'local', current: true }]);
  });
});

describe('which profile a command acts on', () => {
  it('--profile beats FLOWDECK_PROFILE beats the current one; local when none is chosen', () => {
    expect(chosenProfile(file, { FLOWDECK_PROFILE: 'prod' }, 'local')).toEqual({ name: 'local', source: 'flag' });
    expect(chosenProfile(file, { FLOWDECK_PROFILE: 'prod' })).toEqual({ name: 'prod', source: 'env' });
    expect(chosenProfile(file, { FLOWDECK_PROFILE: '' })).toEqual({ name: 'team', source: 'current' });
    expect(chosenProfile({ profiles: {} }, {})).toEqual({ name: 'local', source: 'current' });
    expect(chosenProfile(undefined, {})).toEqual({ name: 'local', source: 'current' });
  });

  it('local is always the workspace, whatever the file holds', () => {
    expect(targetOf(file, {}, { name: 'local' })).toEqual({ kind: 'local' });
    expect(targetOf({ profiles: { local: { url: 'http://h', token: TOKEN } } }, {}, { name: 'local' })).toEqual({ kind: 'local' });
  });

  it('a remote profile carries its URL and token: stored, or read from its variable at use', () => {
    expect(targetOf(file, {}, { name: 'prod' })).toEqual({ kind: 'remote', name: 'prod', url: 'https://flows.acme.example/api', token: TOKEN });
    expect(targetOf(file, { FLOWDECK_TEAM_TOKEN: ` ${TOKEN}\n` }, { name: 'team' })).toEqual({ kind: 'remote', name: 'team', url: 'http://127.0.0.1:7700', token: TOKEN });
  });

  it('an unknown name is one error listing the known names and where the name came from', () => {
    const e = thrown(() => targetOf(file, {}, { name: 'staging', source: 'env' }));
    expect(e).toBeInstanceOf(ProfileNotFoundError);
    expect(e.message).toBe('no profile named "staging" (from FLOWDECK_PROFILE); known profiles: local, prod, team (add one with flowdeck profile add)');
    expect(thrown(() => targetOf(undefined, {}, { name: 'team', source: 'flag' })).message).toContain('(from --profile); known profiles: local (add one');
    // Object's own properties are no profiles.
    expect(() => targetOf(file, {}, { name: 'constructor' })).toThrow(ProfileNotFoundError);
  });

  it('an unset or empty token variable is an error naming the variable', () => {
    for (const env of [{}, { FLOWDECK_TEAM_TOKEN: '' }, { FLOWDECK_TEAM_TOKEN: '  ' }]) {
      const e = thrown(() => targetOf(file, env, { name: 'team' }));
      expect(e).toBeInstanceOf(MissingTokenError);
      expect(e.message).toContain('profile "team" reads its token from $FLOWDECK_TEAM_TOKEN, which is not set or empty');
    }
  });
});

describe('--profile before the command', () => {
  it('is skipped to find the command, in both spellings; a missing value is left for commander', () => {
    expect(leadingProfile(['--profile', 'team', 'errors', 'list'])).toEqual({ profile: 'team', rest: ['errors', 'list'] });
    expect(leadingProfile(['--profile=team', 'errors'])).toEqual({ profile: 'team', rest: ['errors'] });
    expect(leadingProfile(['--profile', 'a', '--profile', 'b'])).toEqual({ profile: 'b', rest: [] });
    expect(leadingProfile(['errors', 'list', '--profile', 'team'])).toEqual({ rest: ['errors', 'list', '--profile', 'team'] });
    expect(leadingProfile(['--profile'])).toEqual({ rest: ['--profile'] });
    expect(leadingProfile(['--profile='])).toEqual({ rest: ['--profile='] });
  });
});

import { FlowdeckError, InvalidInputError } from '../domain/errors.js';

// What a profile is and which one a command acts on, as plain functions of their input: the file
// is read and written by profiles.ts. A profile names a server (`flowdeck serve`, or any server of
// the platform's API) and where its token comes from; `local` is the workspace on this machine.

export const LOCAL_PROFILE = 'local';

/** A profile as the profiles file keeps it: a token from an environment variable, or stored. */
export interface StoredProfile {
  url: string;
  tokenEnv?: string;
  token?: string;
}

export interface ProfilesFile {
  /** The profile `profile use` chose; none (or `local`) means the local workspace. */
  current?: string;
  profiles: Record<string, StoredProfile>;
}

/** What a command acts on: the local workspace, or a server with the token to send it. */
export type ProfileTarget = { kind: 'local' } | { kind: 'remote'; name: string; url: string; token: string };

/** Where the chosen name came from, said in errors so the user knows what to change. */
export type ProfileSource = 'flag' | 'env' | 'current';

/** A name that names no profile (`invalid_ref`: exit 1, like every unknown name). */
export class ProfileNotFoundError extends FlowdeckError {
  readonly code = 'invalid_ref';
  readonly status = 404;
}

/** The profiles file cannot be used as it is: names the file and what to do. */
export class ProfilesFileError extends FlowdeckError {
  readonly code = 'invalid_profiles_file';
  readonly status = 500;
}

/** A profile whose token is not there (its variable unset or empty): exit 2, the user must give it. */
export class MissingTokenError extends InvalidInputError {
  constructor(message: string) {
    super(message, 'token', 'missing_token');
  }
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;
const MAX_TOKEN_LENGTH = 4096;

export function checkProfileName(name: string): string {
  if (name === LOCAL_PROFILE) throw new InvalidInputError(`"${LOCAL_PROFILE}" is the local workspace, not a name a profile can take`, 'name');
  if (!NAME.test(name)) throw new InvalidInputError(`a profile's name is 1 to 64 letters, digits, '.', '_' or '-' (starting with a letter or digit), got "${name}"`, 'name');
  return name;
}

/**
 * A server's base URL: http or https, no credentials (a token goes with --token or --token-env, not
 * into a URL that lands in files and messages), no query or fragment. Kept without its trailing
 * slash. A URL with credentials is not echoed back, since its password would be.
 */
export function checkProfileUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text.trim());
  } catch {
    // Echoing an unparsable URL is safe only without an '@' (it may be `user:pw@…` gone wrong).
    throw new InvalidInputError(text.includes('@') ? 'the URL does not parse' : `"${text}" is not a URL (e.g. http://127.0.0.1:7700)`, 'url');
  }
  if (url.username || url.password) {
    throw new InvalidInputError('the URL must not carry credentials (user:password@host): give the token with --token - (read from stdin) or --token-env VAR', 'url');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new InvalidInputError(`the URL must be http or https, got ${url.protocol.replace(/:$/, '')}`, 'url');
  if (url.search || url.hash) throw new InvalidInputError('the URL must be a base URL, without a query (?…) or fragment (#…)', 'url');
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
}

/** Whether a URL's host is this machine: http elsewhere sends the token in clear. */
export function isLoopbackUrl(url: string): boolean {
  const host = new URL(url).hostname;
  return host === 'localhost' || host === '[::1]' || /^127(\.\d{1,3}){3}$/.test(host);
}

/** The name of the variable a token is read from. The value is never echoed: it may be a token given by mistake. */
export function checkTokenEnvName(name: string): string {
  if (/^fdk_/.test(name)) throw new InvalidInputError('--token-env takes the name of an environment variable, and this looks like a token: put the token in a variable (export FLOWDECK_TOKEN=…) and give its name', 'token-env');
  if (!ENV_NAME.test(name)) throw new InvalidInputError('--token-env takes the name of an environment variable (letters, digits and _, not starting with a digit), e.g. FLOWDECK_TOKEN', 'token-env');
  return name;
}

/** A token read from stdin: one line, its line end dropped; empty, spaced or control characters refused. */
export function checkToken(line: string): string {
  const token = line.replace(/\r?\n$/, '').trim();
  if (token === '') throw new InvalidInputError('no token on stdin: pipe it in (e.g. `pass show flowdeck/team | flowdeck profile add … --token -`)', 'token');
  if (/[\s\u0000-\u001f\u007f-\u009f]/.test(token)) throw new InvalidInputError('the token on stdin holds spaces or control characters: give the token alone on one line', 'token');
  if (token.length > MAX_TOKEN_LENGTH) throw new InvalidInputError(`the token on stdin is longer than ${MAX_TOKEN_LENGTH} characters`, 'token');
  return token;
}

/** How a profile's token is shown: the variable it is read from, or the stored token's last 4 characters. */
export function tokenHint(profile: StoredProfile): string {
  if (profile.tokenEnv !== undefined) return `env $${profile.tokenEnv}`;
  const token = profile.token ?? '';
  // A short token's last 4 characters would be most of it.
  return token.length >= 12 ? `…${token.slice(-4)}` : '…';
}

/** The profiles file's JSON, checked entry by entry (it may have been edited by hand). */
export function parseProfilesFile(value: unknown, file: string): ProfilesFile {
  const bad = (what: string) => new ProfilesFileError(`${file}: ${what}; fix it by hand, or remove the profile and add it again (flowdeck profile remove/add)`);
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw bad('it holds no JSON object');
  const { current, profiles = {} } = value as { current?: unknown; profiles?: unknown };
  if (current !== undefined && typeof current !== 'string') throw bad('"current" is not a profile name');
  if (!profiles || typeof profiles !== 'object' || Array.isArray(profiles)) throw bad('"profiles" is not an object of profiles');
  const checked: Record<string, StoredProfile> = {};
  for (const [name, entry] of Object.entries(profiles as Record<string, unknown>)) {
    const p = entry as Partial<Record<keyof StoredProfile, unknown>> | null;
    if (!p || typeof p !== 'object' || typeof p.url !== 'string') throw bad(`profile "${name}" has no url`);
    let url: string;
    try {
      url = checkProfileUrl(p.url);
    } catch (e) {
      throw bad(`profile "${name}": ${(e as Error).message}`);
    }
    if (typeof p.tokenEnv === 'string' && p.token === undefined) checked[name] = { url, tokenEnv: p.tokenEnv };
    else if (typeof p.token === 'string' && p.tokenEnv === undefined) checked[name] = { url, token: p.token };
    else throw bad(`profile "${name}" needs exactly one of "tokenEnv" (a variable's name) or "token"`);
  }
  return current === undefined ? { profiles: checked } : { current, profiles: checked };
}

/** The name a command acts on, and why: --profile beats FLOWDECK_PROFILE beats `profile use`; local otherwise. */
export function chosenProfile(file: ProfilesFile | undefined, env: NodeJS.ProcessEnv, flagValue?: string): { name: string; source: ProfileSource } {
  if (flagValue) return { name: flagValue, source: 'flag' };
  if (env.FLOWDECK_PROFILE) return { name: env.FLOWDECK_PROFILE, source: 'env' };
  return { name: file?.current || LOCAL_PROFILE, source: 'current' };
}

const SOURCES: Record<ProfileSource, string> = {
  flag: '--profile',
  env: 'FLOWDECK_PROFILE',
  current: 'the current profile, chosen with flowdeck profile use',
};

export function knownProfileNames(file: ProfilesFile | undefined): string[] {
  return [LOCAL_PROFILE, ...Object.keys(file?.profiles ?? {}).sort()];
}

/** The profile `name` as stored, or an error listing the names there are. */
export function findProfile(file: ProfilesFile | undefined, name: string, source?: ProfileSource): StoredProfile {
  const profile = Object.hasOwn(file?.profiles ?? {}, name) ? file!.profiles[name] : undefined;
  if (profile) return profile;
  throw new ProfileNotFoundError(`no profile named "${name}"${source ? ` (from ${SOURCES[source]})` : ''}; known profiles: ${knownProfileNames(file).join(', ')} (add one with flowdeck profile add)`);
}

/** What `name` acts on, its token read from `env` when the profile names a variable. The token is never in a message. */
export function targetOf(file: ProfilesFile | undefined, env: NodeJS.ProcessEnv, chosen: { name: string; source?: ProfileSource }): ProfileTarget {
  if (chosen.name === LOCAL_PROFILE) return { kind: 'local' };
  const profile = findProfile(file, chosen.name, chosen.source);
  let token = profile.token;
  if (profile.tokenEnv !== undefined) {
    token = env[profile.tokenEnv]?.trim();
    if (!token) {
      throw new MissingTokenError(`profile "${chosen.name}" reads its token from $${profile.tokenEnv}, which is not set or empty: export it, or store the token with flowdeck profile add ${chosen.name} --url ${profile.url} --token - --replace`);
    }
  }
  return { kind: 'remote', name: chosen.name, url: profile.url, token: token! };
}

/** A profile as list and show print it: the token only as its hint, never itself. */
export interface ProfileEntry {
  name: string;
  kind: 'local' | 'remote';
  url?: string;
  /** `env $VAR` or `…last4`. */
  token?: string;
  /** The one `profile use` chose (local when none was). */
  current: boolean;
}

export function profileEntry(file: ProfilesFile | undefined, name: string): ProfileEntry {
  const current = name === (file?.current || LOCAL_PROFILE);
  if (name === LOCAL_PROFILE) return { name, kind: 'local', current };
  const profile = findProfile(file, name);
  return { name, kind: 'remote', url: profile.url, token: tokenHint(profile), current };
}

export function profileEntries(file: ProfilesFile | undefined): ProfileEntry[] {
  return knownProfileNames(file).map((name) => profileEntry(file, name));
}

/** A line when FLOWDECK_PROFILE (or --profile) chooses another profile than the current one for this process. */
export function overrideNote(file: ProfilesFile | undefined, env: NodeJS.ProcessEnv): string | undefined {
  const chosen = env.FLOWDECK_PROFILE;
  if (!chosen || chosen === (file?.current || LOCAL_PROFILE)) return undefined;
  return `note: FLOWDECK_PROFILE (or --profile) chooses "${chosen}" for this command, not the current profile`;
}

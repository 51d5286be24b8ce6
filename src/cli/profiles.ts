import { chmodSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';
import type Conf from 'conf';
import { InvalidInputError } from '../domain/errors.js';
import {
  chosenProfile,
  findProfile,
  LOCAL_PROFILE,
  parseProfilesFile,
  ProfilesFileError,
  targetOf,
  type ProfilesFile,
  type ProfileTarget,
  type StoredProfile,
} from './profile-rules.js';

// The profiles file: profiles.json in the user's config directory (FLOWDECK_CONFIG_DIR overrides
// it), mode 0600 since it may hold tokens. Choosing a profile only reads it as JSON, so every
// command can resolve its profile without loading conf; conf (~80 ms to load) writes it, and is
// loaded only by the `profile` commands that change it.

const FILE_MODE = 0o600;
const DIR_MODE = 0o700;

/** The directory conf would choose for projectName 'flowdeck' (env-paths, no suffix), from `env` so tests can move it. */
export function profilesDir(env: NodeJS.ProcessEnv): string {
  if (env.FLOWDECK_CONFIG_DIR) return resolve(env.FLOWDECK_CONFIG_DIR);
  const home = env.HOME || homedir();
  if (process.platform === 'darwin') return join(home, 'Library', 'Preferences', 'flowdeck');
  if (process.platform === 'win32') return join(env.APPDATA || join(home, 'AppData', 'Roaming'), 'flowdeck', 'Config');
  return join(env.XDG_CONFIG_HOME || join(home, '.config'), 'flowdeck');
}

export function profilesFile(env: NodeJS.ProcessEnv): string {
  return join(profilesDir(env), 'profiles.json');
}

/** The profiles file as JSON, checked; undefined when there is none yet (every command then acts locally). */
export function readProfiles(env: NodeJS.ProcessEnv): ProfilesFile | undefined {
  const file = profilesFile(env);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    throw new ProfilesFileError(`cannot read ${file}: ${code === 'EACCES' ? 'permission denied' : (e as Error).message}`);
  }
  if (text.trim() === '') return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new ProfilesFileError(`${file} is not valid JSON (${(e as Error).message.split('\n')[0]}): fix it by hand, or move it away and add the profiles again`);
  }
  return parseProfilesFile(value, file);
}

/**
 * What a command acts on: `--profile NAME` (flagValue) beats FLOWDECK_PROFILE beats the profile
 * `profile use` chose; `local`, and no choice at all, is the local workspace. An unknown name, or a
 * token variable that is unset, is one clear error (never with the token in it).
 */
export function resolveProfile(env: NodeJS.ProcessEnv, flagValue?: string): ProfileTarget {
  // --profile local and FLOWDECK_PROFILE=local need no file: a broken one does not stop local work.
  if ((flagValue || env.FLOWDECK_PROFILE) === LOCAL_PROFILE) return { kind: 'local' };
  const file = readProfiles(env);
  return targetOf(file, env, chosenProfile(file, env, flagValue));
}

const require = createRequire(import.meta.url);

/** The profiles file through conf, for the commands that change it: every write is atomic and 0600. */
export class ProfileStore {
  private constructor(
    readonly file: string,
    private readonly conf: Conf<Record<string, unknown>>,
  ) {}

  static open(env: NodeJS.ProcessEnv): ProfileStore {
    const dir = profilesDir(env);
    const file = profilesFile(env);
    readProfiles(env); // a broken file is named here, with what to do, before conf reads it
    try {
      mkdirSync(dir, { recursive: true, mode: DIR_MODE });
      // A file copied in, or written before by something else, is made private before it gets a token.
      if ((statSync(file, { throwIfNoEntry: false })?.mode ?? 0) & 0o077) chmodSync(file, FILE_MODE);
    } catch (e) {
      throw new ProfilesFileError(`cannot prepare ${file}: ${(e as Error).message}`);
    }
    const { default: ConfClass } = require('conf') as typeof import('conf');
    // Names may hold dots (team.eu): no dot paths. cwd is given so conf and readProfiles agree on the file.
    const conf = new ConfClass<Record<string, unknown>>({
      cwd: dir,
      projectName: 'flowdeck',
      configName: 'profiles',
      configFileMode: FILE_MODE,
      clearInvalidConfig: false,
      accessPropertiesByDotNotation: false,
    });
    return new ProfileStore(file, conf);
  }

  /**
   * Whether others can list the directory the file is in (a user's own directory, made before
   * flowdeck, that flowdeck does not chmod): `profile add` says so; the file itself stays 0600.
   */
  dirReadableByOthers(): boolean {
    return ((statSync(dirname(this.file), { throwIfNoEntry: false })?.mode ?? 0) & 0o044) !== 0;
  }

  read(): ProfilesFile {
    return parseProfilesFile(this.conf.store, this.file);
  }

  private write(next: ProfilesFile): void {
    const data: Record<string, unknown> = { profiles: next.profiles };
    if (next.current !== undefined && next.current !== LOCAL_PROFILE) data.current = next.current;
    this.conf.store = data;
  }

  /** Adds (or, with replace, replaces) a profile; the current one stays as it was. */
  add(name: string, profile: StoredProfile, replace: boolean): { replaced: boolean } {
    const now = this.read();
    const replaced = Object.hasOwn(now.profiles, name);
    if (replaced && !replace) {
      throw new InvalidInputError(`a profile named "${name}" already exists (${now.profiles[name]!.url}): give --replace to replace it, or choose another name`, 'name');
    }
    this.write({ ...now, profiles: { ...now.profiles, [name]: profile } });
    return { replaced };
  }

  use(name: string): StoredProfile | undefined {
    const now = this.read();
    const profile = name === LOCAL_PROFILE ? undefined : findProfile(now, name);
    this.write({ ...now, current: name });
    return profile;
  }

  /** Removes a profile, its stored token with it; when it was the current one, local is current again. */
  remove(name: string): { wasCurrent: boolean } {
    if (name === LOCAL_PROFILE) throw new InvalidInputError(`"${LOCAL_PROFILE}" is the local workspace: it cannot be removed`, 'name');
    const now = this.read();
    findProfile(now, name);
    const profiles = { ...now.profiles };
    delete profiles[name];
    const wasCurrent = now.current === name;
    this.write({ profiles, ...(wasCurrent || now.current === undefined ? {} : { current: now.current }) });
    return { wasCurrent };
  }
}

type Stdin = NodeJS.ReadableStream & { isTTY?: boolean };

/**
 * One line of stdin: the token of `--token -`. On a terminal it is asked for with a prompt on
 * stderr and not echoed (readline in terminal mode echoes only to its output, here a sink).
 */
export async function readTokenLine(stdin: Stdin, stderr: NodeJS.WritableStream, prompt: string): Promise<string> {
  if (stdin.isTTY) {
    const sink = new Writable({ write: (_chunk, _encoding, done) => done() });
    const rl = createInterface({ input: stdin, output: sink, terminal: true });
    stderr.write(prompt);
    try {
      return await new Promise<string>((resolveLine, reject) => {
        rl.on('SIGINT', () => reject(new InvalidInputError('no token given (interrupted)', 'token')));
        rl.on('close', () => resolveLine(''));
        rl.question('', resolveLine);
      });
    } finally {
      rl.close();
      stderr.write('\n');
    }
  }
  const rl = createInterface({ input: stdin, crlfDelay: Infinity });
  try {
    for await (const line of rl) return line;
    return '';
  } catch (e) {
    throw new InvalidInputError(`cannot read stdin: ${(e as Error).message}`, 'token');
  } finally {
    rl.close();
  }
}

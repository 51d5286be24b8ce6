import { dirname } from 'node:path';
import { Command } from 'commander';
import { print, type CommandIO } from '../../src/cli/context.js';
import { checkProfileName, checkProfileUrl, checkToken, checkTokenEnvName, isLoopbackUrl, type StoredProfile } from '../../src/cli/profile-rules.js';
import { InvalidInputError } from '../../src/domain/errors.js';

interface AddOptions {
  url: string;
  tokenEnv?: string;
  token?: string;
  replace?: boolean;
}

export function profileAddCommand(io: CommandIO): Command {
  return new Command('add')
    .description('add a remote profile: a server URL and where its token comes from (--token-env VAR, or --token - to store one read from stdin)')
    .argument('<name>', 'the profile name, e.g. team')
    .requiredOption('--url <url>', 'the server, e.g. http://127.0.0.1:7700 (http or https, no credentials in it)')
    .option('--token-env <var>', 'read the token from this environment variable whenever the profile is used (nothing stored)')
    .option('--token <->', 'read the token from stdin (one line) and store it in the profiles file (mode 0600)')
    .option('--replace', 'replace the profile of that name')
    .action(async (name: string, opts: AddOptions) => {
      checkProfileName(name);
      const url = checkProfileUrl(opts.url);
      if ((opts.tokenEnv === undefined) === (opts.token === undefined)) {
        throw new InvalidInputError('give the token with exactly one of --token-env VAR (read from the variable each time) or --token - (read from stdin and stored)', 'token');
      }
      if (opts.token !== undefined && opts.token !== '-') {
        // Not echoed: it is a token. On the command line it stays in the shell's history and shows in ps.
        throw new InvalidInputError('--token takes only -, to read the token from stdin: a token on the command line stays in the shell history and is visible to other processes; pipe it in (… | flowdeck profile add NAME --url URL --token -) or use --token-env VAR', 'token');
      }
      let profile: StoredProfile;
      if (opts.tokenEnv !== undefined) {
        profile = { url, tokenEnv: checkTokenEnvName(opts.tokenEnv) };
      } else {
        const { readTokenLine } = await import('../../src/cli/profiles.js');
        profile = { url, token: checkToken(await readTokenLine(io.stdin ?? process.stdin, io.stderr, `Token for ${name}: `)) };
      }
      const { ProfileStore } = await import('../../src/cli/profiles.js');
      const store = ProfileStore.open(io.env);
      const { replaced } = store.add(name, profile, opts.replace === true);
      if (store.dirReadableByOthers()) io.stderr.write(`flowdeck: warning: ${dirname(store.file)} is readable by other users; the profiles file itself is 0600\n`);
      if (!isLoopbackUrl(url) && url.startsWith('http:')) io.stderr.write(`flowdeck: note: ${url} is plain http: the token crosses the network unencrypted; prefer https beyond this machine\n`);
      const token = profile.tokenEnv !== undefined ? `its token read from $${profile.tokenEnv}` : `its token stored in ${store.file}`;
      print(io, `${replaced ? 'Replaced' : 'Added'} profile ${name}: ${url}, ${token}. Use it with --profile ${name}, or make it the default with flowdeck profile use ${name}.`);
    });
}

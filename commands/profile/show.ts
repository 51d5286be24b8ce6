import { Command } from 'commander';
import { print, type CommandIO } from '../../src/cli/context.js';
import { json } from '../../src/cli/output.js';
import { chosenProfile, findProfile, LOCAL_PROFILE, profileEntry } from '../../src/cli/profile-rules.js';

export function profileShowCommand(io: CommandIO): Command {
  return new Command('show')
    .description('show a profile (default: the one commands act on now): its URL and where its token comes from, never the token')
    .argument('[name]', 'a profile name, or local')
    .option('--json', 'print the profile as JSON')
    .action(async (name: string | undefined, opts: { json?: boolean }) => {
      const { profilesFile, readProfiles } = await import('../../src/cli/profiles.js');
      const file = readProfiles(io.env);
      const chosen = name === undefined ? chosenProfile(file, io.env) : { name, source: undefined };
      if (chosen.name !== LOCAL_PROFILE) findProfile(file, chosen.name, chosen.source);
      const entry = profileEntry(file, chosen.name);
      const tokenEnv = entry.kind === 'remote' ? file!.profiles[entry.name]!.tokenEnv : undefined;
      // Whether the variable is set, never its value.
      const tokenSet = tokenEnv === undefined ? undefined : Boolean(io.env[tokenEnv]?.trim());
      const where = profilesFile(io.env);
      if (opts.json) return print(io, json({ ...entry, ...(tokenSet === undefined ? {} : { tokenSet }), file: where }));
      const lines = [`Profile:  ${entry.name}${entry.current ? ' (current)' : ''}`];
      if (entry.kind === 'local') lines.push('Acts on:  the local workspace ($FLOWDECK_HOME, default ~/.local/share/flowdeck)');
      else lines.push(`URL:      ${entry.url}`, `Token:    ${entry.token}${tokenSet === undefined ? ' (stored)' : tokenSet ? ' (set)' : ' (not set)'}`);
      lines.push(`File:     ${where}`);
      print(io, lines.join('\n'));
    });
}

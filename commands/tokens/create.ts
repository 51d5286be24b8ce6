import { Command } from 'commander';
import { print, withLocalBackend, type CommandIO } from '../../src/cli/context.js';
import { json } from '../../src/cli/output.js';
import { terminalSafe } from '../../src/domain/text.js';

interface CreateOptions {
  user: string;
  name?: string;
  json?: boolean;
}

export function tokensCreateCommand(io: CommandIO): Command {
  return new Command('create')
    .description('make a token acting as a user; it is printed once, alone on stdout (TOKEN=$(flowdeck tokens create …) captures it)')
    .requiredOption('--user <email>', 'who the token acts as: assignments, resolutions and the audit record this email')
    .option('--name <name>', 'what to tell it apart and revoke it by, unique among the user\'s active tokens (default: token-<last 4 characters>)')
    .option('--json', 'print {token, info} as JSON')
    .action(async (opts: CreateOptions) => {
      // Local-only admin: the workspace's own store, through backend.ws.
      await withLocalBackend(io, 'flowdeck tokens', async (backend) => {
        const { TokenService } = await import('../../src/backend/tokens.js');
        const { token, info } = await new TokenService(backend.ws).create(opts.user, opts.name);
        // The note goes to stderr, the token (or the JSON holding it) alone to stdout: a capture gets
        // just the token, a terminal shows both.
        io.stderr.write(
          terminalSafe(`Created token ${info.id} "${info.name}" for ${info.user}. Keep it safe: it is shown only this once (flowdeck keeps only its hash); send it as "Authorization: Bearer <token>".\n`),
        );
        print(io, opts.json ? json({ token, info }) : token);
      });
    });
}

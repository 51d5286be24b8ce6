import { Command } from 'commander';
import { print, withLocalBackend, type CommandIO } from '../../src/cli/context.js';
import { json } from '../../src/cli/output.js';

export function tokensRevokeCommand(io: CommandIO): Command {
  return new Command('revoke')
    .description('revoke a token: its next request gets 401, also on a serve already running')
    .argument('<token>', 'its id or name (flowdeck tokens list), its last 4 characters, or the whole token')
    .option('--json', 'print the revoked token as JSON')
    .action(async (ref: string, opts: { json?: boolean }) => {
      // Local-only admin: the workspace's own store, through backend.ws.
      await withLocalBackend(io, 'flowdeck tokens', async (backend) => {
        const { TokenService } = await import('../../src/backend/tokens.js');
        const info = await new TokenService(backend.ws).revoke(ref);
        print(io, opts.json ? json(info) : `Revoked token ${info.id} "${info.name}" of ${info.user} (${info.hint}).`);
      });
    });
}

import { Command } from 'commander';
import { print, withLocalBackend, type CommandIO } from '../../src/cli/context.js';
import { formatAge, json, renderTable } from '../../src/cli/output.js';

export function tokensListCommand(io: CommandIO): Command {
  return new Command('list')
    .description('list the tokens, revoked ones too: who each acts as and its last 4 characters, never the token')
    .option('--json', 'print the tokens as JSON ({id, user, name, hint, last4, createdAt, lastUsedAt?, revokedAt?, active})')
    .action(async (opts: { json?: boolean }) => {
      // Local-only admin: the workspace's own store, through backend.ws.
      await withLocalBackend(io, 'flowdeck tokens', async (backend) => {
        const { TokenService } = await import('../../src/backend/tokens.js');
        const tokens = await new TokenService(backend.ws).list();
        if (opts.json) return print(io, json(tokens));
        if (tokens.length === 0) return print(io, 'No tokens yet: flowdeck tokens create --user <email> [--name <name>]');
        print(
          io,
          renderTable(tokens, [
            { header: 'ID', value: (t) => String(t.id), align: 'right' },
            { header: 'NAME', value: (t) => t.name },
            { header: 'USER', value: (t) => t.user },
            { header: 'TOKEN', value: (t) => t.hint },
            { header: 'CREATED', value: (t) => formatAge(t.createdAt) },
            { header: 'LAST USED', value: (t) => formatAge(t.lastUsedAt) },
            { header: 'STATUS', value: (t) => (t.revokedAt ? `revoked ${formatAge(t.revokedAt)}` : 'active') },
          ]),
        );
      });
    });
}

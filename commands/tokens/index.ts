import { Command } from 'commander';
import type { CommandIO } from '../../src/cli/context.js';
import { tokensCreateCommand } from './create.js';
import { tokensListCommand } from './list.js';
import { tokensRevokeCommand } from './revoke.js';

// Tokens are local-only admin: these commands open the workspace's own store (backend.ws), never a
// remote profile — whoever holds the workspace decides who may call its `flowdeck serve`.

export function tokensCommand(io: CommandIO): Command {
  return new Command('tokens')
    .description('API tokens for flowdeck serve: one per user and device, kept only as hashes')
    .addCommand(tokensCreateCommand(io))
    .addCommand(tokensListCommand(io))
    .addCommand(tokensRevokeCommand(io));
}

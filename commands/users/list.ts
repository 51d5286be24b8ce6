import { Command } from 'commander';
import { print, withBackend, type CommandIO } from '../../src/cli/context.js';
import { json, renderTable } from '../../src/cli/output.js';

export function usersListCommand(io: CommandIO): Command {
  return new Command('list')
    .description('list known users and the addresses errors were assigned to')
    .option('--json', 'print the users as JSON')
    .action(async (opts: { json?: boolean }) => {
      await withBackend(io, async (backend) => {
        const users = await backend.triage.listUsers();
        if (opts.json) return print(io, json(users));
        if (users.length === 0) return print(io, 'No users yet.');
        print(
          io,
          renderTable(users, [
            { header: 'EMAIL', value: (u) => u.email },
            { header: 'NAME', value: (u) => u.name ?? '-' },
            { header: 'KIND', value: (u) => (u.synthetic ? 'assignee only' : 'user') },
            { header: 'ID', value: (u) => u._id },
          ]),
        );
      });
    });
}

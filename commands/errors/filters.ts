import { Command } from 'commander';
import { print, type CommandIO } from '../../src/cli/context.js';
import { json } from '../../src/cli/output.js';
import { filterMetadata } from '../../src/domain/filter-metadata.js';
import { QUERY_HELP } from '../../src/domain/query.js';

export function errorsFiltersCommand(io: CommandIO): Command {
  return new Command('filters')
    .description('the source and classification values errors can be filtered by, and the query syntax')
    .option('--json', 'print ErrorsFilterMetadataResponse')
    .action((opts: { json?: boolean }) => {
      const metadata = filterMetadata();
      if (opts.json) return print(io, json(metadata));
      const lines = metadata.filters.map((f) => `${f.name} (${f.enums.length}): ${f.enums.join(', ')}`);
      print(io, [...lines, '', QUERY_HELP].join('\n'));
    });
}

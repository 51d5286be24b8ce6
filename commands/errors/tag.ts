import { Command } from 'commander';
import type { CommandIO } from '../../src/cli/context.js';
import { addSelectionOptions, selectionFromOptions, type SelectionOptions } from '../../src/cli/selection.js';
import { InvalidInputError } from '../../src/domain/errors.js';
import { runBulk } from '../../src/cli/bulk.js';
import type { TagUpdate } from '../../src/backend/contract/index.js';

interface TagOptions extends SelectionOptions {
  set?: string;
  add?: string;
  remove?: string;
  clear?: boolean;
  resolved?: boolean;
}

const list = (text: string): string[] =>
  text
    .split(',')
    .map((t) => t.trim())
    .filter(Boolean);

/** A flag's tag list; an empty one ("", ",") would change nothing, so it is refused rather than reported as done. */
function tagList(flag: 'set' | 'add' | 'remove', text: string): string[] {
  const tags = list(text);
  if (tags.length === 0) {
    throw new InvalidInputError(`--${flag} needs at least one tag name${flag === 'set' ? ' (--clear removes every tag)' : ''}, got "${text}"`, flag);
  }
  return tags;
}

/** The flags as one tag update; --set and --clear replace, --add/--remove merge per error. */
export function tagUpdateFromOptions(opts: TagOptions): TagUpdate {
  const update: TagUpdate = {};
  if (opts.clear) update.set = [];
  if (opts.set !== undefined) {
    if (opts.clear) throw new InvalidInputError('give --set or --clear, not both', 'set');
    update.set = tagList('set', opts.set);
  }
  if (opts.add !== undefined) update.add = tagList('add', opts.add);
  if (opts.remove !== undefined) update.remove = tagList('remove', opts.remove);
  if (update.set === undefined && update.add === undefined && update.remove === undefined) {
    throw new InvalidInputError('say how to change the tags: --set A,B, --add A, --remove B or --clear', 'set');
  }
  return update;
}

function describeUpdate(update: TagUpdate): string {
  if (update.set !== undefined) return update.set.length ? `(tags: ${update.set.join(', ')})` : '(tags cleared)';
  return `(${[...(update.add ?? []).map((t) => `+${t}`), ...(update.remove ?? []).map((t) => `-${t}`)].join(', ')})`;
}

export function errorsTagCommand(io: CommandIO): Command {
  const command = new Command('tag')
    .description('set, add or remove tags on errors (names or codes; see flowdeck tags list)')
    .argument('<flow>', 'flow id or name')
    .argument('<step>', 'step (export or import) id or name')
    .argument('[ids...]', 'errorIds (open or resolved) or retryDataKeys to tag (or --all, or filters)')
    .option('--set <tags>', 'replace every tag with these (comma-separated)')
    .option('--add <tags>', 'add these tags (comma-separated)')
    .option('--remove <tags>', 'remove these tags (comma-separated)')
    .option('--clear', 'remove every tag')
    .option('--resolved', 'with retryDataKeys, --all or filters: select resolved errors instead of open ones');
  addSelectionOptions(command);
  return command.action(async (flow: string, step: string, ids: string[], opts: TagOptions) => {
    const update = tagUpdateFromOptions(opts);
    const selection = { ...selectionFromOptions(ids, opts), ...(opts.resolved ? { resolved: true } : {}) };
    await runBulk(
      io,
      {
        verb: 'Retag',
        done: 'Retagged',
        state: opts.resolved ? 'resolved' : 'open',
        destructive: false,
        noContent: false,
        suffix: describeUpdate(update),
        run: (backend, sel, options) => backend.triage.setTags(flow, step, sel, update, options),
        meanwhile: 'resolved or changed meanwhile',
        ids: (r) => [...r.errorsToReturn.errors, ...r.errorsToReturn.resolved],
      },
      selection,
      opts,
    );
  });
}

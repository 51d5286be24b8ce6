import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { confirm } from '../../src/cli/confirm.js';
import { print, withBackend, type CommandIO } from '../../src/cli/context.js';
import { json } from '../../src/cli/output.js';
import { InvalidInputError } from '../../src/domain/errors.js';
import { deepEqual } from '../../src/domain/json-patch.js';
import { parseJsonText } from '../../src/domain/json-text.js';

/** Runs $VISUAL / $EDITOR (or vi) on a file the way git does: the variable may carry arguments. */
export function runEditor(env: NodeJS.ProcessEnv, file: string): void {
  const editor = env.VISUAL || env.EDITOR || 'vi';
  const result = spawnSync('sh', ['-c', `${editor} "$@"`, 'sh', file], { stdio: 'inherit', env });
  if (result.error) throw new InvalidInputError(`cannot run the editor "${editor}": ${result.error.message}`, 'EDITOR');
  if (result.status !== 0) throw new InvalidInputError(`the editor "${editor}" exited with ${result.status ?? result.signal}; nothing saved`, 'EDITOR');
}

export function retryDataEditCommand(io: CommandIO): Command {
  return new Command('edit')
    .description('edit a retry-data snapshot in $VISUAL/$EDITOR; validates, shows the diff, saves after confirmation')
    .argument('<flow>', 'flow id or name')
    .argument('<step>', 'step id or name')
    .argument('<key>', 'retryDataKey (or the errorId of an error that has one)')
    .option('-y, --yes', 'save without asking')
    .option('--json', 'print the saved FlowStepRetryData')
    .action(async (flow: string, step: string, key: string, opts: { yes?: boolean; json?: boolean }) => {
      await withBackend(io, async (backend) => {
        const records = backend.records;
        const before = await records.getRetryData(flow, step, key);
        const dir = mkdtempSync(join(tmpdir(), 'flowdeck-edit-'));
        const file = join(dir, `${before.retryDataKey}.json`);
        const original = `${json(before)}\n`;
        writeFileSync(file, original);
        let keep = false;
        try {
          runEditor(io.env, file);
          const text = readFileSync(file, 'utf8');
          let edited: unknown;
          try {
            edited = parseJsonText(text, file);
          } catch (e) {
            keep = true;
            throw e;
          }
          if (text === original || deepEqual(edited, before)) {
            io.stderr.write('No changes.\n');
            return;
          }
          let after;
          try {
            after = await records.putRetryData(flow, step, key, edited, { dryRun: true });
          } catch (e) {
            keep = true;
            if (e instanceof InvalidInputError) throw new InvalidInputError(`${e.message} (your edit is kept in ${file})`, e.field);
            throw e;
          }
          const name = `${before.retryDataKey}.json`;
          const { createTwoFilesPatch } = await import('diff');
          io.stderr.write(createTwoFilesPatch(`a/${name}`, `b/${name}`, original, `${json(after)}\n`, undefined, undefined, { context: 3 }));
          if (!(await confirm(io, `Save retry data ${before.retryDataKey}?`, { yes: opts.yes }))) {
            keep = true;
            io.stderr.write(`Not saved; your edit is kept in ${file}\n`);
            return;
          }
          const saved = await records.putRetryData(flow, step, key, edited);
          print(io, opts.json ? json(saved) : `Saved retry data ${saved.retryDataKey}. The error stays open until it is retried or resolved.`);
        } finally {
          if (!keep) rmSync(dir, { recursive: true, force: true });
        }
      });
    });
}

import { createInterface } from 'node:readline/promises';
import { InvalidInputError } from '../domain/errors.js';
import type { CommandIO } from './context.js';

// Destructive bulk actions ask first, with the count ("Resolve 1,204 errors? y/N"). Scripts pass
// --yes; without it and without a terminal to ask on, the action is refused rather than assumed.

export async function confirm(io: CommandIO, question: string, opts: { yes?: boolean | undefined; stdin?: NodeJS.ReadableStream & { isTTY?: boolean } }): Promise<boolean> {
  if (opts.yes) return true;
  const stdin = opts.stdin ?? io.stdin ?? process.stdin;
  if (!stdin.isTTY) throw new InvalidInputError(`${question.replace(/\?$/, '')}: confirm with --yes (no terminal to ask on)`, 'yes');
  const rl = createInterface({ input: stdin, output: io.stderr });
  try {
    const answer = await rl.question(`${question} y/N `);
    return /^y(es)?$/i.test(answer.trim());
  } finally {
    rl.close();
  }
}

import { Command } from 'commander';
import { isMaskedConfigKey } from '../../src/domain/config-keys.js';
import { print, profileTarget, withBackend, type CommandIO } from '../../src/cli/context.js';
import { parseChoice } from '../../src/cli/options.js';
import { InvalidInputError } from '../../src/domain/errors.js';
import { assertJsonDepth } from '../../src/domain/json-text.js';

const TYPES = ['string', 'number', 'boolean', 'json'] as const;
type ValueType = (typeof TYPES)[number];

export function parseConfigValue(text: string, type: ValueType): unknown {
  switch (type) {
    case 'string':
      return text;
    case 'number': {
      const n = Number(text);
      if (text.trim() === '' || !Number.isFinite(n)) throw new InvalidInputError(`"${text}" is not a number`, 'value');
      return n;
    }
    case 'boolean':
      if (!/^(true|false)$/.test(text)) throw new InvalidInputError(`"${text}" is not true or false`, 'value');
      return text === 'true';
    case 'json': {
      let value: unknown;
      try {
        value = JSON.parse(text) as unknown;
      } catch (e) {
        throw new InvalidInputError(`the value is not JSON: ${(e as Error).message}`, 'value');
      }
      assertJsonDepth(value, 'the value', 'value');
      return value;
    }
  }
}

/**
 * Secrets are set where the flows run, never sent over the wire; who a server's user is comes from
 * their token, not from user.email.
 */
function assertSettableRemotely(key: string, profile: string): void {
  const top = key.split('.')[0];
  if (top === 'secrets') throw new InvalidInputError(`secrets are set on the server's machine (flowdeck config set ${key} … there), not over profile "${profile}"`, 'key');
  if (key === 'user.email') throw new InvalidInputError(`on profile "${profile}" you act as the user of your token; user.email is the local workspace's operator`, 'key');
}

export function configSetCommand(io: CommandIO): Command {
  return new Command('set')
    .description('set a config value, e.g. `flowdeck config set user.email ana.lima@acme.example`')
    .argument('<key>', 'user.email, secrets.<name>, or a {{config.path}} the flow files use')
    .argument('<value>', 'the value (a string unless --type says otherwise)')
    .option('--type <type>', `how to read the value: ${TYPES.join(', ')}`, parseChoice('type', TYPES), 'string')
    .action(async (key: string, text: string, opts: { type: ValueType }) => {
      const target = await profileTarget(io.env);
      if (target.kind === 'remote') assertSettableRemotely(key, target.name);
      await withBackend(io, async (backend) => {
        await backend.triage.setConfig(key, parseConfigValue(text, opts.type));
        // Only user.email is shown back: any other value may be a connection's secret.
        print(io, `Set ${key}${isMaskedConfigKey(key) ? '' : ` = ${JSON.stringify(await backend.triage.getConfig(key))}`}.`);
      });
    });
}

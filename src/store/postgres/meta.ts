import type { MetaPort } from '../contract/ports.js';
import type { PgSession } from './session.js';

// Small keyed values of the workspace.

export class PgMeta implements MetaPort {
  constructor(private readonly session: PgSession) {}

  async getMeta(key: string): Promise<string | undefined> {
    const [row] = await this.session.query<{ value: string }>('SELECT value FROM meta WHERE key = $1', [key]);
    return row?.value;
  }

  async setMeta(key: string, value: string): Promise<void> {
    await this.session.execute('INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value', [key, value]);
  }

  /** Compare and set on one field (a dotted path, as json_extract's `$.a.b`) of a JSON value; jsonb equality: 1 and 1.0 are equal, as in SQLite. */
  async setMetaIf(key: string, field: string, expected: number | string, value: string): Promise<boolean> {
    const changed = await this.session.execute('UPDATE meta SET value = $1 WHERE key = $2 AND (value::jsonb #> string_to_array($3, \'.\')) = $4::jsonb', [
      value,
      key,
      field,
      JSON.stringify(expected),
    ]);
    return changed === 1;
  }

  async deleteMeta(key: string): Promise<void> {
    await this.session.execute('DELETE FROM meta WHERE key = $1', [key]);
  }
}

import { NotFoundError } from '../../domain/errors.js';
import { MASKING_VERSION } from '../../domain/mask.js';
import type { Catalog } from '../../flows/load.js';
import type { CatalogPort } from '../contract/ports.js';
import type { FlowRow, StepRow } from '../contract/rows.js';
import type { PgSession } from './session.js';
import { toFlowRow, toStepRow } from './rows.js';

// The flow files' definitions as the store mirrors them. A sync runs under an exclusive lock, so two
// processes syncing at once never race, and steps are updated before they are inserted, so an
// existing step keeps its key and no key is spent on a conflict (SQLite hands out keys the same way).

const CATALOG_LOCK = 'catalog-sync';

export class PgCatalog implements CatalogPort {
  constructor(
    private readonly session: PgSession,
    private readonly readonly: boolean,
  ) {}

  async syncCatalog(catalog: Catalog, maskDefinition: (def: unknown) => unknown): Promise<void> {
    // As on SQLite: the masking's version is part of the digest; a read-only store keeps what it has.
    const digest = `${catalog.digest}:mask${MASKING_VERSION}`;
    if (this.readonly || (await this.digest(this.session)) === digest) return;
    await this.session.transaction(
      async (s) => {
        if ((await this.digest(s)) === digest) return; // another process synced while this one waited
        for (const c of catalog.connections.values()) {
          // The baseURI column too: credentials in it (http://svc:PASS@host) are masked.
          const masked = maskDefinition(c.def) as { http: { baseURI: string } };
          await s.execute(
            `INSERT INTO connections (id, name, base_uri, definition) VALUES ($1, $2, $3, $4)
             ON CONFLICT (id) DO UPDATE SET name = excluded.name, base_uri = excluded.base_uri, definition = excluded.definition`,
            [c.id, c.name, masked.http.baseURI, JSON.stringify(masked)],
          );
        }
        for (const [table, entries] of [
          ['exports', catalog.exports],
          ['imports', catalog.imports],
        ] as const) {
          for (const e of entries.values()) {
            await s.execute(
              `INSERT INTO ${table} (id, name, connection_id, definition) VALUES ($1, $2, $3, $4)
               ON CONFLICT (id) DO UPDATE SET name = excluded.name, connection_id = excluded.connection_id, definition = excluded.definition`,
              [e.id, e.name, e.connectionId, JSON.stringify(maskDefinition(e.def))],
            );
          }
        }
        await s.execute('UPDATE flows SET removed = true');
        for (const f of catalog.flows.values()) {
          await s.execute(
            `INSERT INTO flows (id, name, file, definition, disabled_in_file, removed) VALUES ($1, $2, $3, $4, $5, false)
             ON CONFLICT (id) DO UPDATE SET name = excluded.name, file = excluded.file, definition = excluded.definition,
               disabled_in_file = excluded.disabled_in_file, removed = false`,
            [f.id, f.name, f.file, JSON.stringify(maskDefinition(f.def)), !!f.def.disabled],
          );
          // Steps that left the flow keep their rows (their errors stay listable) at the end.
          await s.execute('UPDATE steps SET position = 1000 + position WHERE flow_id = $1 AND position < 1000', [f.id]);
          for (const st of f.steps) {
            const updated = await s.execute('UPDATE steps SET kind = $3, name = $4, position = $5 WHERE flow_id = $1 AND step_id = $2', [
              f.id,
              st.id,
              st.kind,
              st.name,
              st.position,
            ]);
            if (updated === 0) {
              await s.execute('INSERT INTO steps (flow_id, step_id, kind, name, position) VALUES ($1, $2, $3, $4, $5)', [f.id, st.id, st.kind, st.name, st.position]);
            }
          }
        }
        await s.execute('INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value', ['catalog_digest', digest]);
      },
      { exclusive: CATALOG_LOCK },
    );
  }

  private async digest(s: PgSession): Promise<string | undefined> {
    const [row] = await s.query<{ value: string }>(`SELECT value FROM meta WHERE key = 'catalog_digest'`);
    return row?.value;
  }

  async listFlows(): Promise<FlowRow[]> {
    return (await this.session.query('SELECT * FROM flows ORDER BY removed, name')).map(toFlowRow);
  }

  async getFlow(id: string): Promise<FlowRow | undefined> {
    const [r] = await this.session.query('SELECT * FROM flows WHERE id = $1', [id]);
    return r ? toFlowRow(r) : undefined;
  }

  async setFlowDisabled(id: string, disabled: boolean): Promise<void> {
    await this.session.execute('UPDATE flows SET disabled_override = $1 WHERE id = $2', [disabled, id]);
  }

  async touchFlow(id: string, at: number): Promise<void> {
    await this.session.execute('UPDATE flows SET last_executed_at = $1 WHERE id = $2', [at, id]);
  }

  async steps(flowId: string): Promise<StepRow[]> {
    // SQLite's ORDER BY position keeps rowid order among equal positions.
    return (await this.session.query('SELECT * FROM steps WHERE flow_id = $1 ORDER BY position, id', [flowId])).map(toStepRow);
  }

  async step(key: number): Promise<StepRow | undefined> {
    const [r] = await this.session.query('SELECT * FROM steps WHERE id = $1', [key]);
    return r ? toStepRow(r) : undefined;
  }

  async requireStep(key: number): Promise<StepRow> {
    const s = await this.step(key);
    if (!s) throw new NotFoundError('step', String(key));
    return s;
  }
}

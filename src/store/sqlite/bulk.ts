import type { SyntheticBatch } from '../contract/bulk.js';
import type { SqliteCore } from './core.js';

// Fast loads of the demo generator's rows. (Being moved here from src/workspace/generate.ts.)

export class SqliteBulk {
  constructor(private readonly core: SqliteCore) {}

  loadStart(): { nextIds: { error: number; retryData: number; trace: number }; lastOccurredAt: number | null; errorCount: number } {
    const db = this.core.db;
    const nextId = (table: string) => ((db.prepare(`SELECT max(id) FROM ${table}`).pluck().get() as number | null) ?? 0) + 1;
    return {
      nextIds: { error: nextId('errors'), retryData: nextId('retry_data'), trace: nextId('traces') },
      lastOccurredAt: db.prepare('SELECT max(occurred_at) FROM errors').pluck().get() as number | null,
      errorCount: db.prepare('SELECT count(*) FROM errors').pluck().get() as number,
    };
  }

  loadSynthetic(_batches: AsyncIterator<SyntheticBatch>, _options: { expected: number }): Promise<{ rows: number; write: number; indexes: number; analyze: number }> {
    throw new Error('SqliteBulk.loadSynthetic: not moved here yet');
  }
}

import type { PgSession } from './session.js';
import { WRITER_LOCK } from './migrations.js';

// The change stamp on PostgreSQL. Every statement that writes a table bumps the sequence
// change_stamp (a statement-level trigger, migration 1), and its transaction holds a shared
// advisory lock (WRITER_LOCK) from that moment to its end, which PostgreSQL releases only once the
// commit is visible. A sequence alone would not do: it moves when the statement runs, not when its
// transaction commits, so a stamp read in between would equal one read after the commit although
// the data differ. So the stamp is the sequence's value, read first, and while any writer holds the
// lock, a stamp equal to no other (the reader reads again next time).

let unique = 0;

export async function readChangeStamp(session: PgSession): Promise<string> {
  const [seq] = await session.query<{ v: number; called: boolean }>('SELECT last_value AS v, is_called AS called FROM change_stamp');
  const [writers] = await session.query<{ busy: boolean }>(
    `SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
       AND classid = $1 AND objid = $2 AND objsubid = 2 AND granted AND pid <> pg_backend_pid()) AS busy`,
    [WRITER_LOCK.classid, WRITER_LOCK.objid],
  );
  const stamp = `${seq!.called ? seq!.v : 0}`;
  return writers!.busy ? `${stamp}.busy${process.pid}.${++unique}` : stamp;
}

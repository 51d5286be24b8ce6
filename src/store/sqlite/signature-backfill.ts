import { Signer } from '../../domain/signature.js';
import type { Db } from './db.js';

// Signs the errors a store held before migration 7 (see there), right after migrating, in the
// open path. Batches of errors in row-id order, each in its own write transaction with the cursor
// (meta 'sig_backfill' = last row id done), so a killed back-fill loses nothing and the next open
// continues; errors written meanwhile by this version are signed already and re-signing them gives
// the same value. A big back-fill drops ix_errors_sig first (moving a million index entries costs more
// than one sort) and builds it again when every row is signed; then the meta row goes.

// As migration 7 creates it (sqlite_master keeps the text without IF NOT EXISTS, so the schema matches).
const SIG_INDEX_SQL = 'CREATE INDEX IF NOT EXISTS ix_errors_sig ON errors (step, resolved, sig)';
const BATCH = 50_000;

export interface BackfillProgress {
  done: number;
  total: number;
}

/** Whether a back-fill is pending (cheap: one meta lookup; what every open pays). */
function signatureBackfillPending(db: Db): boolean {
  return db.prepare("SELECT 1 FROM meta WHERE key = 'sig_backfill'").get() !== undefined;
}

export function backfillSignatures(db: Db, onProgress?: (p: BackfillProgress) => void): { signed: number; ms: number } {
  const started = Date.now();
  if (!signatureBackfillPending(db)) return { signed: 0, ms: 0 };
  const signer = new Signer(20_000);
  // First error per signature seen in the batch: the signature's parts and first_at.
  const seen = new Map<number, [number, string, string, string | null, string, number]>();
  db.function('flowdeck_sign', { deterministic: true, varargs: false }, (step: unknown, code: unknown, source: unknown, classification: unknown, message: unknown, at: unknown) => {
    const facts = { step: Number(step), code: String(code), source: String(source), classification: classification === null ? null : String(classification), message: String(message) };
    const { sig, template } = signer.sign(facts);
    const first = seen.get(sig);
    if (!first || Number(at) < first[5]) seen.set(sig, [facts.step, facts.code, facts.source, facts.classification, template, Number(at)]);
    return sig;
  });
  const cursorOf = db.prepare("SELECT value FROM meta WHERE key = 'sig_backfill'").pluck();
  const setCursor = db.prepare("UPDATE meta SET value = ? WHERE key = 'sig_backfill'");
  const upper = db.prepare('SELECT max(id) FROM (SELECT id FROM errors WHERE id > ? ORDER BY id LIMIT ?)').pluck();
  const sign = db.prepare('UPDATE errors SET sig = flowdeck_sign(step, code, source, classification, message, occurred_at) WHERE id > ? AND id <= ?');
  const upsert = db.prepare(`INSERT INTO error_sigs (id, step, code, source, classification, template, first_at) VALUES (?, ?, ?, ?, ?, ?, ?)
    ON CONFLICT (id) DO UPDATE SET first_at = min(first_at, excluded.first_at)`);
  const total = (db.prepare('SELECT count(*) FROM errors').pluck().get() as number) ?? 0;
  if (total > BATCH) {
    // Under the write lock, and only while the back-fill is still pending (another process may have
    // just finished it, index included).
    db.exec('BEGIN IMMEDIATE');
    if (cursorOf.get() !== undefined) db.exec('DROP INDEX IF EXISTS ix_errors_sig');
    db.exec('COMMIT');
  }
  let signed = 0;
  for (;;) {
    db.exec('BEGIN IMMEDIATE');
    try {
      const cursor = cursorOf.get() as string | undefined;
      if (cursor === undefined) {
        // Another process finished it meanwhile (and built the index; IF NOT EXISTS makes sure).
        db.exec(SIG_INDEX_SQL);
        db.exec('COMMIT');
        break;
      }
      const from = Number(cursor);
      const to = upper.get(from, BATCH) as number | null;
      if (to === null) {
        db.exec(SIG_INDEX_SQL);
        // Statistics for the new index only (the planner compares it with the others).
        db.exec('ANALYZE ix_errors_sig');
        db.prepare("DELETE FROM meta WHERE key = 'sig_backfill'").run();
        db.exec('COMMIT');
        break;
      }
      seen.clear();
      signed += sign.run(from, to).changes;
      for (const [sig, parts] of seen) upsert.run(sig, ...parts);
      setCursor.run(String(to));
      db.exec('COMMIT');
      onProgress?.({ done: signed, total });
    } catch (e) {
      if (db.inTransaction) db.exec('ROLLBACK');
      throw e;
    }
  }
  return { signed, ms: Date.now() - started };
}

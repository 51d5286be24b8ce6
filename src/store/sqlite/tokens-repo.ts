import type { SqliteCore } from './core.js';
import type { TokenRow, TokenMatch, NewToken } from '../contract/queries.js';
export type { TokenRow, TokenMatch, NewToken } from '../contract/queries.js';

// SQL of the API tokens (migration 9). Rows carry the token's hash, never the token; the hash stays
// inside the store layer: only byHash takes one, and no row read out of here has it.




type Raw = Record<string, unknown>;

const COLUMNS = 'id, user_email, name, last4, created_at, last_used_at, revoked_at';

function toTokenRow(r: Raw): TokenRow {
  return {
    id: r.id as number,
    userEmail: r.user_email as string,
    name: r.name as string,
    last4: r.last4 as string,
    createdAt: r.created_at as number,
    lastUsedAt: (r.last_used_at as number | null) ?? null,
    revokedAt: (r.revoked_at as number | null) ?? null,
  };
}

export class TokensRepo {
  constructor(private readonly store: SqliteCore) {}

  insert(token: NewToken): TokenRow {
    const r = this.store
      .stmt(`INSERT INTO api_tokens (user_email, name, hash, last4, created_at) VALUES (?, ?, ?, ?, ?) RETURNING ${COLUMNS}`)
      .get(token.userEmail, token.name, token.hash, token.last4, token.createdAt) as Raw;
    return toTokenRow(r);
  }

  /** Every token, revoked ones too, oldest first. */
  list(): TokenRow[] {
    return (this.store.stmt(`SELECT ${COLUMNS} FROM api_tokens ORDER BY id`).all() as Raw[]).map(toTokenRow);
  }

  byId(id: number): TokenRow | undefined {
    const r = this.store.stmt(`SELECT ${COLUMNS} FROM api_tokens WHERE id = ?`).get(id) as Raw | undefined;
    return r && toTokenRow(r);
  }

  /** The one lookup per request: a probe of the unique hash index. */
  byHash(hash: string): TokenMatch | undefined {
    const r = this.store.stmt(`SELECT ${COLUMNS}, hash FROM api_tokens WHERE hash = ?`).get(hash) as Raw | undefined;
    return r && { ...toTokenRow(r), hash: r.hash as string };
  }

  /** Active tokens with this name (case-insensitive), whoever's they are. */
  activeByName(name: string): TokenRow[] {
    return (this.store.stmt(`SELECT ${COLUMNS} FROM api_tokens WHERE name = ? AND revoked_at IS NULL ORDER BY id`).all(name) as Raw[]).map(toTokenRow);
  }

  activeByLast4(last4: string): TokenRow[] {
    return (this.store.stmt(`SELECT ${COLUMNS} FROM api_tokens WHERE last4 = ? AND revoked_at IS NULL ORDER BY id`).all(last4) as Raw[]).map(toTokenRow);
  }

  activeNamed(userEmail: string, name: string): TokenRow | undefined {
    const r = this.store.stmt(`SELECT ${COLUMNS} FROM api_tokens WHERE user_email = ? AND name = ? AND revoked_at IS NULL`).get(userEmail, name) as Raw | undefined;
    return r && toTokenRow(r);
  }

  /** Revokes an active token; the row it left, or undefined when it was revoked already. */
  revoke(id: number, at: number): TokenRow | undefined {
    const r = this.store.stmt(`UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL RETURNING ${COLUMNS}`).get(at, id) as Raw | undefined;
    return r && toTokenRow(r);
  }

  /**
   * Records a use, unless one at or after `staleBefore` is recorded already (by another process).
   * Only when the write lock is free this instant: a last-used time is advice, and waiting out
   * another process's bulk write (seconds, under the store's busy timeout) would stall every
   * request of the server. False when the lock was taken; the next request tries again.
   */
  tryTouch(id: number, at: number, staleBefore: number): boolean {
    const db = this.store.db;
    const wait = db.pragma('busy_timeout', { simple: true }) as number;
    db.pragma('busy_timeout = 0');
    try {
      this.store.stmt('UPDATE api_tokens SET last_used_at = ? WHERE id = ? AND (last_used_at IS NULL OR last_used_at < ?)').run(at, id, staleBefore);
      return true;
    } catch (e) {
      if ((e as { code?: string }).code?.startsWith('SQLITE_BUSY')) return false;
      throw e;
    } finally {
      db.pragma(`busy_timeout = ${wait}`);
    }
  }
}

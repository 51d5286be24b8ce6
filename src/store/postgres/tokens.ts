import type { TokensPort } from '../contract/ports.js';
import type { NewToken, TokenMatch, TokenRow } from '../contract/queries.js';
import type { PgSession } from './session.js';
import { toTokenRow } from './rows.js';

// API tokens. Rows carry the token's hash, never the token; only byHash takes one. Names and
// emails compare without case, as SQLite's COLLATE NOCASE columns do.

const COLUMNS = 'id, user_email, name, last4, created_at, last_used_at, revoked_at';

export class PgTokens implements TokensPort {
  constructor(private readonly session: PgSession) {}

  async insert(token: NewToken): Promise<TokenRow> {
    const [r] = await this.session.query(
      `INSERT INTO api_tokens (user_email, name, hash, last4, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING ${COLUMNS}`,
      [token.userEmail, token.name, token.hash, token.last4, token.createdAt],
    );
    return toTokenRow(r!);
  }

  async list(): Promise<TokenRow[]> {
    return (await this.session.query(`SELECT ${COLUMNS} FROM api_tokens ORDER BY id`)).map(toTokenRow);
  }

  async byId(id: number): Promise<TokenRow | undefined> {
    const [r] = await this.session.query(`SELECT ${COLUMNS} FROM api_tokens WHERE id = $1`, [id]);
    return r && toTokenRow(r);
  }

  async byHash(hash: string): Promise<TokenMatch | undefined> {
    const [r] = await this.session.query(`SELECT ${COLUMNS}, hash FROM api_tokens WHERE hash = $1`, [hash]);
    return r && { ...toTokenRow(r), hash: r.hash as string };
  }

  async activeByName(name: string): Promise<TokenRow[]> {
    return (await this.session.query(`SELECT ${COLUMNS} FROM api_tokens WHERE lower(name) = lower($1) AND revoked_at IS NULL ORDER BY id`, [name])).map(toTokenRow);
  }

  async activeByLast4(last4: string): Promise<TokenRow[]> {
    return (await this.session.query(`SELECT ${COLUMNS} FROM api_tokens WHERE last4 = $1 AND revoked_at IS NULL ORDER BY id`, [last4])).map(toTokenRow);
  }

  async activeNamed(userEmail: string, name: string): Promise<TokenRow | undefined> {
    const [r] = await this.session.query(
      `SELECT ${COLUMNS} FROM api_tokens WHERE lower(user_email) = lower($1) AND lower(name) = lower($2) AND revoked_at IS NULL`,
      [userEmail, name],
    );
    return r && toTokenRow(r);
  }

  async revoke(id: number, at: number): Promise<TokenRow | undefined> {
    const [r] = await this.session.query(`UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL RETURNING ${COLUMNS}`, [at, id]);
    return r && toTokenRow(r);
  }

  /**
   * Records a use unless a recent one is recorded already, and never waits: the row is locked with
   * SKIP LOCKED, so while another transaction holds it this is false at once (the next request
   * tries again). True when the row was free (written if it was stale), as SQLite's free write lock.
   */
  async tryTouch(id: number, at: number, staleBefore: number): Promise<boolean> {
    const [row] = await this.session.query<{ locked: number }>(
      `WITH target AS MATERIALIZED (
         SELECT id, (last_used_at IS NULL OR last_used_at < $3) AS stale FROM api_tokens WHERE id = $1 FOR UPDATE SKIP LOCKED
       ), touched AS (
         UPDATE api_tokens t SET last_used_at = $2 FROM target WHERE t.id = target.id AND target.stale RETURNING t.id
       )
       SELECT (SELECT count(*) FROM target) AS locked`,
      [id, at, staleBefore],
    );
    return row!.locked > 0;
  }
}

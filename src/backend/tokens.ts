import { ConflictError, InvalidInputError, NotFoundError, NothingToDoError } from '../domain/errors.js';
import { generateToken, hashToken, looksLikeToken, tokenHint, tokenLast4, tokenMatchesHash } from '../domain/tokens.js';
import type { TokenRow } from '../store/contract/queries.js';
import type { Workspace } from '../workspace/workspace.js';
import { iso } from './shapes.js';
import { isEmail } from './triage.js';

// The API tokens `flowdeck serve` accepts, one user each. A local admin service over the workspace
// store, not part of the Backend: tokens are made and revoked by whoever holds the workspace, never
// over the wire. The plain token exists only in create()'s answer; the store, the audit and every
// later answer carry at most its last 4 characters.

/** A token as lists show it: never its hash or the token, at most `fdk_…last4`. */
export interface TokenInfo {
  id: number;
  /** The email the server acts as for this token's requests. */
  user: string;
  name: string;
  /** `fdk_…abcd`: how the token is shown once created. */
  hint: string;
  last4: string;
  createdAt: string;
  /** Updated at most once a minute (TOUCH_INTERVAL_MS). */
  lastUsedAt?: string;
  revokedAt?: string;
  active: boolean;
}

export interface CreatedToken {
  /** The plain token: shown once, here, and kept nowhere. */
  token: string;
  info: TokenInfo;
}

export interface VerifiedToken {
  user: string;
  tokenId: number;
}

export interface TokenServiceOptions {
  /** Wall-clock milliseconds (tests move it). */
  now?: () => number;
  /** Test seam for a known token; real callers leave it. */
  random?: (size: number) => Buffer;
}

/** A request records its token's use only when the last record is older than this: no write per request. */
export const TOUCH_INTERVAL_MS = 60_000;
const MAX_NAME = 64;
const CONTROL = /[\p{Cc}\p{Cf}]/u;

function toInfo(row: TokenRow): TokenInfo {
  const info: TokenInfo = {
    id: row.id,
    user: row.userEmail,
    name: row.name,
    hint: tokenHint(row.last4),
    last4: row.last4,
    createdAt: iso(row.createdAt),
    active: row.revokedAt === null,
  };
  if (row.lastUsedAt !== null) info.lastUsedAt = iso(row.lastUsedAt);
  if (row.revokedAt !== null) info.revokedAt = iso(row.revokedAt);
  return info;
}

const label = (row: TokenRow): string => `${row.id} "${row.name}" of ${row.userEmail} (${tokenHint(row.last4)})`;

export class TokenService {
  private readonly now: () => number;
  private readonly random: ((size: number) => Buffer) | undefined;

  constructor(
    private readonly ws: Pick<Workspace, 'store' | 'operator'>,
    options: TokenServiceOptions = {},
  ) {
    this.now = options.now ?? Date.now;
    this.random = options.random;
  }

  /** A new token for `user` (who becomes a known user); the plain token is in this answer only. */
  private get repo() {
    return this.ws.store.tokens;
  }

  async create(user: string, name?: string): Promise<CreatedToken> {
    const email = user.trim();
    if (!isEmail(email)) throw new InvalidInputError(`not an email address: "${user}" (a token acts as this user, e.g. --user ana@acme.example)`, 'user');
    const token = generateToken(this.random);
    const last4 = tokenLast4(token);
    const tokenName = name === undefined ? `token-${last4}` : checkName(name);
    const now = this.now();
    const row = await this.ws.store.withTransaction(async (tx) => {
      const taken = await tx.tokens.activeNamed(email, tokenName);
      if (taken) throw new ConflictError(`${taken.userEmail} has an active token named "${taken.name}" already (id ${taken.id}): choose another --name or revoke that one`, 'token_name_taken');
      const created = await tx.tokens.insert({ userEmail: email, name: tokenName, hash: hashToken(token), last4, createdAt: now });
      await tx.triage.upsertUser(email, null, false, now);
      await tx.auditLog.audit({ at: now, actor: this.ws.operator(), action: 'token.create', count: 1, detail: { tokenId: created.id, user: email, name: tokenName } });
      return created;
    });
    return { token, info: toInfo(row) };
  }

  /** Every token, revoked ones too, oldest first. */
  async list(): Promise<TokenInfo[]> {
    return (await this.repo.list()).map(toInfo);
  }

  /**
   * Revokes the token `ref` names: its id, its name, its last 4 characters (`abcd`, `…abcd` or
   * `fdk_…abcd`), or the whole token (a leaked one is revoked without looking it up first). A name
   * or last4 that several active tokens share is refused with their ids.
   */
  async revoke(ref: string): Promise<TokenInfo> {
    const row = await this.find(ref);
    const now = this.now();
    const revoked = await this.ws.store.withTransaction(async (tx) => {
      const r = await tx.tokens.revoke(row.id, now);
      if (r) await tx.auditLog.audit({ at: now, actor: this.ws.operator(), action: 'token.revoke', count: 1, detail: { tokenId: r.id, user: r.userEmail, name: r.name } });
      return r;
    });
    if (!revoked) throw new NothingToDoError(`token ${label(row)} is revoked already (since ${iso(row.revokedAt ?? now)})`, 'already_revoked');
    return toInfo(revoked);
  }

  /**
   * Who a request's bearer token acts as; undefined for anything else (malformed, unknown, revoked),
   * with no difference a caller could tell apart. Reads the store each time, so a token revoked by
   * another process (`flowdeck tokens revoke` beside a running serve) fails from its next request on.
   */
  async verify(plainToken: string): Promise<VerifiedToken | undefined> {
    if (!looksLikeToken(plainToken)) return undefined;
    const row = await this.repo.byHash(hashToken(plainToken));
    if (!row || row.revokedAt !== null || !tokenMatchesHash(plainToken, row.hash)) return undefined;
    const now = this.now();
    if (!this.ws.store.readonly && (row.lastUsedAt === null || now - row.lastUsedAt >= TOUCH_INTERVAL_MS)) {
      await this.repo.tryTouch(row.id, now, now - TOUCH_INTERVAL_MS + 1);
    }
    return { user: row.userEmail, tokenId: row.id };
  }

  /** Whether the token with this id exists and is not revoked (read anew each time). */
  async isActive(tokenId: number): Promise<boolean> {
    const row = await this.repo.byId(tokenId);
    return row !== undefined && row.revokedAt === null;
  }

  private async find(ref: string): Promise<TokenRow> {
    const text = ref.trim();
    if (!text) throw new InvalidInputError('name the token: its id, its name or its last 4 characters (flowdeck tokens list)');
    if (looksLikeToken(text)) {
      const row = await this.repo.byHash(hashToken(text));
      // The message shows what a list would, never the token given.
      if (!row) throw new NotFoundError('token', tokenHint(tokenLast4(text)));
      return row;
    }
    if (/^\d+$/.test(text)) {
      const row = await this.repo.byId(Number(text));
      if (row) return row;
    }
    const last4 = /^(?:fdk_)?…(.{4})$/.exec(text)?.[1];
    const candidates = last4 !== undefined ? await this.repo.activeByLast4(last4) : await this.repo.activeByName(text);
    if (candidates.length === 0 && last4 === undefined && text.length === 4) candidates.push(...(await this.repo.activeByLast4(text)));
    if (candidates.length === 1) return candidates[0]!;
    if (candidates.length > 1) {
      throw new InvalidInputError(`"${text}" names ${candidates.length} active tokens (${candidates.map(label).join('; ')}): revoke one by its id`, 'token');
    }
    const active = (await this.repo.list()).filter((r) => r.revokedAt === null);
    const known = active.length === 0 ? 'no active tokens' : `active: ${active.slice(0, 8).map((r) => `${r.id} "${r.name}"`).join(', ')}${active.length > 8 ? ', …' : ''}`;
    throw new NotFoundError('token', `${text} (${known})`);
  }
}

function checkName(name: string): string {
  const text = name.trim();
  if (!text) throw new InvalidInputError('a token name cannot be empty (--name laptop)', 'name');
  if (text.length > MAX_NAME) throw new InvalidInputError(`a token name has at most ${MAX_NAME} characters`, 'name');
  if (CONTROL.test(text)) throw new InvalidInputError('a token name cannot hold control characters', 'name');
  // `tokens revoke <ref>` reads digits as an id and `…abcd` as last 4 characters.
  if (/^\d+$/.test(text)) throw new InvalidInputError(`a token name cannot be all digits ("${text}" would read as a token id)`, 'name');
  if (text.includes('…') || text.startsWith('fdk_')) throw new InvalidInputError('a token name cannot hold "…" or start with "fdk_" (they read as a token)', 'name');
  return text;
}

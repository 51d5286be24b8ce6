import pg from 'pg';
import { LISTING_SCHEMA } from '../../src/store/postgres/listing-schema.js';
import { PoolSession } from '../../src/store/postgres/session.js';

// STAND-IN, for the listing's tests only: the tables the PostgreSQL listing reads, with the
// columns of SQLite's final schema (bigint epoch ms, booleans, errors.tags jsonb), until the
// store's own migration 1 (helper C1's) is merged; then these tests should use that instead and
// this file goes. Each test gets a throw-away database.

export const PG_URL = process.env.FLOWDECK_TEST_PG_URL;

const STAND_IN_SCHEMA = `
  CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL, name text, synthetic boolean NOT NULL DEFAULT false, created_at bigint NOT NULL);
  CREATE TABLE jobs (id bigint PRIMARY KEY, created_at bigint NOT NULL);
  CREATE TABLE retry_data (id bigint PRIMARY KEY, step bigint NOT NULL, created_at bigint NOT NULL, data jsonb NOT NULL);
  CREATE TABLE error_sigs (id bigint PRIMARY KEY, step bigint NOT NULL, code text NOT NULL, source text NOT NULL,
    classification text, template text NOT NULL, first_at bigint NOT NULL);
  CREATE TABLE errors (
    id bigint PRIMARY KEY, step bigint NOT NULL, resolved boolean NOT NULL DEFAULT false, occurred_at bigint NOT NULL,
    source text NOT NULL, code text NOT NULL, message text NOT NULL, o_index text, job bigint, trace_key text,
    classification text, classified_by text, trace bigint, retry_data bigint, purge_at bigint, retry_at bigint,
    tags jsonb, assignee text, assigned_by text, assignee_user bigint, resolved_at bigint, resolved_by text,
    retry_data_sec bigint, trace_sec bigint, sig bigint);
  CREATE TABLE error_tags (tag text NOT NULL, step bigint NOT NULL, resolved boolean NOT NULL, error bigint NOT NULL,
    PRIMARY KEY (tag, step, resolved, error));
  CREATE INDEX ix_error_tags_error ON error_tags (error);
`;

export interface PgTestDb {
  pool: pg.Pool;
  session: PoolSession;
  drop(): Promise<void>;
}

/** A fresh database `c2_<name>_<pid>` with the stand-in tables and the listing schema (migration 2). */
export async function createListingDb(name: string): Promise<PgTestDb> {
  const admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  const db = `c2_${name}_${process.pid}`;
  await admin.query(`DROP DATABASE IF EXISTS ${db}`);
  await admin.query(`CREATE DATABASE ${db}`);
  await admin.end();
  const url = new URL(PG_URL!);
  url.pathname = `/${db}`;
  const pool = new pg.Pool({ connectionString: url.toString(), max: 4 });
  await pool.query(STAND_IN_SCHEMA);
  await pool.query(LISTING_SCHEMA);
  return {
    pool,
    session: new PoolSession(pool),
    async drop() {
      await pool.end();
      const c = new pg.Client({ connectionString: PG_URL });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${db}`);
      await c.end();
    },
  };
}

/** Rows into a table in batches (columns named as in the rows). */
export async function insertRows(pool: pg.Pool, table: string, rows: ReadonlyArray<Record<string, unknown>>): Promise<void> {
  if (rows.length === 0) return;
  const columns = Object.keys(rows[0]!);
  for (let at = 0; at < rows.length; at += 500) {
    const batch = rows.slice(at, at + 500);
    const params: unknown[] = [];
    const values = batch.map((r) => `(${columns.map((c) => { params.push(r[c]); return `$${params.length}`; }).join(', ')})`);
    await pool.query(`INSERT INTO ${table} (${columns.join(', ')}) VALUES ${values.join(', ')}`, params);
  }
}

// The listing's indexes and text search on PostgreSQL (migration 2): written with the listing's
// SQL (errors.ts, error-query.ts of this folder), since each index is there for one of its walks.
// Every walk is newest-first by id within (step, resolved[, column]): the id ends each key, so the
// first page is a backward index scan that stops after `limit` rows, and a cursor is a seek.
//
// Text search: errors.search holds the message's runs of letters and digits ('simple': lower-cased,
// no stemming, no stop words), as SQLite's unicode61 tokenizer splits them; error-query.ts turns a
// word into a prefix query and words into a phrase, as ftsExpression does for FTS5. Where it
// differs from FTS5 (unicode61): accents are kept (café does not find cafe: unaccent is not
// immutable, so no generated column can use it); to_tsvector drops words over 2047 bytes and
// phrase positions stop at 16383, so a phrase deep in a huge message may be missed.
// A text search intersects the GIN bitmap with ix_errors_step and sorts the matches by id (FTS5
// walked the step's matches in id order): a word common on a big step is a top-N sort of them.
export const LISTING_SCHEMA = `
  ALTER TABLE errors ADD COLUMN search tsvector
    GENERATED ALWAYS AS (to_tsvector('simple'::regconfig, regexp_replace(message, '[^[:alnum:]]+', ' ', 'g'))) STORED;
  DROP INDEX IF EXISTS ix_errors_search;
  CREATE INDEX ix_errors_search ON errors USING gin (search);

  DROP INDEX IF EXISTS ix_errors_step;
  CREATE INDEX ix_errors_step ON errors (step, resolved, id);
  DROP INDEX IF EXISTS ix_errors_code;
  CREATE INDEX ix_errors_code ON errors (step, resolved, code, id);
  DROP INDEX IF EXISTS ix_errors_source;
  CREATE INDEX ix_errors_source ON errors (step, resolved, source, id);
  DROP INDEX IF EXISTS ix_errors_class;
  CREATE INDEX ix_errors_class ON errors (step, resolved, classification, id);
  -- assignee compares without case (SQLite's COLLATE NOCASE): the index is on what is compared.
  DROP INDEX IF EXISTS ix_errors_assignee;
  CREATE INDEX ix_errors_assignee ON errors (step, resolved, lower(assignee), id);
  DROP INDEX IF EXISTS ix_errors_sig;
  CREATE INDEX ix_errors_sig ON errors (step, resolved, sig, id);

  CREATE INDEX IF NOT EXISTS ix_error_tags_walk ON error_tags (tag, step, resolved, error);
`;

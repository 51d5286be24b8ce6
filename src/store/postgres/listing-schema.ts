// The listing's indexes and text search on PostgreSQL (migration 2): written with the listing's
// SQL (errors.ts, error-query.ts of this folder), since each index is there for one of its walks.
export const LISTING_SCHEMA = `SELECT 1`;

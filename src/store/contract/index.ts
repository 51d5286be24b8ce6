// The store contract: ports by concern, units of work, and the plain data they take and give.
export type * from './ports.js';
export type * from './store.js';
export type * from './queries.js';
export type * from './rows.js';
export type * from './bulk.js';
export type * from './checks.js';
export { SUPERSEDED_BY } from './rows.js';
export { SYNTHETIC_COLUMNS } from './bulk.js';
export { CSV_SLOTS } from './csv.js';

// The Backend contract: every operation's request and response types, apart from any implementation.

export type * from './backend.js';
export type * from './errors.js';
export type * from './flows.js';
export type * from './records.js';
export type * from './retry.js';
export type * from './triage.js';
export * from './limits.js';

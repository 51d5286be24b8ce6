// The contract's bounds, the same for every face: a backend caps what it is asked to these.

/** The longest a getJob long-poll (`waitMs`) waits: a server caps it, a client asks no more. */
export const MAX_JOB_WAIT_MS = 30_000;

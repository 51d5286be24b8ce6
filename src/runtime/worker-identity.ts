import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { WorkerIdentity } from '../store/contract/ports.js';

/** This process as a worker: unique across hosts and pid reuse; the owner of the retry items it claims. */
export const WORKER_IDENTITY: WorkerIdentity = { id: `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`, host: hostname(), pid: process.pid };

/** A worker whose heartbeat is older than this is gone. */
export const WORKER_STALE_MS = 15_000;

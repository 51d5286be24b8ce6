import { createRequire } from 'node:module';
import { MessageChannel, receiveMessageOnPort, Worker } from 'node:worker_threads';

// Synchronous SQL for the test helpers that make and drop a workspace's database: tempHome() and
// its cleanup are synchronous and called from ~50 places, so a worker thread runs the statement
// and this thread blocks on a shared flag until it is done (no child process per call).

const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const pg = require(workerData.pgPath);
const clients = new Map();
async function clientFor(url, lane) {
  const key = lane + ' ' + url;
  let client = clients.get(key);
  if (!client) {
    client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
    client.on('error', () => clients.delete(key));
    clients.set(key, client);
    try { await client.connect(); } catch (e) { clients.delete(key); throw e; }
  }
  return client;
}
parentPort.on('message', async ({ url, sql, keep, lane, done, reply }) => {
  let result;
  try {
    if (keep) {
      const r = await (await clientFor(url, lane)).query(sql);
      result = { ok: true, rows: r.rows ?? [] };
    } else {
      // A workspace's own database: no session left on it (CREATE DATABASE … TEMPLATE needs none).
      const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
      client.on('error', () => undefined);
      await client.connect();
      try {
        const r = await client.query(sql);
        result = { ok: true, rows: r.rows ?? [] };
      } finally {
        await client.end();
      }
    }
  } catch (e) {
    result = { ok: false, message: e && e.message ? e.message : String(e) };
  }
  reply.postMessage(result);
  Atomics.store(done, 0, 1);
  Atomics.notify(done, 0);
});
`;

let worker: Worker | undefined;

function sqlWorker(): Worker {
  if (!worker) {
    const pgPath = createRequire(import.meta.url).resolve('pg');
    worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { pgPath } });
    worker.unref(); // the test process may end while it idles
  }
  return worker;
}

/**
 * Runs one statement on `url` and returns its rows; throws with the server's message. `keep`: the
 * connection stays open for the next statement (for the server's `postgres` database, where the
 * helpers create and drop databases); otherwise it is closed after the statement.
 */
export function querySync(url: string, sql: string, { keep = false, lane = 'main', timeoutMs = 60_000 }: { keep?: boolean; lane?: string; timeoutMs?: number } = {}): Array<Record<string, unknown>> {
  const done = new Int32Array(new SharedArrayBuffer(4));
  const { port1, port2 } = new MessageChannel();
  try {
    sqlWorker().postMessage({ url, sql, keep, lane, done, reply: port2 }, [port2]);
    if (Atomics.wait(done, 0, 0, timeoutMs) === 'timed-out') throw new Error(`no answer from ${redact(url)} within ${timeoutMs} ms to: ${sql}`);
    const message = receiveMessageOnPort(port1)?.message as { ok: true; rows: Array<Record<string, unknown>> } | { ok: false; message: string } | undefined;
    if (!message) throw new Error(`no answer from the SQL worker to: ${sql}`);
    if (!message.ok) throw new Error(`${redact(url)}: ${message.message} (${sql})`);
    return message.rows;
  } finally {
    port1.close();
  }
}

/**
 * Starts one statement on `url` over the kept connection of `lane` and returns at once; its outcome
 * is not reported. A later querySync in the same lane runs after it (one connection, in order);
 * other lanes have connections of their own and do not wait for it.
 */
export function querySoon(url: string, sql: string, lane = 'main'): void {
  const { port1, port2 } = new MessageChannel();
  sqlWorker().postMessage({ url, sql, keep: true, lane, done: new Int32Array(new SharedArrayBuffer(4)), reply: port2 }, [port2]);
  port1.close();
}

/** The URL without its password, for messages. */
export function redact(url: string): string {
  return url.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@');
}

import { createRequire } from 'node:module';
import { MessageChannel, receiveMessageOnPort, Worker } from 'node:worker_threads';

// Synchronous SQL for the test helpers that make and drop a workspace's database: tempHome() and
// its cleanup are synchronous and called from ~50 places, so a worker thread runs the statement
// and this thread blocks on a shared flag until it is done (no child process per call).

const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const pg = require(workerData.pgPath);
const clients = new Map();
async function clientFor(url) {
  let client = clients.get(url);
  if (!client) {
    client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
    client.on('error', () => clients.delete(url));
    clients.set(url, client);
    try { await client.connect(); } catch (e) { clients.delete(url); throw e; }
  }
  return client;
}
parentPort.on('message', async ({ url, sql, keep, done, reply }) => {
  let result;
  try {
    if (keep) {
      const r = await (await clientFor(url)).query(sql);
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
export function querySync(url: string, sql: string, { keep = false, timeoutMs = 60_000 }: { keep?: boolean; timeoutMs?: number } = {}): Array<Record<string, unknown>> {
  const done = new Int32Array(new SharedArrayBuffer(4));
  const { port1, port2 } = new MessageChannel();
  try {
    sqlWorker().postMessage({ url, sql, keep, done, reply: port2 }, [port2]);
    if (Atomics.wait(done, 0, 0, timeoutMs) === 'timed-out') throw new Error(`no answer from ${redact(url)} within ${timeoutMs} ms to: ${sql}`);
    const message = receiveMessageOnPort(port1)?.message as { ok: true; rows: Array<Record<string, unknown>> } | { ok: false; message: string } | undefined;
    if (!message) throw new Error(`no answer from the SQL worker to: ${sql}`);
    if (!message.ok) throw new Error(`${redact(url)}: ${message.message} (${sql})`);
    return message.rows;
  } finally {
    port1.close();
  }
}

/** The URL without its password, for messages. */
export function redact(url: string): string {
  return url.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@');
}

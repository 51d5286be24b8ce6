import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, expect, it } from 'vitest';
import { spawnCli } from '../helpers/cli.js';
import { runFlowToEnd } from '../helpers/jobs.js';
import { openBackend, tempHome, writeFlowFile, type TempHome } from '../helpers/workspace.js';
import { storeAt } from '../helpers/store-at.js';
import { storeValue } from '../helpers/store-sql.js';

// `flowdeck worker` stopped (SIGTERM) while a retry job's requests are out: it waits the grace
// period, then ends — it does not wait for as long as the job takes — and the job, its outcomes so
// far committed, is re-queued by the next open.

let tmp: TempHome | undefined;
const held: ServerResponse[] = [];
let close: (() => Promise<void>) | undefined;

afterEach(async () => {
  for (const res of held.splice(0)) res.destroy();
  await close?.();
  tmp?.cleanup();
});

it('a stopped worker ends after its grace period, leaving the running job to resume at the next open', async () => {
  let hold = false;
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      if (req.url === '/source') {
        res.writeHead(200, { 'content-type': 'application/json' });
        return res.end(JSON.stringify({ records: [{ id: 'r1' }, { id: 'r2' }, { id: 'r3' }] }));
      }
      if (hold) return void held.push(res); // never answered while the worker runs
      res.writeHead(503, { 'content-type': 'application/json' });
      res.end('{"message":"unavailable"}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  close = () => new Promise<void>((resolve) => server.close(() => resolve()));
  const port = (server.address() as AddressInfo).port;
  tmp = tempHome();
  writeFlowFile(
    tmp.home,
    'f.yaml',
    `connections:
  - { name: T, http: { baseURI: "http://127.0.0.1:${port}" } }
exports:
  - { name: Source, _connectionId: T, http: { relativeURI: /source, response: { resourcePath: records } } }
imports:
  - { name: Sink, _connectionId: T, http: { relativeURI: "/sink/{{record.id}}" } }
flows:
  - { name: F, pageGenerators: [{ _exportId: Source }], pageProcessors: [{ type: import, _importId: Sink }] }
`,
  );
  const env = { FLOWDECK_HOME: tmp.home, FLOWDECK_USER: 'ops@acme.example', FLOWDECK_WORKER: 'off' };
  const backend = await openBackend(tmp.home, { ...process.env, ...env });
  let jobId: string;
  try {
    await runFlowToEnd(backend, 'F');
    hold = true;
    jobId = (await backend.retries.retry('F', 'Sink', { all: true }))!._id;
  } finally {
    await backend.close();
  }

  const worker = spawnCli(['worker', '--grace', '300ms'], env);
  let said = '';
  worker.stderr!.on('data', (c: Buffer) => (said += c.toString()));
  const exited = new Promise<number | null>((resolve) => worker.once('exit', (code) => resolve(code)));
  const until = Date.now() + 60_000;
  while (held.length < 3 && Date.now() < until) await new Promise((r) => setTimeout(r, 25));
  expect(held.length).toBe(3);
  worker.kill('SIGTERM');
  // Ends after the grace period although its requests are still out (the test's timeout is the bound).
  expect(await exited, said).toBe(143);
  // The log names the job by the id `jobs list` shows, not by its row number.
  expect(said).toContain(`running retry job ${jobId}`);
  expect(said).toMatch(/stopping with 1 retry job still running: they resume when flowdeck next opens the workspace/);

  const db = await storeAt(tmp.home);
  try {
    expect(await storeValue(db, 'SELECT status FROM jobs WHERE type = ? ORDER BY id DESC LIMIT 1', ['retry'])).toMatch(/running|retrying/);
    expect(Number(await storeValue(db, `SELECT count(*) FROM retry_items WHERE state = 'pending'`))).toBe(3);
    // No record was recorded as failing because the worker stopped: still one open error each.
    expect(Number(await storeValue(db, 'SELECT count(*) FROM errors WHERE resolved = false'))).toBe(3);
    // The next open re-queues it (its process is gone).
    const next = await openBackend(tmp.home, { ...process.env, ...env });
    try {
      expect((await next.getJob(jobId)).status).toBe('queued');
    } finally {
      await next.close();
    }
  } finally {
    await db.store.close();
  }
});

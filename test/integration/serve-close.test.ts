import { afterEach, expect, it } from 'vitest';
import { pathOf, ROUTES } from '../../src/backend/wire/routes.js';
import { encodeId } from '../../src/domain/ids.js';
import { FLOW, startServer, type TestServer } from '../helpers/serve.js';

// Closing the server (what SIGTERM does) answers the requests in flight: a follower's long-poll is
// answered at once with the job as it is, and closing waits for no one.

let server: TestServer | undefined;

afterEach(async () => {
  await server?.close();
});

it('answers a long-poll in flight at once when the server closes', async () => {
  server = await startServer();
  // A running flow job that makes no progress: its long-poll would wait its whole time.
  const createdAt = Date.now();
  const row = await server.local.ws.store.jobs.insertJob({ type: 'flow', status: 'running', flowId: (await server.local.resolveFlow(FLOW)).id, createdAt, triggeredBy: 'ana@acme.example' });
  const jobId = encodeId('job', row, createdAt);

  const arrived = new Promise<void>((resolve) => server!.app.server.once('request', () => resolve()));
  const following = server.call('GET', `${pathOf(ROUTES.getJob, { jobId })}?waitMs=25000`);
  await arrived;
  const started = Date.now();
  await server.app.close();
  const answer = await following;
  expect(answer.status).toBe(200);
  expect(answer.body).toMatchObject({ _id: jobId, status: 'running' });
  expect(Date.now() - started).toBeLessThan(10_000);
});

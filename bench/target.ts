import { startMockTarget } from '../src/mocks/systems.js';

// A bare HTTP target in a process of its own (so it gets its own core): answers every request with
// the status given as the first argument (default 200) and prints its URL on the first line.

const status = Number(process.argv[2] ?? 200);
const body = status >= 400 ? { errors: [{ code: 'service_unavailable', message: 'Target is temporarily unavailable, try again later' }] } : { ok: true };
const target = await startMockTarget({ status, body });
process.stdout.write(`${target.url}\n`);
const stop = () => {
  process.stderr.write(`target answered ${target.received()} requests with ${status}\n`);
  void target.close().then(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);

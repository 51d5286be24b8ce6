import { Command, Option } from 'commander';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Backend } from '../src/backend/contract/index.js';
import type { LocalBackend } from '../src/backend/local-backend.js';
import type { TokenService } from '../src/backend/tokens.js';
import type { ServerOptions } from '../src/server/app.js';
import { assertLocalProfile, openLocalBackend, type CommandIO } from '../src/cli/context.js';
import { parseDurationMs, parseNumberIn, parsePositiveInt } from '../src/cli/options.js';
import { InvalidInputError } from '../src/domain/errors.js';
import type { WorkerResult } from '../src/runtime/worker.js';
import { VERSION } from './index.js';

// `flowdeck serve`: the workspace over HTTP for a team. Each request acts as its token's user; the
// runtime's worker runs in this process for as long as the server does (queued retries, due
// automatic retries); SIGTERM/SIGINT stop accepting, let what is in flight finish within the grace
// period, stop the worker (an unfinished job resumes at the next start) and close the store.

const MIB = 1024 * 1024;
const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

function parsePort(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || n > 65535) throw new InvalidInputError(`--port must be a whole number from 0 (any free port) to 65535, got "${value}"`, 'port');
  return n;
}

/** "1048576", "512k", "1m" (KiB, MiB) → bytes. */
function parseBytes(value: string): number {
  const m = /^(\d+)(k|m)?$/i.exec(value.trim());
  const n = m ? Number(m[1]) * (m[2] ? (m[2].toLowerCase() === 'k' ? 1024 : MIB) : 1) : NaN;
  if (!m || n < 1 || n > 1024 * MIB) throw new InvalidInputError(`--body-limit must be a size like 1048576, 512k or 1m (at most 1024m), got "${value}"`, 'body-limit');
  return n;
}

interface ServeOptions {
  host: string;
  port: number;
  rateCapacity: number;
  rateRefill: number;
  bodyLimit: number;
  grace: number;
  /** false with --no-worker: this process runs no jobs. */
  worker: boolean;
}

export function serveCommand(io: CommandIO): Command {
  return new Command('serve')
    .description("serve the workspace over HTTP to a team: the Flows API, each request acting as its token's user")
    .option('--host <host>', 'the address to listen on (anything but loopback carries tokens in clear text: put TLS in front)', '127.0.0.1')
    .option('--port <port>', 'the port to listen on (0: any free port, printed at start)', parsePort, 7700)
    .option('--rate-capacity <n>', 'requests a token may make in a burst', parsePositiveInt('rate-capacity', 1_000_000_000), 1000)
    .option('--rate-refill <n>', 'requests per second given back to each token', parseNumberIn('rate-refill', 0.000001, 1_000_000_000), 300)
    .addOption(new Option('--body-limit <size>', 'largest request body, in bytes (or 512k, 1m)').argParser(parseBytes).default(MIB, '1m'))
    .addOption(
      new Option('--grace <duration>', 'on SIGTERM/SIGINT, how long requests in flight and running jobs may take to finish').argParser(parseDurationMs('grace')).default(10_000, '10s'),
    )
    .option('--no-worker', 'run no jobs in this process: queued and due automatic retries are left to `flowdeck worker` (on this machine or, with a shared store, others)')
    .action(async (opts: ServeOptions) => {
      const [{ buildServer }, { TokenService }, { runWorker }] = await Promise.all([
        import('../src/server/app.js'),
        import('../src/backend/tokens.js'),
        import('../src/runtime/worker.js'),
      ]);
      // The workspace is served where it is: a remote profile has nothing to serve.
      await assertLocalProfile(io.env, 'flowdeck serve');
      const log = (line: string) => void io.stderr.write(`${line}\n`);
      // Opening re-queues jobs of dead processes and would start a background worker for them: this
      // process is the worker, so none is started while it opens the workspace.
      const env: NodeJS.ProcessEnv = { ...io.env, FLOWDECK_WORKER: 'off' };
      const local = await openLocalBackend(env, (line) => io.stderr.write(line));
      const stopWorker = new AbortController();
      // A read-only workspace is served for reading: no worker (it could not record anything).
      const worker: Promise<WorkerResult | 'read-only' | 'no-worker'> = local.ws.readonly
        ? Promise.resolve('read-only')
        : !opts.worker
          ? Promise.resolve('no-worker')
          : runWorker(local.ws, local.runtime, {
            exitWhenIdle: false,
            signal: stopWorker.signal,
            graceMs: opts.grace,
            log: (line) => log(`${new Date().toISOString()} worker: ${line}`),
          });
      // From here on this process's worker runs the queue (also with FLOWDECK_WORKER=off given: a
      // serve is its workspace's worker), so a long-poll never runs a job beside it.
      // With --no-worker, jobs are run where they always are without a serve: by a `flowdeck worker`
      // (started on demand unless FLOWDECK_WORKER=off says it is started by hand).
      if ((!local.ws.readonly && opts.worker) || io.env.FLOWDECK_WORKER === undefined) delete env.FLOWDECK_WORKER;
      else env.FLOWDECK_WORKER = io.env.FLOWDECK_WORKER;

      const app = await buildServer({
        ...workspaceAccess(local, new TokenService(local.ws)),
        rateLimit: { capacity: opts.rateCapacity, refillPerSecond: opts.rateRefill },
        bodyLimit: opts.bodyLimit,
        log,
        version: VERSION,
      });

      let onSignal: (signal: NodeJS.Signals) => void = () => undefined;
      const stopped = new Promise<NodeJS.Signals>((resolve) => (onSignal = resolve));
      // on, not once: a second signal while stopping must not fall through to the default (an abrupt exit).
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      try {
        try {
          await app.listen({ host: opts.host, port: opts.port });
        } catch (e) {
          stopWorker.abort();
          await worker;
          await local.close();
          const err = e as NodeJS.ErrnoException;
          if (err.code === 'EADDRINUSE') throw new InvalidInputError(`port ${opts.port} of ${opts.host} is in use (another flowdeck serve?): choose another --port`, 'port');
          if (err.code === 'EADDRNOTAVAIL' || err.code === 'ENOTFOUND') throw new InvalidInputError(`cannot listen on ${opts.host}: no such address on this machine`, 'host');
          throw e;
        }
        const { port } = app.server.address() as AddressInfo;
        const shownHost = opts.host.includes(':') ? `[${opts.host}]` : opts.host;
        if (!LOOPBACK.has(opts.host)) log(`flowdeck serve: warning: ${opts.host} is not a loopback address; tokens travel in clear text over http: put a TLS proxy in front`);
        // Last of the start lines: whoever waits for the server to be ready reads this one.
        log(`flowdeck serve: listening on http://${shownHost}:${port} (workspace ${local.ws.home})`);
        const early = await Promise.race([worker, sleep(0, 'running' as const)]);
        if (early === 'another-worker') log('flowdeck serve: another flowdeck worker runs this workspace: queued and automatic retries run there');
        if (early === 'read-only') log('flowdeck serve: the workspace is read-only: serving it for reading, with no worker');
        if (early === 'no-worker') log('flowdeck serve: --no-worker: queued and automatic retries are run by flowdeck worker, not by this process');

        const signal = await stopped;
        log(`flowdeck serve: ${signal}: stopping (requests in flight and running jobs get ${opts.grace / 1000} s)`);
        stopWorker.abort();
        const graceEnds = Date.now() + opts.grace;
        const graceTimer = new AbortController();
        const late = sleep(opts.grace, 'late' as const, { signal: graceTimer.signal }).catch(() => 'closed' as const);
        const closed = await Promise.race([app.close().then(() => 'closed' as const), late]);
        // The timer must not keep the process alive once everything is closed.
        graceTimer.abort();
        if (closed === 'late') {
          log('flowdeck serve: requests still in flight after the grace period: closing their connections');
          app.server.closeAllConnections();
        }
        const result = await worker;
        // Jobs still running past the grace period: end here, as `flowdeck worker` does, rather than
        // close the HTTP pools under them; what they committed stays and the next start resumes them.
        if (result === 'interrupted') process.exit(143);
        // Flow runs started over the API finish before the store closes, within what is left of the grace.
        const storeTimer = new AbortController();
        const storeLate = sleep(Math.max(0, graceEnds - Date.now()), 'late' as const, { signal: storeTimer.signal }).catch(() => 'closed' as const);
        const storeClosed = await Promise.race([local.close().then(() => 'closed' as const), storeLate]);
        storeTimer.abort();
        if (storeClosed === 'late') {
          log('flowdeck serve: flow runs still going after the grace period: ending as a kill would (what they committed stays)');
          process.exit(143);
        }
        log('flowdeck serve: stopped');
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
    });
}

/**
 * How a server reaches the workspace: the same workspace and runtime for everyone, each request's
 * backend acting as its token's user (one per user, made on first use).
 */
export function workspaceAccess(local: LocalBackend, tokens: TokenService): Pick<ServerOptions, 'backendFor' | 'verifyToken' | 'tokenActive'> {
  const backends = new Map<string, Backend>();
  return {
    backendFor: (user) => {
      const known = backends.get(user);
      if (known) return known;
      const backend = local.actingAs(user);
      backends.set(user, backend);
      return backend;
    },
    verifyToken: async (token) => tokens.verify(token),
    tokenActive: async (tokenId) => typeof tokenId === 'number' && (await tokens.isActive(tokenId)),
  };
}

import { Command } from 'commander';
import { withLocalBackend, type CommandIO } from '../src/cli/context.js';
import { parseDurationMs } from '../src/cli/options.js';

export function workerCommand(io: CommandIO): Command {
  return new Command('worker')
    .description('run the runtime in the foreground: queued retry jobs and due automatic retries')
    .option('--exit-when-idle', 'stop once nothing is queued or due soon')
    .option('--grace <duration>', 'on SIGTERM/SIGINT, how long running jobs may take to finish before the worker stops (they resume at the next start)', parseDurationMs('grace'), 10_000)
    .action(async (opts: { exitWhenIdle?: boolean; grace: number }) => {
      const { runWorker } = await import('../src/runtime/worker.js');
      // This process is the worker: opening the workspace (which re-queues jobs of dead processes)
      // must not start another one.
      await withLocalBackend({ ...io, env: { ...io.env, FLOWDECK_WORKER: 'off' } }, 'flowdeck worker', async (backend) => {
        const controller = new AbortController();
        const stop = () => controller.abort();
        // on, not once: with no listener of ours left when the signal comes, the signal-exit handler
        // that conf's file writer installs re-raises it, and the process dies before stopping.
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
        try {
          const result = await runWorker(backend.ws, backend.runtime, {
            exitWhenIdle: opts.exitWhenIdle === true,
            signal: controller.signal,
            graceMs: opts.grace,
            log: (line) => io.stderr.write(`${new Date().toISOString()} ${line}\n`),
          });
          if (result === 'another-worker') io.stderr.write('Another flowdeck worker is already running for this workspace.\n');
          // Jobs still running past the grace period: end here, as a kill would, rather than close the
          // HTTP pools under them (their requests would fail and be recorded as the records' failures).
          // What they committed stays; the next open re-queues them.
          if (result === 'interrupted') process.exit(143);
        } finally {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
        }
      });
    });
}

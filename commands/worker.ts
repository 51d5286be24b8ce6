import { Command } from 'commander';
import { withBackend, type CommandIO } from '../src/cli/context.js';

export function workerCommand(io: CommandIO): Command {
  return new Command('worker')
    .description('run the runtime in the foreground: queued retry jobs and due automatic retries')
    .option('--exit-when-idle', 'stop once nothing is queued or due soon')
    .action(async (opts: { exitWhenIdle?: boolean }) => {
      const { runWorker } = await import('../src/runtime/worker.js');
      // This process is the worker: opening the workspace (which re-queues jobs of dead processes)
      // must not start another one.
      await withBackend({ ...io.env, FLOWDECK_WORKER: 'off' }, async (backend) => {
        const controller = new AbortController();
        const stop = () => controller.abort();
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
        try {
          const result = await runWorker(backend.ws, backend.runtime, {
            exitWhenIdle: opts.exitWhenIdle === true,
            signal: controller.signal,
            log: (line) => io.stderr.write(`${new Date().toISOString()} ${line}\n`),
          });
          if (result === 'another-worker') io.stderr.write('Another flowdeck worker is already running for this workspace.\n');
        } finally {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
        }
      });
    });
}

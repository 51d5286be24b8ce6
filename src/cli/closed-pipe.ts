// A reader that stops early (`| head`, `| true`) closes the pipe under stdout: that is not a failure
// of the command. The one place that knows: an EPIPE on stdout or stderr ends the process at once,
// quietly, with the exit code so far (0 unless something already failed). Nothing is lost by
// stopping there: what a command changes is committed before it prints, and a job cut short is
// resumed by the next flowdeck that opens the workspace.

export function isClosedPipe(error: unknown): boolean {
  return (error as NodeJS.ErrnoException | undefined)?.code === 'EPIPE';
}

type Exit = (code: number) => void;

/** Installs the handler on the process's standard streams (once; later calls do nothing). */
export function endQuietlyOnClosedPipe(streams: readonly NodeJS.WritableStream[] = [process.stdout, process.stderr], exit: Exit = (code) => process.exit(code)): void {
  for (const stream of streams) {
    const marked = stream as NodeJS.WritableStream & { flowdeckPipeGuard?: boolean };
    if (marked.flowdeckPipeGuard) continue;
    marked.flowdeckPipeGuard = true;
    stream.on('error', (error: unknown) => {
      if (isClosedPipe(error)) return exit(typeof process.exitCode === 'number' ? process.exitCode : 0);
      // Any other failure of a standard stream cannot be reported on it: leave quietly with 1.
      exit(1);
    });
  }
}

import { parentPort, workerData } from 'node:worker_threads';
import { RowFactory, type FactorySpec } from './generate-rows.js';

// The worker thread of generateErrors: builds the rows, `chunk` at a time and in order, while the
// main thread writes earlier ones. Each message from the main thread is a credit for that many more
// chunks, so the worker never runs far ahead of the writer.

const { spec, chunk } = workerData as { spec: FactorySpec; chunk: number };
const factory = new RowFactory(spec);
let done = 0;
let credits = 0;
let scheduled = false;

function work(): void {
  scheduled = false;
  if (credits <= 0 || done >= spec.n) return;
  credits--;
  done = Math.min(spec.n, done + chunk);
  parentPort!.postMessage(factory.batch(done));
  schedule();
}

function schedule(): void {
  // One chunk per turn of the event loop, so new credits are read in between.
  if (!scheduled && credits > 0 && done < spec.n) {
    scheduled = true;
    setImmediate(work);
  }
}

parentPort!.on('message', (more: number) => {
  credits += more;
  schedule();
});

import { parentPort, workerData } from 'node:worker_threads';
import { Redactor } from '../domain/mask.js';
import { HttpClient } from './http.js';
import { RecordSender, type FromSenderThread, type SenderThreadData, type ToSenderThread } from './record-sender.js';

// Entry of a retry's sender thread (see senderThread in record-sender.ts): a RecordSender on HTTP
// pools of its own, driven by messages from the job's thread.

const port = parentPort!;
const { steps, options, secrets, secretHeaders } = workerData as SenderThreadData;
const redactor = new Redactor(secrets, secretHeaders);
const http = new HttpClient(redactor);
const send = (m: FromSenderThread) => port.postMessage(m);
const sender = new RecordSender(
  steps,
  http,
  redactor,
  options,
  (results, clean, drained) => send({ type: 'results', results, clean, drained }),
  (e) => send({ type: 'error', message: e.message, ...(e.stack ? { stack: e.stack } : {}) }),
);
port.on('message', (m: ToSenderThread) => {
  if (m.type === 'push') sender.push(m.items);
  else sender.cancel(m.abortInFlight);
});

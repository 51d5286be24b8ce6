import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

// A target on 127.0.0.1 whose requests the test holds and releases: a retried record (or a run's
// record) is out exactly while the test does something else. GETs answer one order, K-1.

export const GATED_FLOW = 'Gated orders';
export const GATED_STEP = 'Sales orders';
/** One flow: export the target's orders (GET), import each (POST) one at a time; {{env.TARGET}} is the target's url. */
export const GATED_FLOWS_YAML = `
connections:
  - name: Target
    http: { baseURI: "{{env.TARGET}}", concurrency: 1, timeoutMs: 120000 }
exports:
  - name: Orders
    _connectionId: Target
    http: { relativeURI: /orders }
imports:
  - name: ${GATED_STEP}
    _connectionId: Target
    http: { method: POST, relativeURI: /salesOrders }
    mapping:
      fields:
        - { extract: id, generate: orderNumber, required: true }
flows:
  - name: ${GATED_FLOW}
    logging: { mode: full }
    pageGenerators: [{ _exportId: Orders }]
    pageProcessors: [{ type: import, _importId: ${GATED_STEP} }]
`;

/** A target whose POSTs answer at once, or are held until release() when hold() was called. */
export interface GatedTarget {
  url: string;
  /** Bodies of the POSTs received, in order. */
  posts: string[];
  hold(): void;
  /** Resolves once `n` requests are held. */
  held(n?: number): Promise<void>;
  release(status: number): void;
  close(): Promise<void>;
}

function answer(res: ServerResponse, status: number, body: unknown): void {
  const payload = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) });
  res.end(payload);
}

const replyOf = (status: number) => (status < 300 ? { ok: true } : { errors: [{ code: 'unavailable', message: 'service unavailable, try again' }] });

export async function gatedTarget(): Promise<GatedTarget> {
  let holding = false;
  const waiting: ServerResponse[] = [];
  let notify: Array<() => void> = [];
  const posts: string[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.method === 'GET') return answer(res, 200, [{ id: 'K-1' }]);
      posts.push(Buffer.concat(chunks).toString('utf8'));
      if (!holding) return answer(res, 503, replyOf(503));
      waiting.push(res);
      for (const n of notify.splice(0)) n();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    posts,
    hold: () => {
      holding = true;
    },
    held: async (n = 1) => {
      while (waiting.length < n) await new Promise<void>((resolve) => notify.push(resolve));
    },
    release: (status) => {
      holding = false;
      for (const res of waiting.splice(0)) answer(res, status, replyOf(status));
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const res of waiting.splice(0)) res.destroy();
        notify = [];
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

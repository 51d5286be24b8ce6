import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

// A target on 127.0.0.1 for many workers at once. Its export answers `records` records; its import
// either fails every record (422, a data error: no automatic retry) or accepts it after a short
// latency (so that requests of several workers overlap), and keeps every request it received: the
// record, which process sent it (the client socket's owner, looked up in /proc), whether it was
// answered, and how many requests for the same record were in flight when it arrived.

export const COUNTING_FLOW = 'Records to target';
export const COUNTING_STEP = 'Target records';

/** {{env.TARGET}} is the target's url. */
export const COUNTING_FLOWS_YAML = `
connections:
  - name: Target
    http: { baseURI: "{{env.TARGET}}", concurrency: 8, timeoutMs: 120000 }
exports:
  - name: Records
    _connectionId: Target
    http: { relativeURI: /records }
imports:
  - name: ${COUNTING_STEP}
    _connectionId: Target
    http: { method: POST, relativeURI: /records }
    mapping:
      fields:
        - { extract: id, generate: recordId, required: true }
flows:
  - name: ${COUNTING_FLOW}
    pageGenerators: [{ _exportId: Records }]
    pageProcessors: [{ type: import, _importId: ${COUNTING_STEP} }]
`;

export interface TargetRequest {
  record: string;
  /** The sending process, or undefined when its socket was not found among `senders`. */
  pid: number | undefined;
  receivedAt: number;
  /** 'answered': the whole 2xx (or 422) went out; 'dropped': the client went away first. */
  state: 'in-flight' | 'answered' | 'dropped';
  status: number;
  /** Requests for the same record in flight when this one arrived (0 when none). */
  concurrent: number;
}

export interface CountingTarget {
  url: string;
  requests: TargetRequest[];
  /** 'fail': every import request is answered 422; 'accept': 200 after `latencyMs`. */
  mode: 'fail' | 'accept';
  /** The processes whose sockets requests are attributed to (the workers). */
  senders: number[];
  /** Import requests answered 200 so far. */
  accepted(): number;
  close(): Promise<void>;
}

export const recordId = (i: number) => `R-${String(i).padStart(6, '0')}`;

const hexEndpoint = (port: number) => `0100007F:${port.toString(16).toUpperCase().padStart(4, '0')}`;

/**
 * The inode of the live client socket 127.0.0.1:`clientPort` → 127.0.0.1:`serverPort`, from
 * /proc/net/tcp (IPv4). Both ends are matched: an ephemeral port is reused towards other servers
 * (the database), and closed connections linger there in TIME_WAIT with inode 0.
 */
function clientSocketInode(clientPort: number, serverPort: number): string | undefined {
  const local = hexEndpoint(clientPort);
  const remote = hexEndpoint(serverPort);
  for (const line of readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1)) {
    const cols = line.trim().split(/\s+/);
    if (cols[1] === local && cols[2] === remote && cols[9] !== '0') return cols[9];
  }
  return undefined;
}

function ownerOf(socket: Socket, senders: readonly number[]): number | undefined {
  const inode = socket.remotePort === undefined || socket.localPort === undefined ? undefined : clientSocketInode(socket.remotePort, socket.localPort);
  if (!inode) return undefined;
  const link = `socket:[${inode}]`;
  for (const pid of senders) {
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue; // ended
    }
    for (const fd of fds) {
      try {
        if (readlinkSync(`/proc/${pid}/fd/${fd}`) === link) return pid;
      } catch {
        // closed meanwhile
      }
    }
  }
  return undefined;
}

function answer(res: ServerResponse, status: number, body: unknown): void {
  const payload = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) });
  res.end(payload);
}

export async function countingTarget(records: number, latencyMs = 2): Promise<CountingTarget> {
  const requests: TargetRequest[] = [];
  const inFlight = new Map<string, number>();
  const owners = new WeakMap<Socket, number | undefined>();
  let accepted = 0;
  const target: CountingTarget = {
    url: '',
    requests,
    mode: 'fail',
    senders: [],
    accepted: () => accepted,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.method === 'GET') return answer(res, 200, Array.from({ length: records }, (_, i) => ({ id: recordId(i) })));
      const record = String((JSON.parse(Buffer.concat(chunks).toString('utf8')) as { recordId?: unknown }).recordId);
      // A connection is attributed once, when its first request arrives (keep-alive reuses it).
      if (!owners.has(req.socket)) owners.set(req.socket, ownerOf(req.socket, target.senders));
      const entry: TargetRequest = { record, pid: owners.get(req.socket), receivedAt: Date.now(), state: 'in-flight', status: 0, concurrent: inFlight.get(record) ?? 0 };
      requests.push(entry);
      inFlight.set(record, entry.concurrent + 1);
      let settled = false;
      const settle = (state: 'answered' | 'dropped') => {
        if (settled) return;
        settled = true;
        entry.state = state;
        const left = (inFlight.get(record) ?? 1) - 1;
        if (left === 0) inFlight.delete(record);
        else inFlight.set(record, left);
      };
      res.once('finish', () => settle('answered'));
      res.once('close', () => settle('dropped')); // after 'finish' this changes nothing
      if (target.mode === 'fail') {
        entry.status = 422;
        return answer(res, 422, { errors: [{ code: 'invalid_record', message: `record ${record} is refused` }] });
      }
      setTimeout(() => {
        if (res.destroyed) return;
        entry.status = 200;
        res.once('finish', () => accepted++);
        answer(res, 200, { ok: true, id: record });
      }, latencyMs);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  target.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return target;
}

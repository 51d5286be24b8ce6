import type { FastifyInstance } from 'fastify';
import type { AddressInfo } from 'node:net';
import { request } from 'undici';
import { LocalBackend } from '../../src/backend/local-backend.js';
import { TokenService } from '../../src/backend/tokens.js';
import { encodeId } from '../../src/domain/ids.js';
import { buildServer } from '../../src/server/app.js';
import { workspaceAccess } from '../../commands/serve.js';
import type { StepRow } from '../../src/store/contract/rows.js';
import { seedDemoWorkspace } from '../../src/workspace/demo.js';
import { expectSpecShape } from './spec-routes.js';
import { tempHome, type TempHome } from './workspace.js';

// A real `flowdeck serve` app on 127.0.0.1 (port 0) over a seeded demo workspace, with real tokens
// for two users, and a client (undici) that checks every answer against the spec as it comes.

export const ANA = 'ana@acme.example';
export const BEN = 'ben@acme.example';
export const FLOW = 'Shop orders to ERP';
export const STEP = 'ERP sales orders';

export interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** Parsed JSON when the answer is JSON, the text otherwise; undefined when empty. */
  body: unknown;
  text: string;
}

export interface CallOptions {
  token?: string | null;
  body?: unknown;
  /** Sent as is, with its own content type. */
  raw?: { text: string; type: string };
  headers?: Record<string, string>;
}

export interface TestServer {
  url: string;
  tmp: TempHome;
  local: LocalBackend;
  app: FastifyInstance;
  tokens: { ana: string; ben: string };
  tokenService: TokenService;
  logs: string[];
  call(method: string, path: string, options?: CallOptions): Promise<Answer>;
  close(): Promise<void>;
}

export interface StartOptions {
  rateLimit?: { capacity: number; refillPerSecond: number };
  bodyLimit?: number;
}

export async function startServer(options: StartOptions = {}): Promise<TestServer> {
  const tmp = tempHome('flowdeck-serve-');
  // No background worker from the tests: queued jobs stay queued unless a test runs them.
  const local = new LocalBackend(await seedDemoWorkspace(tmp.home, { ...process.env, FLOWDECK_USER: 'serve.operator@acme.example', FLOWDECK_WORKER: 'off' }));
  const tokenService = new TokenService(local.ws);
  const tokens = { ana: (await tokenService.create(ANA, 'laptop')).token, ben: (await tokenService.create(BEN, 'laptop')).token };
  const logs: string[] = [];
  const app = await buildServer({
    ...workspaceAccess(local, tokenService),
    rateLimit: options.rateLimit ?? { capacity: 1000, refillPerSecond: 300 },
    bodyLimit: options.bodyLimit ?? 1024 * 1024,
    log: (line) => logs.push(line),
    version: 'test',
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;

  async function call(method: string, path: string, opts: CallOptions = {}): Promise<Answer> {
    const headers: Record<string, string> = { ...opts.headers };
    const token = opts.token === undefined ? tokens.ana : opts.token;
    if (token !== null) headers.authorization = `Bearer ${token}`;
    let body: string | undefined;
    if (opts.raw) {
      body = opts.raw.text;
      headers['content-type'] = opts.raw.type;
    } else if (opts.body !== undefined) {
      body = JSON.stringify(opts.body);
      headers['content-type'] = 'application/json';
    }
    const res = await request(`${url}${path}`, { method: method as 'GET', headers, body });
    const text = await res.body.text();
    const type = String(res.headers['content-type'] ?? '');
    const parsed = text === '' ? undefined : type.includes('application/json') ? (JSON.parse(text) as unknown) : text;
    if (type.includes('application/json') || text === '') expectSpecShape(method, path, res.statusCode, parsed);
    return { status: res.statusCode, headers: res.headers, body: parsed, text };
  }

  return {
    url,
    tmp,
    local,
    app,
    tokens,
    tokenService,
    logs,
    call,
    async close() {
      await app.close();
      await local.close();
      tmp.cleanup();
    },
  };
}

/** Inserts `n` open errors on the step (each with a snapshot), oldest first; returns their errorIds, newest first. */
export async function insertErrors(local: LocalBackend, step: StepRow, n: number): Promise<string[]> {
  const base = Date.now() - 60_000;
  const ids: string[] = [];
  await local.ws.store.withTransaction(async (tx) => {
    for (let i = 0; i < n; i++) {
      const at = base + i;
      const retryData = await tx.records.insertRetryData({ step: step.key, createdAt: at, stage: 'import', data: { id: `SO-${i}` } });
      const id = await tx.errors.insertError({ step: step.key, occurredAt: at, source: 'application', code: '422', message: `record ${i} has no valid email`, classification: 'value', classifiedBy: 'rule', retryData });
      ids.push(encodeId('error', id, at));
    }
  });
  return ids.reverse();
}

/** The demo's ERP import step, as the store has it. */
export async function demoStep(local: LocalBackend): Promise<StepRow> {
  const { catalog } = local.ws.store;
  const flow = (await catalog.listFlows()).find((f) => f.name === FLOW)!;
  return (await catalog.steps(flow.id)).find((s) => s.name === STEP)!;
}

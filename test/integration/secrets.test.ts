import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { LocalBackend } from '../../src/backend/local-backend.js';
import { decodeId } from '../../src/domain/ids.js';
import { MASK } from '../../src/domain/mask.js';
import { runInProcess } from '../helpers/in-process.js';
import { renderTui } from '../helpers/render.js';
import { runFlowToEnd } from '../helpers/jobs.js';
import { openBackend, tempHome, writeFlowFile } from '../helpers/workspace.js';
import { storeRows, storeValue } from '../helpers/store-sql.js';
import type { Store } from '../../src/store/contract/store.js';
import { testStore } from '../helpers/store.js';

// Secrets are resolved in memory only. After flows that fail (so traces, messages, retry data and
// execution logs are all written), no byte of the store may hold a secret: not the env-provided
// ones, not a hard-coded one in the flow file, not even when a target echoes them back.

const HARDCODED = 'hardcoded-secret-1234567';
const secret = (prefix: string) => `${prefix}${randomBytes(24).toString('hex')}`;

let backend: LocalBackend | undefined;
let echo: Server | undefined;
const cleanups: Array<() => void> = [];

afterEach(async () => {
  await backend?.close();
  backend = undefined;
  if (echo) {
    const server = echo;
    echo = undefined;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }
  while (cleanups.length) cleanups.pop()!();
});

/** A target that rejects every record with 400 and echoes the request's headers and URL. */
async function startEcho(seen: IncomingHttpHeaders[]): Promise<string> {
  echo = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      seen.push(req.headers);
      const body = JSON.stringify({ errors: [{ code: 'rejected', message: 'record rejected' }], echo: { url: req.url, headers: req.headers } });
      res.writeHead(400, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    });
  });
  await new Promise<void>((resolve) => echo!.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(echo.address() as AddressInfo).port}`;
}

function flowsYaml(echoUrl: string): string {
  return `connections:
  - name: Shop
    http:
      baseURI: "{{mocks.shop}}"
      headers:
        - name: x-api-key
          value: "{{env.FLOWDECK_TEST_SHOP_KEY}}"
  - name: ERP
    http:
      baseURI: "{{mocks.erp}}"
      headers:
        - name: x-api-key
          value: "{{env.FLOWDECK_TEST_KEY}}"
        - name: x-client
          value: "client-{{env.FLOWDECK_TEST_CLIENT}}"
      auth: { type: bearer, token: "{{env.FLOWDECK_TEST_TOKEN}}" }
  - name: Echo
    http:
      baseURI: "${echoUrl}"
      headers:
        - name: X-Auth-Token
          value: ${HARDCODED}
        - name: x-api-key
          value: "{{env.FLOWDECK_TEST_KEY}}"
      auth: { type: basic, username: svc-flowdeck, password: "{{env.FLOWDECK_TEST_PASSWORD}}" }

exports:
  - name: Orders
    _connectionId: Shop
    http:
      relativeURI: /orders
      paging: { method: page, pageSize: 40, maxPages: 2 }
      response: { resourcePath: orders }

imports:
  - name: ERP sales orders
    _connectionId: ERP
    http: { method: POST, relativeURI: /salesOrders }
    mapping:
      fields:
        - { extract: id, generate: orderNumber, required: true }
        - { extract: customer.email, generate: email }
        - { extract: currency, generate: currency }
      lists:
        - generate: lines
          extract: items
          fields:
            - { extract: sku, generate: sku }
            - { extract: quantity, generate: quantity }
  - name: Echo orders
    _connectionId: Echo
    http: { method: POST, relativeURI: "/echo/{{record.id}}" }

flows:
  - name: Orders with secrets
    logging: { mode: full }
    pageGenerators:
      - _exportId: Orders
    pageProcessors:
      - { type: import, _importId: ERP sales orders, proceedOnFailure: true }
      - { type: import, _importId: Echo orders }
`;
}

/** Every file of the store (the database, its WAL and shared memory), as bytes. */
function storeFiles(home: string): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  for (const name of readdirSync(home)) {
    if (name.startsWith('flowdeck.db')) files.set(name, readFileSync(join(home, name)));
  }
  expect(files.has('flowdeck.db')).toBe(true);
  return files;
}

/**
 * What the store holds: on SQLite its files at rest (flowdeck.db and its -wal), on PostgreSQL every
 * table of the workspace's database as text (its files are the server's).
 */
async function storeContents(home: string, owner: { store: Store }): Promise<Map<string, Buffer>> {
  if (testStore() !== 'postgres') return storeFiles(home);
  const tables = await storeRows<{ name: string }>(owner, `SELECT table_name AS name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'`);
  expect(tables.map((t) => t.name)).toContain('traces');
  const contents = new Map<string, Buffer>();
  for (const { name } of tables) {
    const text = await storeValue<string>(owner, `SELECT coalesce(string_agg(t::text, E'\\n'), '') FROM "${name}" t`);
    contents.set(name, Buffer.from(text, 'utf8'));
  }
  return contents;
}

function leaks(files: Map<string, Buffer>, secrets: string[]): string[] {
  const found: string[] = [];
  for (const [name, bytes] of files) {
    for (const s of secrets) {
      for (const encoding of ['utf8', 'latin1', 'utf16le'] as const) {
        if (bytes.includes(Buffer.from(s, encoding))) found.push(`${name} holds ${s} (${encoding})`);
      }
    }
  }
  return found;
}

describe('secrets never reach the store', () => {
  it('env secrets, a hard-coded header and echoed values are masked everywhere', async () => {
    const env = {
      FLOWDECK_TEST_SHOP_KEY: secret('shopkey'),
      FLOWDECK_TEST_KEY: secret('apikey'),
      FLOWDECK_TEST_TOKEN: secret('bearer'),
      FLOWDECK_TEST_CLIENT: secret('client'),
      FLOWDECK_TEST_PASSWORD: secret('pw'),
    };
    const basic = Buffer.from(`svc-flowdeck:${env.FLOWDECK_TEST_PASSWORD}`).toString('base64');
    const secrets = [...Object.values(env), `client-${env.FLOWDECK_TEST_CLIENT}`, basic, HARDCODED];

    const seen: IncomingHttpHeaders[] = [];
    const echoUrl = await startEcho(seen);
    const t = tempHome();
    cleanups.push(t.cleanup);
    const flowFile = writeFlowFile(t.home, 'secrets.yaml', flowsYaml(echoUrl));
    backend = await openBackend(t.home, { ...process.env, ...env });
    backend.ws.config.set('demo', true);

    const job = await runFlowToEnd(backend, 'Orders with secrets');
    expect(job.status).toBe('completed');
    expect(job.numExport).toBe(80);

    // The secrets really were on the wire (so their absence below means something).
    expect(seen).toHaveLength(80);
    expect(seen[0]!['x-auth-token']).toBe(HARDCODED);
    expect(seen[0]!['x-api-key']).toBe(env.FLOWDECK_TEST_KEY);
    expect(seen[0]!.authorization).toBe(`Basic ${basic}`);
    expect(readFileSync(flowFile, 'utf8')).toContain(HARDCODED);

    // Everything that may leak was written.
    const count = async (table: string) => Number(await storeValue(backend!.ws, `SELECT count(*) FROM ${table}`));
    expect(await count('traces')).toBeGreaterThan(80);
    expect(await count('retry_data')).toBeGreaterThan(80);
    expect(await count('log_data')).toBeGreaterThan(80);

    // ERP failures: the trace shows masks where the credentials were.
    const erp = await backend.listErrors('Orders with secrets', 'ERP sales orders', { limit: 1000 });
    expect(erp.errors.length).toBeGreaterThan(0);
    const erpTrace = (await backend.ws.store.records.getTrace(decodeId('trace', erp.errors[0]!.reqAndResKey!)!.rowId))!;
    const erpHeaders = JSON.parse(erpTrace.request).headers as Record<string, string>;
    expect(erpHeaders.authorization).toBe(MASK);
    expect(erpHeaders['x-api-key']).toBe(MASK);
    expect(erpHeaders['x-client']).toBe(MASK);
    expect(erpHeaders['content-type']).toBe('application/json');

    // Echo failures: the target's body repeats every credential; message and trace are masked by value.
    const echoed = await backend.listErrors('Orders with secrets', 'Echo orders', { limit: 1000 });
    expect(echoed.errors).toHaveLength(80);
    const e = echoed.errors[0]!;
    const message = JSON.parse(e.message);
    expect(message.echo.headers).toMatchObject({ authorization: `Basic ${MASK}`, 'x-auth-token': MASK, 'x-api-key': MASK });
    const echoTrace = (await backend.ws.store.records.getTrace(decodeId('trace', e.reqAndResKey!)!.rowId))!;
    const request = JSON.parse(echoTrace.request);
    expect(request.headers).toMatchObject({ authorization: MASK, 'x-auth-token': MASK, 'x-api-key': MASK });
    expect(JSON.parse(JSON.parse(echoTrace.response).body).echo.headers.authorization).toBe(`Basic ${MASK}`);

    // The stored definition keeps references, never values.
    const definition = await storeValue<string>(backend.ws, `SELECT definition FROM connections WHERE name = 'Echo'`);
    expect(JSON.parse(definition).http.headers).toContainEqual({ name: 'X-Auth-Token', value: MASK });
    expect(JSON.parse(definition).http.auth.password).toBe('{{env.FLOWDECK_TEST_PASSWORD}}');

    // Not a byte of any secret in the store's files, while open (WAL) and after closing.
    expect(leaks(await storeContents(t.home, backend.ws), secrets)).toEqual([]);
    await backend.close();
    backend = undefined;
    // SQLite: its files again once closed (the WAL checkpointed into flowdeck.db).
    if (testStore() !== 'postgres') expect(leaks(storeFiles(t.home), secrets)).toEqual([]);
    if (existsSync(join(t.home, 'config.json'))) {
      expect(leaks(new Map([['config.json', readFileSync(join(t.home, 'config.json'))]]), secrets)).toEqual([]);
    }
    // positive control: the scan does find a secret where one is
    expect(leaks(new Map([['flow file', readFileSync(flowFile)]]), secrets)).toEqual([`flow file holds ${HARDCODED} (utf8)`, `flow file holds ${HARDCODED} (latin1)`]);
  });
});

/** A target that echoes every request (method, URL, headers) in its body and in its headers. */
async function startFullEcho(seen: Array<{ url: string; headers: IncomingHttpHeaders }>): Promise<number> {
  echo = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      seen.push({ url: req.url!, headers: req.headers });
      const echoed = { method: req.method, url: req.url, headers: req.headers };
      const path = req.url!.split('?')[0]!;
      const [status, body] = path === '/source'
        ? [200, { records: [{ id: 'r1' }, { id: 'r2' }, { id: 'r3' }], echo: echoed }]
        : path.startsWith('/lookup/')
          ? [200, { found: true, echo: echoed }]
          : [400, { errors: [{ code: 'rejected', message: 'record rejected' }], echo: echoed }];
      const text = JSON.stringify(body);
      res.writeHead(status, {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(text),
        'x-echo-url': req.url!,
        'x-echo-request': JSON.stringify(req.headers),
      });
      res.end(text);
    });
  });
  await new Promise<void>((resolve) => echo!.listen(0, '127.0.0.1', resolve));
  return (echo.address() as AddressInfo).port;
}

describe('every secret a definition sends is masked wherever a target echoes it', () => {
  it('query tokens, templates in relativeURI, step headers, broad and configured header names and URL credentials', async () => {
    const token = {
      importQuery: secret('impq'),
      exportQuery: secret('expq'),
      lookupQuery: secret('lkpq'),
      envQuery: secret('envq'),
      configQuery: secret('cfgq'),
      stepHeader: secret('steph'),
      subscription: secret('subk'),
      authKey: secret('authk'),
      configured: secret('tenant'),
      urlPassword: secret('urlpw'),
    };
    const basic = Buffer.from(`svc:${token.urlPassword}`).toString('base64');
    const secrets = [...Object.values(token), basic];

    const seen: Array<{ url: string; headers: IncomingHttpHeaders }> = [];
    const port = await startFullEcho(seen);
    const t = tempHome();
    cleanups.push(t.cleanup);
    const flowFile = writeFlowFile(
      t.home,
      'echoed.yaml',
      `connections:
  - name: Echo
    http:
      baseURI: "http://svc:${token.urlPassword}@127.0.0.1:${port}"
      secretHeaders: [X-Tenant-Ref]
      headers:
        - { name: Ocp-Apim-Subscription-Key, value: ${token.subscription} }
        - { name: X-Auth-Key, value: ${token.authKey} }
        - { name: X-Tenant-Ref, value: ${token.configured} }
exports:
  - name: Source
    _connectionId: Echo
    http: { relativeURI: "/source?access_token=${token.exportQuery}", response: { resourcePath: records } }
  - name: Lookup
    _connectionId: Echo
    http: { relativeURI: "/lookup/{{record.id}}?access_token=${token.lookupQuery}&c={{config.partner.lookupKey}}" }
imports:
  - name: Sink
    _connectionId: Echo
    http:
      method: POST
      relativeURI: "/sink/{{record.id}}?api_key=${token.importQuery}&t={{env.FLOWDECK_T_QUERY}}"
      headers: [{ name: X-Step-Token, value: ${token.stepHeader} }]
flows:
  - name: Echoed secrets
    logging: { mode: full }
    pageGenerators: [{ _exportId: Source }]
    pageProcessors:
      - { type: export, _exportId: Lookup }
      - { type: import, _importId: Sink }
`,
    );
    const env = { ...process.env, FLOWDECK_HOME: t.home, FLOWDECK_T_QUERY: token.envQuery, FLOWDECK_RETRY_THREAD_FROM: '' };
    const outputs: string[] = [];
    // Exit 0 unless said otherwise: a run whose records fail exits 1 (the exit-code contract).
    const runExpecting = async (code: number, ...args: string[]) => {
      const r = await runInProcess(env, args);
      outputs.push(r.stdout, r.stderr);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(code);
      return r.stdout;
    };
    const run = (...args: string[]) => runExpecting(0, ...args);
    await run('config', 'set', 'partner.lookupKey', token.configQuery);

    const job = JSON.parse(await runExpecting(1, 'flows', 'run', 'Echoed secrets', '--json')) as { _id: string; numError: number };
    expect(job.numError).toBe(3);
    const errors = JSON.parse(await run('errors', 'list', 'Echoed secrets', 'Sink', '--json')).errors as Array<{ errorId: string; reqAndResKey: string; retryDataKey: string }>;
    expect(errors).toHaveLength(3);
    const first = errors[0]!;
    await run('errors', 'show', first.errorId);
    await run('errors', 'show', first.errorId, '--json');
    const trace = JSON.parse(await run('requests', 'show', 'Echoed secrets', 'Sink', first.reqAndResKey, '--json'));
    await run('requests', 'show', 'Echoed secrets', 'Sink', first.reqAndResKey);
    await run('retry-data', 'get', 'Echoed secrets', 'Sink', first.retryDataKey, '--json');
    await run('flows', 'show', 'Echoed secrets', '--json');
    const logs = JSON.parse(await run('logs', 'list', 'Echoed secrets', job._id, '--json')) as { logs: Array<{ recordId: string; _stepId?: string }> };
    expect(logs.logs.length).toBeGreaterThan(0);
    for (const step of ['Source', 'Lookup', 'Sink']) {
      await run('logs', 'data', 'Echoed secrets', job._id, logs.logs.at(-1)!.recordId, '--step', step, '--json').catch(() => undefined);
    }
    const csv = join(t.home, 'errors.csv');
    await run('errors', 'export', 'Echoed secrets', 'Sink', '-o', csv);
    await runExpecting(1, 'errors', 'retry', 'Echoed secrets', 'Sink', '--all', '--yes', '--wait', '--json');
    // Again with the sender in a thread of its own (its redactor is rebuilt from the job's).
    env.FLOWDECK_RETRY_THREAD_FROM = '0';
    await runExpecting(1, 'errors', 'retry', 'Echoed secrets', 'Sink', '--all', '--yes', '--wait', '--json');
    const retryJobs = JSON.parse(await run('jobs', 'list', '--json')) as Array<{ type: string; status: string }>;
    expect(retryJobs.filter((j) => j.type === 'retry' && j.status === 'completed')).toHaveLength(2);

    // Every token really went out (so its absence below means something).
    expect(seen.length).toBeGreaterThanOrEqual(1 + 3 + 3 + 3 + 3);
    const wire = JSON.stringify(seen);
    for (const [name, value] of Object.entries(token)) if (name !== 'urlPassword') expect(wire, name).toContain(value);
    expect(seen.find((s) => s.url.startsWith('/sink/'))!.headers.authorization).toBe(`Basic ${basic}`);

    // What is shown says where a secret was.
    expect(trace.request.url).toContain(`api_key=${MASK}`);
    expect(trace.request.headers).toMatchObject({ 'x-step-token': MASK, 'ocp-apim-subscription-key': MASK, 'x-auth-key': MASK, 'x-tenant-ref': MASK, authorization: MASK });
    expect(trace.response.headers['x-echo-url']).toContain(MASK);
    const stored = await openBackend(t.home, { ...env, FLOWDECK_WORKER: 'off', FLOWDECK_READONLY: '1' });
    let connection, baseUri, sink, storeHolds: Map<string, Buffer>;
    try {
      connection = JSON.parse(await storeValue<string>(stored.ws, `SELECT definition FROM connections WHERE name = 'Echo'`));
      baseUri = await storeValue<string>(stored.ws, `SELECT base_uri FROM connections WHERE name = 'Echo'`);
      sink = JSON.parse(await storeValue<string>(stored.ws, `SELECT definition FROM imports WHERE name = 'Sink'`));
      storeHolds = await storeContents(t.home, stored.ws);
    } finally {
      await stored.close();
    }
    expect(baseUri).toBe(`http://${MASK}:${MASK}@127.0.0.1:${port}`);
    expect(connection.http.headers.map((h: { value: string }) => h.value)).toEqual([MASK, MASK, MASK]);
    expect(sink.http.relativeURI).toBe(`/sink/{{record.id}}?api_key=${MASK}&t={{env.FLOWDECK_T_QUERY}}`);

    // The screen: the TUI's detail of an error, request and response included, every frame of it.
    const tuiBackend = await openBackend(t.home, { ...env, FLOWDECK_WORKER: 'off' });
    let frames: string[] = [];
    try {
      const flow = await tuiBackend.getFlow('Echoed secrets');
      const sinkStep = flow.steps.find((s) => s.name === 'Sink')!;
      const latest = (await tuiBackend.listErrors(flow._id, sinkStep._id, { limit: 1 })).errors[0]!;
      const tui = renderTui(tuiBackend, { routes: [{ view: 'flows' }, { view: 'error', errorId: latest.errorId, flowId: flow._id, flowName: flow.name, stepId: sinkStep._id, stepName: sinkStep.name }] });
      try {
        tui.resize(200, 400);
        await tui.waitFor((f) => f.includes('Request and response (secrets masked)') && f.includes(`api_key=${MASK}`));
        frames = tui.frames();
      } finally {
        tui.unmount();
      }
    } finally {
      await tuiBackend.close();
    }
    expect(frames.join('\n')).toContain('x-step-token');

    // SQLite: its files as the TUI's backend left them; PostgreSQL: the tables as read above.
    const files = testStore() === 'postgres' ? storeHolds : storeFiles(t.home);
    files.set('errors.csv', readFileSync(csv));
    files.set('command output', Buffer.from(outputs.join('\n')));
    files.set('TUI frames', Buffer.from(frames.join('\n')));
    expect(files.get('errors.csv')!.length).toBeGreaterThan(100);
    expect(leaks(files, secrets)).toEqual([]);
    // positive control
    expect(leaks(new Map([['flow file', readFileSync(flowFile)]]), [token.importQuery])).toHaveLength(2);
  });
});

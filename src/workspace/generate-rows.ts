import { DEFAULT_BACKOFF, nextAttemptDelay } from '../domain/backoff.js';
import { classifyFailure, type Failure } from '../domain/classify.js';
import { MASK } from '../domain/mask.js';
import { idSeconds } from '../domain/ids.js';
import { Signer } from '../domain/signature.js';
import type { StepKind } from '../flows/load.js';
import type { RetryPolicy } from '../flows/schema.js';
import { emailLocal } from '../mocks/orders.js';
import { createRng, type Rng } from '../mocks/prng.js';
import { CLASSIFIED_BY, PURGE_AFTER_MS, RETRY_STAGE } from '../runtime/recorder.js';

// The rows of generated errors (see generate.ts), built without touching the store so they can be
// built on a worker thread while the main thread writes the previous batch. Everything a row needs
// comes from a serialisable spec; one seeded PRNG walks the rows in order, so a seed always gives
// the same workspace. Rows come out as the parameter arrays of multi-row INSERTs.

/** The shape of the records a step handles, which decides its request, snapshot and failures. */
export type StepShape = 'page' | 'lookup' | 'erp' | 'contacts' | 'shipments' | 'archive';

/** One realistic way a call fails; `message`/`body` build per-row text from the record. */
interface FailureTemplate {
  weight: number;
  failure: 'status' | 'socket' | 'timeout' | 'parse' | 'mapping';
  status?: number;
  retryAfter?: string;
  timeoutMs?: number;
  /** The target's body (JSON text or not): also the error's message after classification. */
  body?: (r: RowRecord) => string;
  /** For failures whose message is not the body (socket, timeout, parse, mapping). */
  message?: (r: RowRecord) => string;
  /** The record variant this failure needs (bad email, bad line…). */
  variant?: 'bad_email' | 'no_email' | 'bad_quantity' | 'bad_currency' | 'bad_email_quantity';
  // Filled from classifyFailure on a representative failure:
  classification?: string;
  source?: string;
  code?: string;
  retriable?: boolean;
  autoRetry?: boolean;
}

interface Customer {
  id: string;
  name: string;
  email?: string;
  tier: string;
  shopJson: string;
  enrichedJson: string;
}

interface Items {
  json: string;
  total: number;
  badLine: number;
}

interface RowRecord {
  orderId: string;
  customer: Customer;
  items: Items;
  currency: string;
  port: number;
  page: number;
}

const CURRENCIES = ['EUR', 'EUR', 'EUR', 'EUR', 'EUR', 'EUR', 'USD', 'GBP', 'CHF', 'SEK'];
const BAD_CURRENCIES = ['XYZ', 'EURO', 'US$', 'eur', 'RMB'];
const SUPPORTED = 'EUR, USD, GBP, CHF, SEK, NOK, DKK, PLN, CZK';
const FIRST_NAMES = ['Anna', 'Jonas', 'Lena', 'Lukas', 'Maria', 'Felix', 'Sophie', 'Leon', 'Emma', 'Paul', 'Mia', 'Noah', 'Clara', 'Elias', 'Laura', 'Finn', 'Julia', 'David', 'Sara', 'Tom', 'Hannah', 'Max', 'Chloé', 'Mateo', 'Sofia', 'Liam', 'Zoé', 'Hugo', 'Inès', 'Oskar', 'Freya', 'Nils', 'Aisha', 'Omar', 'Mehmet', 'Elif', 'Piotr', 'Zofia', 'Marco', 'Giulia', 'Pablo', 'Lucía', 'Jürgen', 'Björn'];
const LAST_NAMES = ['Schmidt', 'Müller', 'Weber', 'Fischer', 'Wagner', 'Becker', 'Hoffmann', 'Schulz', 'Koch', 'Richter', 'Klein', 'Wolf', 'Neumann', 'Braun', 'Krüger', 'Lange', 'Dubois', 'Martin', 'Rossi', 'Bianchi', 'García', 'Fernández', 'Jansen', 'de Vries', 'Nowak', 'Kowalski', 'Yılmaz', 'Andersson', 'Nielsen', "O'Brien", 'Novak', 'Weiß'];
const DOMAINS = ['example.com', 'example.com', 'example.org', 'example.net', 'mail.example', 'post.example'];
const TIERS = ['gold', 'silver', 'silver', 'bronze', 'bronze', 'bronze', 'bronze'];

const JSON_HEADERS_REQ = (auth: 'bearer' | 'apikey' | 'none', body: boolean) =>
  JSON.stringify({
    accept: 'application/json',
    ...(auth === 'bearer' ? { authorization: MASK } : {}),
    ...(auth === 'apikey' ? { 'x-api-key': MASK } : {}),
    ...(body ? { 'content-type': 'application/json' } : {}),
  });

// ---- the failures of each kind of step, as the mock systems (and real ones) fail ------------------

const errorsBody = (entries: Array<Record<string, string>>) => JSON.stringify({ errors: entries });
const unavailable = (system: string) => () => errorsBody([{ code: 'service_unavailable', message: `${system} is temporarily unavailable, try again later` }]);
const refused = (r: RowRecord) => `ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:${r.port} (http://127.0.0.1:${r.port})`;
const htmlGateway = '<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx</center></body></html>';

function failuresOf(shape: StepShape): FailureTemplate[] {
  switch (shape) {
    case 'page':
      return [
        { weight: 50, failure: 'status', status: 503, body: unavailable('Shop') },
        { weight: 25, failure: 'status', status: 429, retryAfter: '2', body: () => errorsBody([{ code: 'rate_limited', message: 'Too many requests, retry after 2 seconds' }]) },
        { weight: 25, failure: 'timeout', timeoutMs: 10_000 },
      ];
    case 'lookup':
      return [
        { weight: 82, failure: 'status', status: 503, body: unavailable('CRM') },
        { weight: 12, failure: 'status', status: 404, body: (r) => errorsBody([{ code: 'not_found', message: `Customer ${r.customer.id} does not exist` }]) },
        { weight: 6, failure: 'timeout', timeoutMs: 10_000 },
      ];
    case 'erp':
      return [
        { weight: 30, failure: 'status', status: 429, retryAfter: '1', body: () => errorsBody([{ code: 'rate_limited', message: 'Too many requests, retry after 1 second' }]) },
        { weight: 13, failure: 'status', status: 422, variant: 'bad_email', body: (r) => errorsBody([{ code: 'invalid_email', field: 'email', message: `'${r.customer.email}' is not a valid email address` }]) },
        { weight: 7, failure: 'status', status: 422, variant: 'no_email', body: () => errorsBody([{ code: 'missing_required_field', field: 'email', message: 'email is required' }]) },
        { weight: 9, failure: 'status', status: 422, variant: 'bad_quantity', body: (r) => errorsBody([{ code: 'invalid_quantity', field: `lines[${r.items.badLine}].quantity`, message: `lines[${r.items.badLine}].quantity must be greater than 0` }]) },
        { weight: 5, failure: 'status', status: 422, variant: 'bad_currency', body: (r) => errorsBody([{ code: 'invalid_currency', field: 'currency', message: `'${r.currency}' is not a supported currency (${SUPPORTED})` }]) },
        {
          weight: 2,
          failure: 'status',
          status: 422,
          variant: 'bad_email_quantity',
          body: (r) =>
            errorsBody([
              { code: 'invalid_email', field: 'email', message: `'${r.customer.email}' is not a valid email address` },
              { code: 'invalid_quantity', field: `lines[${r.items.badLine}].quantity`, message: `lines[${r.items.badLine}].quantity must be greater than 0` },
            ]),
        },
        { weight: 12, failure: 'status', status: 409, body: (r) => errorsBody([{ code: 'duplicate', message: `Sales order ${r.orderId} already exists` }]) },
        { weight: 10, failure: 'status', status: 503, body: unavailable('ERP') },
        { weight: 8, failure: 'socket', message: refused },
        { weight: 2, failure: 'parse', status: 200, body: () => htmlGateway, message: () => `Could not parse the response (HTTP 200): Unexpected token '<', "<html><hea"... is not valid JSON` },
      ];
    case 'contacts':
      return [
        { weight: 78, failure: 'status', status: 503, body: unavailable('CRM') },
        { weight: 15, failure: 'mapping', variant: 'no_email', message: () => 'Mapping failed at email: customer.email is required but missing in the record' },
        { weight: 4, failure: 'status', status: 400, variant: 'bad_email', body: (r) => errorsBody([{ code: 'invalid_body', message: `The contact email '${r.customer.email}' is not valid` }]) },
        { weight: 3, failure: 'socket', message: refused },
      ];
    case 'shipments':
      return [
        { weight: 88, failure: 'socket', message: refused },
        { weight: 8, failure: 'timeout', timeoutMs: 2000 },
        { weight: 4, failure: 'status', status: 503, body: unavailable('Warehouse') },
      ];
    case 'archive':
      return [
        { weight: 90, failure: 'timeout', timeoutMs: 1000 },
        { weight: 6, failure: 'status', status: 500, body: () => 'Internal Server Error: archive volume is read-only' },
        { weight: 4, failure: 'status', status: 413, body: () => errorsBody([{ code: 'payload_too_large', message: 'The request body exceeds 1 MiB' }]) },
      ];
  }
}

/** Fills code, source and classification from the product's own classifier. */
function classifyTemplates(templates: FailureTemplate[], sample: RowRecord): FailureTemplate[] {
  return templates.map((t) => {
    let f: Failure;
    switch (t.failure) {
      case 'status':
        f = { kind: 'status', statusCode: t.status!, body: t.body!(sample), ...(t.retryAfter ? { retryAfter: t.retryAfter } : {}) };
        break;
      case 'socket':
        f = { kind: 'socket', errno: 'ECONNREFUSED', message: t.message!(sample) };
        break;
      case 'timeout':
        f = { kind: 'timeout', timeoutMs: t.timeoutMs! };
        break;
      case 'parse':
        f = { kind: 'parse', statusCode: t.status!, body: t.body!(sample), detail: 'x' };
        break;
      case 'mapping':
        f = { kind: 'mapping', field: 'email', detail: 'x' };
        break;
    }
    const c = classifyFailure(f);
    return { ...t, classification: c.classification, source: c.source, code: c.code, retriable: c.retriable, autoRetry: c.autoRetry };
  });
}

export const DEMO_SHAPES: Record<string, { shape: StepShape; weight: number }> = {
  'Shop orders': { shape: 'page', weight: 0.4 },
  'Shop recent orders': { shape: 'page', weight: 0.4 },
  'CRM customer lookup': { shape: 'lookup', weight: 15 },
  'ERP sales orders': { shape: 'erp', weight: 40 },
  'CRM contacts': { shape: 'contacts', weight: 20 },
  'Warehouse shipments': { shape: 'shipments', weight: 12 },
  'Legacy order archive': { shape: 'archive', weight: 12 },
};

// ---- record pools: built once, so a row costs a few picks and concatenations ----------------------

function buildPools(rng: Rng) {
  const customer = (n: number, email: string | undefined): Customer => {
    const first = rng.pick(FIRST_NAMES);
    const last = rng.pick(LAST_NAMES);
    const name = `${first} ${last}`;
    const id = `C-${String(n).padStart(6, '0')}`;
    const tier = rng.pick(TIERS);
    const e = email === 'valid' ? validEmail(rng, first, last) : email === 'broken' ? brokenEmail(rng, first, last) : undefined;
    const base = { id, name, ...(e !== undefined ? { email: e } : {}) };
    return { id, name, ...(e !== undefined ? { email: e } : {}), tier, shopJson: JSON.stringify(base), enrichedJson: JSON.stringify({ ...base, tier }) };
  };
  const valid: Customer[] = [];
  const broken: Customer[] = [];
  const noEmail: Customer[] = [];
  for (let i = 0; i < 30_000; i++) valid.push(customer(10_001 + i, 'valid'));
  for (let i = 0; i < 4000; i++) broken.push(customer(40_001 + i, 'broken'));
  for (let i = 0; i < 2000; i++) noEmail.push(customer(44_001 + i, undefined));
  const products = Array.from({ length: 60 }, (_, i) => ({ sku: `SKU-${101 + i}`, price: Math.round((rng.int(3, 249) + rng.pick([0.99, 0.49, 0.95, 0])) * 100) / 100 }));
  const itemSet = (bad: boolean): Items => {
    const lines: Array<{ sku: string; quantity: number; price: number }> = [];
    const used = new Set<string>();
    const count = rng.int(1, 4);
    while (lines.length < count) {
      const p = rng.pick(products);
      if (used.has(p.sku)) continue;
      used.add(p.sku);
      lines.push({ sku: p.sku, quantity: rng.int(1, 5), price: p.price });
    }
    let badLine = -1;
    if (bad) {
      badLine = rng.int(0, lines.length - 1);
      lines[badLine]!.quantity = rng.next() < 0.5 ? 0 : -rng.int(1, 3);
    }
    const total = Math.round(lines.reduce((s, l) => s + l.quantity * l.price, 0) * 100) / 100;
    return { json: JSON.stringify(lines), total, badLine };
  };
  const goodItems = Array.from({ length: 5000 }, () => itemSet(false));
  const badItems = Array.from({ length: 1000 }, () => itemSet(true));
  return { valid, broken, noEmail, goodItems, badItems };
}

function validEmail(rng: Rng, first: string, last: string): string {
  const f = emailLocal(first);
  const l = emailLocal(last);
  const style = rng.next();
  const local = style < 0.5 ? `${f}.${l}` : style < 0.7 ? `${f.charAt(0)}${l}` : `${f}.${l}${rng.int(1, 999)}`;
  return `${local}@${rng.pick(DOMAINS)}`;
}

function brokenEmail(rng: Rng, first: string, last: string): string {
  const local = `${emailLocal(first)}.${emailLocal(last)}`;
  switch (rng.int(0, 3)) {
    case 0:
      return `${local}@@example.com`;
    case 1:
      return `${emailLocal(first)} ${rng.pick(DOMAINS)}`;
    case 2:
      return `${local}.${rng.pick(DOMAINS)}`;
    default:
      return `${local}@${rng.pick(DOMAINS)}.`;
  }
}

// ---- requests and snapshots per step shape --------------------------------------------------------

function shopRecordJson(r: RowRecord, createdAt: string, enriched: boolean): string {
  return `{"id":"${r.orderId}","createdAt":"${createdAt}","customer":${enriched ? r.customer.enrichedJson : r.customer.shopJson},"items":${r.items.json},"total":${r.items.total},"currency":${JSON.stringify(r.currency)}}`;
}

interface RequestShape {
  method: string;
  path: (r: RowRecord) => string;
  headers: string;
  body?: (r: RowRecord, record: string) => string;
}

function requestOf(shape: StepShape): RequestShape {
  switch (shape) {
    case 'page':
      return { method: 'GET', path: (r) => `/orders?page=${r.page}&pageSize=50`, headers: JSON_HEADERS_REQ('apikey', false) };
    case 'lookup':
      return { method: 'GET', path: (r) => `/customers/${r.customer.id}`, headers: JSON_HEADERS_REQ('none', false) };
    case 'erp':
      return {
        method: 'POST',
        path: () => '/salesOrders',
        headers: JSON_HEADERS_REQ('bearer', true),
        body: (r) =>
          `{"orderNumber":"${r.orderId}"${r.customer.email !== undefined ? `,"email":${JSON.stringify(r.customer.email)}` : ''},"customerName":${JSON.stringify(r.customer.name)},"currency":${JSON.stringify(r.currency)},"priority":"${r.customer.tier}","lines":${r.items.json}}`,
      };
    case 'contacts':
      return {
        method: 'POST',
        path: () => '/contacts',
        headers: JSON_HEADERS_REQ('none', true),
        body: (r) => `{"email":${JSON.stringify(r.customer.email ?? '')},"name":${JSON.stringify(r.customer.name)},"lastOrder":"${r.orderId}"}`,
      };
    case 'shipments':
      return { method: 'POST', path: () => '/shipments', headers: JSON_HEADERS_REQ('none', true), body: (r) => `{"orderNumber":"${r.orderId}","lines":${r.items.json}}` };
    case 'archive':
      return { method: 'POST', path: () => '/archive/orders', headers: JSON_HEADERS_REQ('none', true), body: (_r, record) => record };
  }
}


// ---- the factory ----------------------------------------------------------------------------------

export interface FactoryStep {
  flowId: string;
  stepKey: number;
  kind: StepKind;
  shape: StepShape;
  weight: number;
  policy: RetryPolicy;
  /** Leave out failures without a snapshot (connection-class) and mapping failures. */
  retriableOnly: boolean;
  /** The flow's page generator, recorded on snapshots as pgExportId. */
  pgExportId: string | null;
}

export interface FactorySpec {
  seed: number;
  n: number;
  /** occurred_at of row i lies in [start + i·span/n, start + (i+0.95)·span/n): ascending with the id. */
  start: number;
  span: number;
  dayMs: number;
  steps: FactoryStep[];
  /** flowId → the flow job of each day of the window. */
  jobs: Record<string, number[]>;
  users: Array<{ id: number; email: string }>;
  tags: Array<{ code: string; name: string }>;
  firstIds: { error: number; retryData: number; trace: number };
  rowsPerStatement: number;
}

export type TableName = 'errors' | 'retryData' | 'traces';

export const TABLE_WIDTH: Record<TableName, number> = { errors: 23, retryData: 11, traces: 8 };

export interface Batch {
  rows: number;
  /** First and last error row id of the chunk (the FTS rows and error_tags are derived from them). */
  firstErrorId: number;
  lastErrorId: number;
  /** Per table: parameter arrays of `rowsPerStatement` rows each (the last one may be shorter). */
  tables: Record<TableName, unknown[][]>;
  /** `${flowJob}:${stepKey}` → errors written for it. */
  counts: Array<[string, number]>;
  /** Signatures first seen in this chunk: the error_sigs rows (id, step, code, source, classification, template, first_at). */
  sigs: Array<[number, number, string, string, string, string, number]>;
  tagged: number;
  assigned: number;
  retryData: number;
  traces: number;
}

class Chunks {
  readonly chunks: unknown[][] = [];
  private current: unknown[] = [];
  private rows = 0;
  constructor(private readonly perChunk: number) {}

  /** The array to push one row's values onto; call end() after. */
  get row(): unknown[] {
    return this.current;
  }

  end(): void {
    if (++this.rows === this.perChunk) {
      this.chunks.push(this.current);
      this.current = [];
      this.rows = 0;
    }
  }

  finish(): unknown[][] {
    if (this.rows > 0) this.chunks.push(this.current);
    return this.chunks;
  }
}

function pickWeighted<T extends { weight: number }>(items: readonly T[], total: number, roll: number): T {
  let x = roll * total;
  for (const item of items) {
    x -= item.weight;
    if (x < 0) return item;
  }
  return items[items.length - 1]!;
}

interface ReadyStep extends FactoryStep {
  failures: FailureTemplate[];
  failureWeight: number;
  request: RequestShape;
}

export class RowFactory {
  private readonly rng: Rng;
  private readonly pools: ReturnType<typeof buildPools>;
  private readonly steps: ReadyStep[];
  private readonly stepWeight: number;
  private readonly dataTags: string[];
  private readonly targetTags: string[];
  private readonly anyTags: string[];
  private next = 0;
  // Signed as SqliteCore.insertError signs a recorded error (same normaliser, same memo idea).
  private readonly signer = new Signer(5000);
  private readonly knownSigs = new Set<number>();
  private errorId: number;
  private retryDataId: number;
  private traceId: number;

  constructor(private readonly spec: FactorySpec) {
    this.rng = createRng(spec.seed);
    this.pools = buildPools(this.rng);
    const sample: RowRecord = { orderId: 'SO-100001', customer: this.pools.valid[0]!, items: this.pools.goodItems[0]!, currency: 'EUR', port: 40000, page: 1 };
    this.steps = spec.steps.map((s) => {
      const all = failuresOf(s.shape);
      const failures = classifyTemplates(s.retriableOnly ? all.filter((t) => t.failure !== 'socket' && t.failure !== 'timeout' && t.failure !== 'mapping') : all, sample);
      return { ...s, failures, failureWeight: failures.reduce((sum, f) => sum + f.weight, 0), request: requestOf(s.shape) };
    });
    this.stepWeight = this.steps.reduce((sum, s) => sum + s.weight, 0);
    const code = (name: string) => spec.tags.find((t) => t.name === name)?.code;
    this.dataTags = ['Needs data fix', 'Investigating', 'Known issue'].map(code).filter((t): t is string => !!t);
    this.targetTags = ['Waiting on target', 'Known issue', 'Investigating', 'Noise'].map(code).filter((t): t is string => !!t);
    this.anyTags = spec.tags.map((t) => t.code);
    this.errorId = spec.firstIds.error;
    this.retryDataId = spec.firstIds.retryData;
    this.traceId = spec.firstIds.trace;
  }

  /** The rows from where the last batch ended up to row `to` (exclusive). */
  batch(to: number): Batch {
    const { spec, rng, pools } = this;
    const per = spec.rowsPerStatement;
    const errors = new Chunks(per);
    const retryData = new Chunks(per);
    const traces = new Chunks(per);
    const counts = new Map<string, number>();
    const sigs: Batch['sigs'] = [];
    let tagged = 0;
    let assigned = 0;
    let snapshots = 0;
    let traced = 0;
    const row: RowRecord = { orderId: '', customer: pools.valid[0]!, items: pools.goodItems[0]!, currency: 'EUR', port: 0, page: 1 };
    const from = this.next;
    const firstErrorId = this.errorId;
    for (let i = from; i < to; i++) {
      const step = pickWeighted(this.steps, this.stepWeight, rng.next());
      const t = pickWeighted(step.failures, step.failureWeight, rng.next());
      const occurredAt = spec.start + Math.floor(((i + rng.next() * 0.95) * spec.span) / spec.n);
      const day = Math.min(spec.jobs[step.flowId]!.length - 1, Math.floor((occurredAt - spec.start) / spec.dayMs));
      const flowJob = spec.jobs[step.flowId]![day]!;

      // The record behind the error.
      const variant = t.variant;
      row.orderId = `SO-${100_001 + i}`;
      row.customer =
        variant === 'bad_email' || variant === 'bad_email_quantity' ? rng.pick(pools.broken) : variant === 'no_email' ? rng.pick(pools.noEmail) : rng.pick(pools.valid);
      row.items = variant === 'bad_quantity' || variant === 'bad_email_quantity' ? rng.pick(pools.badItems) : rng.pick(pools.goodItems);
      row.currency = variant === 'bad_currency' ? rng.pick(BAD_CURRENCIES) : rng.pick(CURRENCIES);
      row.port = 32_768 + ((day * 7919 + step.stepKey * 104_729) % 28_000);
      row.page = 1 + (i % 40);
      const isPage = step.shape === 'page';
      const record = isPage ? `{"page":${row.page}}` : shopRecordJson(row, new Date(occurredAt - rng.int(60, 7200) * 1000).toISOString(), step.shape === 'erp');

      // What the target said, and the error the recorder makes of it.
      const body = t.body?.(row);
      const message =
        t.failure === 'status' ? statusMessage(t.status!, body!) : t.message ? t.message(row) : `Request timed out after ${t.timeoutMs} ms waiting for a response`;
      const answered = t.failure === 'status' || t.failure === 'parse';

      let trace: number | null = null;
      let traceSec: number | null = null;
      if (t.failure !== 'mapping') {
        const req = step.request;
        const reqBody = req.body?.(row, record);
        const request = `{"method":"${req.method}","url":"http://127.0.0.1:${row.port}${req.path(row)}","headers":${req.headers}${reqBody !== undefined ? `,"body":${JSON.stringify(reqBody)}` : ''}}`;
        let response: string;
        if (answered) {
          const text = body ?? '';
          const headers = `{"content-type":"${text.startsWith('{') ? 'application/json' : 'text/html'}","content-length":"${Buffer.byteLength(text)}"${t.retryAfter ? `,"retry-after":"${t.retryAfter}"` : ''},"date":"${new Date(occurredAt).toUTCString()}","connection":"keep-alive","keep-alive":"timeout=5"}`;
          response = `{"statusCode":${t.status},"headers":${headers},"body":${JSON.stringify(text)},"receivedAt":${occurredAt}}`;
        } else {
          response = `{"receivedAt":${occurredAt}}`;
        }
        trace = this.traceId++;
        const traceTime = occurredAt - rng.int(5, 400);
        traceSec = idSeconds(traceTime);
        traces.row.push(trace, step.stepKey, traceTime, step.kind, req.method, answered ? t.status! : null, request, response);
        traces.end();
        traced++;
      }

      let retry: number | null = null;
      if (t.retriable) {
        retry = this.retryDataId++;
        retryData.row.push(retry, step.stepKey, occurredAt, occurredAt, RETRY_STAGE[step.kind], step.pgExportId, 0, isPage ? null : row.orderId, record, answered ? `{"statusCode":${t.status}}` : null, 0);
        retryData.end();
        snapshots++;
      }

      // Intermittent and rate-limited failures: the first automatic retry, from the step's policy.
      let retryAt: number | null = null;
      if (t.autoRetry && retry !== null && step.policy.count > 0) {
        const backoff = { ...DEFAULT_BACKOFF, baseDelayMs: step.policy.intervalSeconds * 1000, factor: step.policy.backoffRate, maxDelayMs: step.policy.maxIntervalSeconds * 1000 };
        retryAt = occurredAt + nextAttemptDelay(backoff, 1, t.retryAfter, occurredAt, rng.next);
      }

      const { sig, template } = this.signer.sign({ step: step.stepKey, code: t.code!, source: t.source!, classification: t.classification!, message });
      if (!this.knownSigs.has(sig)) {
        this.knownSigs.add(sig);
        sigs.push([sig, step.stepKey, t.code!, t.source!, t.classification!, template, occurredAt]);
      }

      // Triage state: ~20% tagged (with tags that fit the failure), ~30% assigned to a known user.
      const errorId = this.errorId++;
      let tags: string | null = null;
      if (rng.next() < 0.2 && this.anyTags.length > 0) {
        const pool = t.classification === 'value' || t.classification === 'missing' ? this.dataTags : this.targetTags;
        const first = rng.pick(pool.length ? pool : this.anyTags);
        const second = rng.next() < 0.2 ? rng.pick(this.anyTags) : first;
        const codes = second === first ? [first] : [first, second];
        tags = JSON.stringify(codes);
        tagged++;
      }
      let assignee: string | null = null;
      let assignedBy: string | null = null;
      let assigneeUser: number | null = null;
      if (rng.next() < 0.3 && spec.users.length > 0) {
        const user = rng.pick(spec.users);
        assignee = user.email;
        assigneeUser = user.id;
        assignedBy = rng.pick(spec.users).email;
        assigned++;
      }

      errors.row.push(
        errorId,
        step.stepKey,
        0,
        occurredAt,
        t.source,
        t.code,
        message,
        isPage ? null : String(rng.int(0, 49)),
        flowJob,
        isPage ? null : row.orderId,
        t.classification,
        CLASSIFIED_BY,
        trace,
        traceSec,
        retry,
        retry === null ? null : idSeconds(occurredAt), // the snapshot's created_at
        occurredAt + PURGE_AFTER_MS,
        retryAt,
        tags,
        assignee,
        assignedBy,
        assigneeUser,
        sig,
      );
      errors.end();
      const key = `${flowJob}:${step.stepKey}`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    this.next = to;
    return {
      rows: to - from,
      firstErrorId,
      lastErrorId: this.errorId - 1,
      tables: { errors: errors.finish(), retryData: retryData.finish(), traces: traces.finish() },
      counts: [...counts],
      sigs,
      tagged,
      assigned,
      retryData: snapshots,
      traces: traced,
    };
  }
}

/** The classifier's message for a status failure: the compacted JSON body, else a status line. */
function statusMessage(status: number, body: string): string {
  if (body.startsWith('{')) return body; // built with JSON.stringify: already compact
  return body.trim() ? `HTTP ${status}: ${body.trim()}` : `HTTP ${status}`;
}

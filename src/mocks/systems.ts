import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import {
  baseUrl,
  closeServer,
  jsonServer,
  listen,
  methodNotAllowed,
  notFound,
  pathOf,
  readBody,
  refusedPort,
  sendError,
  sendErrors,
  sendJson,
  type ErrorEntry,
} from './http.js';
import { generateOrders, type OrderBook } from './orders.js';
import { createRng, hashString } from './prng.js';

export { generateOrders, INVALID_KINDS } from './orders.js';
export type { InvalidKind, OrderBook, ShopCustomer, ShopOrder, ShopOrderItem } from './orders.js';

// The built-in systems `flowdeck demo` and the tests run flows against: a shop to export from, an
// ERP and a CRM to import into, each failing the way real ones do, plus one that is down and one
// that never answers in time.

export interface MockSystemsOptions {
  seed?: number;
  orders?: number;
  invalidRatio?: number;
  crmFailureRate?: number;
  erpRateLimit?: number;
  slowDelayMs?: number;
  /** The ERP rate limit's clock (Date.now): tests step it, so a window never depends on the machine's speed. */
  now?: () => number;
}

export interface MockSystems {
  urls: { shop: string; erp: string; crm: string; down: string; slow: string };
  crm: { setFailureRate(rate: number): void };
  erp: {
    setRateLimit(perSecond: number): void;
    /** Replaces the rate limit's clock: a stopped one (() => 0) lets exactly the limit through, however slow the machine. */
    setClock(now: () => number): void;
    received(): number;
    created(): number;
  };
  close(): Promise<void>;
}

export interface SalesOrderLine {
  sku: string;
  quantity: number;
  price: number;
}

export interface SalesOrder {
  orderNumber: string;
  email: string;
  customerName?: string;
  currency: string;
  lines: SalesOrderLine[];
}

const DEFAULTS = {
  seed: 42,
  orders: 120,
  invalidRatio: 0.15,
  crmFailureRate: 0.3,
  erpRateLimit: 40,
  slowDelayMs: 30_000,
} as const;

const DEFAULT_PAGE_SIZE = 50;
const MAX_PAGE_SIZE = 200;
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const CURRENCIES = new Set(['EUR', 'USD', 'GBP', 'CHF', 'SEK', 'NOK', 'DKK', 'PLN', 'CZK']);
const RATE_WINDOW_MS = 1000;
// setTimeout treats anything larger as 1 ms, which would turn "slow" into "fast".
const MAX_TIMER_MS = 2 ** 31 - 1;

function checkRate(name: string, value: number): number {
  if (!Number.isFinite(value) || value < 0 || value > 1) throw new RangeError(`${name} must be between 0 and 1, got ${value}`);
  return value;
}

function checkCount(name: string, value: number, allowInfinity = false): number {
  const ok = allowInfinity && value === Infinity ? true : Number.isInteger(value) && value >= 0;
  if (!ok) throw new RangeError(`${name} must be a non-negative integer, got ${value}`);
  return value;
}

function segments(req: IncomingMessage): string[] {
  return pathOf(req)
    .split('/')
    .filter((s) => s !== '')
    .map((s) => {
      try {
        return decodeURIComponent(s);
      } catch {
        return s;
      }
    });
}

/** Drains the body of a request answered without reading it, so the connection stays reusable. */
function drain(req: IncomingMessage): Promise<void> {
  return readBody(req).then(() => undefined);
}

// ---------------------------------------------------------------------------------------------
// shop

function positiveInt(raw: string | null, fallback: number): number | undefined {
  if (raw === null || raw === '') return fallback;
  if (!/^\d+$/.test(raw)) return undefined;
  const value = Number(raw);
  return value >= 1 ? value : undefined;
}

function shopServer(book: OrderBook): Server {
  return jsonServer(async (req, res) => {
    await drain(req);
    const key = req.headers['x-api-key'];
    if (typeof key !== 'string' || key.trim() === '') {
      sendError(res, 401, 'unauthorized', 'Missing or empty x-api-key header');
      return;
    }
    const parts = segments(req);
    if (parts[0] !== 'orders' || parts.length > 2) return notFound(res, req);
    if (req.method !== 'GET') return methodNotAllowed(res, req, 'GET');

    if (parts.length === 2) {
      const order = book.byId.get(parts[1] as string);
      if (!order) return sendError(res, 404, 'not_found', `Order ${parts[1]} does not exist`);
      return sendJson(res, 200, order);
    }

    const query = new URL(req.url ?? '/', 'http://shop').searchParams;
    const page = positiveInt(query.get('page'), 1);
    const requestedSize = positiveInt(query.get('pageSize'), DEFAULT_PAGE_SIZE);
    if (page === undefined) {
      return sendErrors(res, 400, [{ code: 'invalid_query_params', field: 'page', message: 'page must be an integer of at least 1' }]);
    }
    if (requestedSize === undefined) {
      return sendErrors(res, 400, [
        { code: 'invalid_query_params', field: 'pageSize', message: 'pageSize must be an integer of at least 1' },
      ]);
    }
    // Like most shop APIs, an oversized page is clamped rather than refused; the answer says so.
    const pageSize = Math.min(requestedSize, MAX_PAGE_SIZE);
    const total = book.orders.length;
    const start = (page - 1) * pageSize;
    sendJson(res, 200, {
      orders: book.orders.slice(start, start + pageSize),
      page,
      pageSize,
      total,
      totalPages: Math.ceil(total / pageSize),
    });
  });
}

// ---------------------------------------------------------------------------------------------
// erp

/** The ERP's field checks, all of them at once (a real ERP lists every problem, not the first). */
export function validateSalesOrder(body: unknown): ErrorEntry[] {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return [{ code: 'invalid_body', message: 'The body must be a JSON object' }];
  }
  const order = body as Record<string, unknown>;
  const errors: ErrorEntry[] = [];
  const required = (field: string) => errors.push({ code: 'missing_required_field', field, message: `${field} is required` });

  if (order.orderNumber === undefined || order.orderNumber === null || order.orderNumber === '') required('orderNumber');
  else if (typeof order.orderNumber !== 'string') {
    errors.push({ code: 'invalid_type', field: 'orderNumber', message: 'orderNumber must be a string' });
  }

  const email = order.email;
  if (email === undefined || email === null || (typeof email === 'string' && email.trim() === '')) required('email');
  else if (typeof email !== 'string' || !EMAIL.test(email)) {
    errors.push({ code: 'invalid_email', field: 'email', message: `'${String(email)}' is not a valid email address` });
  }

  // An order without a currency is booked in the ERP's home currency, as ERPs commonly do.
  const currency = order.currency;
  if (currency !== undefined && currency !== null && (typeof currency !== 'string' || !CURRENCIES.has(currency))) {
    errors.push({
      code: 'invalid_currency',
      field: 'currency',
      message: `'${String(currency)}' is not a supported currency (${[...CURRENCIES].join(', ')})`,
    });
  }

  const lines = order.lines;
  if (!Array.isArray(lines) || lines.length === 0) {
    if (lines === undefined || lines === null || (Array.isArray(lines) && lines.length === 0)) required('lines');
    else errors.push({ code: 'invalid_type', field: 'lines', message: 'lines must be an array' });
  } else {
    lines.forEach((line: unknown, i) => {
      const at = `lines[${i}]`;
      if (typeof line !== 'object' || line === null) {
        errors.push({ code: 'invalid_type', field: at, message: `${at} must be an object` });
        return;
      }
      const { sku, quantity } = line as Record<string, unknown>;
      if (typeof sku !== 'string' || sku === '') required(`${at}.sku`);
      if (typeof quantity !== 'number' || !Number.isFinite(quantity) || quantity <= 0) {
        errors.push({ code: 'invalid_quantity', field: `${at}.quantity`, message: `${at}.quantity must be greater than 0` });
      }
    });
  }
  return errors;
}

interface ErpState {
  now: () => number;
  rateLimit: number;
  received: number;
  created: number;
  windowStart: number;
  windowCount: number;
  orders: Map<string, SalesOrder & { id: string }>;
}

function erpServer(state: ErpState): Server {
  return jsonServer(async (req, res) => {
    const parts = segments(req);
    const isPost = parts.length === 1 && parts[0] === 'salesOrders' && req.method === 'POST';
    if (isPost) state.received++;
    const { text, tooLarge } = await readBody(req);

    if (!/^Bearer\s+\S+/i.test(req.headers.authorization ?? '')) {
      return sendError(res, 401, 'unauthorized', 'Missing or invalid Authorization header (expected Bearer token)');
    }

    // A fixed window that opens on the first request after the last one closed: after Retry-After
    // (1 s) a client is always in a fresh window.
    const now = state.now();
    if (now - state.windowStart >= RATE_WINDOW_MS) {
      state.windowStart = now;
      state.windowCount = 0;
    }
    state.windowCount++;
    if (state.windowCount > state.rateLimit) {
      return sendErrors(res, 429, [{ code: 'rate_limited', message: 'Too many requests, retry after 1 second' }], {
        'retry-after': '1',
      });
    }

    if (parts[0] !== 'salesOrders' || parts.length > 2) return notFound(res, req);

    if (parts.length === 2) {
      if (req.method !== 'GET') return methodNotAllowed(res, req, 'GET');
      const order = state.orders.get(parts[1] as string);
      if (!order) return sendError(res, 404, 'not_found', `Sales order ${parts[1]} does not exist`);
      return sendJson(res, 200, order);
    }
    if (!isPost) return methodNotAllowed(res, req, 'POST');

    if (tooLarge) return sendError(res, 413, 'payload_too_large', 'The request body exceeds 1 MiB');
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch (error) {
      return sendError(res, 400, 'invalid_json', `The body is not valid JSON: ${(error as Error).message}`);
    }

    const errors = validateSalesOrder(body);
    if (errors.length > 0) return sendErrors(res, 422, errors);

    const order = body as SalesOrder;
    if (state.orders.has(order.orderNumber)) {
      return sendError(res, 409, 'duplicate', `Sales order ${order.orderNumber} already exists`);
    }
    state.created++;
    const id = `ERP-${String(state.created).padStart(6, '0')}`;
    state.orders.set(order.orderNumber, {
      id,
      orderNumber: order.orderNumber,
      email: order.email,
      ...(order.customerName !== undefined ? { customerName: order.customerName } : {}),
      currency: order.currency ?? 'EUR',
      lines: order.lines.map(({ sku, quantity, price }) => ({ sku, quantity, price })),
    });
    sendJson(res, 201, { id, orderNumber: order.orderNumber });
  });
}

// ---------------------------------------------------------------------------------------------
// crm

const TIERS = ['gold', 'silver', 'bronze'] as const;

interface CrmState {
  failureRate: number;
  random: () => number;
  contacts: Map<string, string>;
  nextContact: number;
}

export function crmCustomer(id: string, seed: number): { id: string; tier: (typeof TIERS)[number]; since: string } {
  const h = hashString(id, seed);
  // Mostly bronze, few gold, like a real customer base.
  const roll = h % 100;
  const tier = roll < 15 ? 'gold' : roll < 45 ? 'silver' : 'bronze';
  const month = ((h >>> 8) % 12) + 1;
  const day = ((h >>> 12) % 28) + 1;
  return { id, tier, since: `2021-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}` };
}

function crmServer(state: CrmState, seed: number): Server {
  return jsonServer(async (req, res) => {
    const { text } = await readBody(req);
    const parts = segments(req);
    const isContacts = parts.length === 1 && parts[0] === 'contacts';
    const isCustomer = parts.length === 2 && parts[0] === 'customers';
    if (!isContacts && !isCustomer) return notFound(res, req);
    if (isContacts && req.method !== 'POST') return methodNotAllowed(res, req, 'POST');
    if (isCustomer && req.method !== 'GET') return methodNotAllowed(res, req, 'GET');

    // One draw per request whatever the rate, so changing the rate does not shift the sequence.
    if (state.random() < state.failureRate) {
      return sendError(res, 503, 'service_unavailable', 'CRM is temporarily unavailable, try again later');
    }

    if (isCustomer) return sendJson(res, 200, crmCustomer(parts[1] as string, seed));

    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch (error) {
      return sendError(res, 400, 'invalid_json', `The body is not valid JSON: ${(error as Error).message}`);
    }
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      return sendError(res, 400, 'invalid_body', 'The body must be a JSON object');
    }
    // Upsert by email: posting the same contact twice returns the same id, as CRMs do.
    const email = (body as Record<string, unknown>).email;
    const key = typeof email === 'string' && email !== '' ? email.toLowerCase() : undefined;
    let id = key === undefined ? undefined : state.contacts.get(key);
    if (id === undefined) {
      id = `CRM-${String(state.nextContact++).padStart(6, '0')}`;
      if (key !== undefined) state.contacts.set(key, id);
    }
    sendJson(res, 200, { id, email });
  });
}

// ---------------------------------------------------------------------------------------------
// slow

function slowServer(delayMs: number): { server: Server; timers: Set<NodeJS.Timeout> } {
  const timers = new Set<NodeJS.Timeout>();
  const server = jsonServer(async (req, res) => {
    await drain(req);
    const timer = setTimeout(() => {
      timers.delete(timer);
      if (!res.destroyed) sendJson(res, 200, { ok: true, delayedMs: delayMs });
    }, Math.min(delayMs, MAX_TIMER_MS));
    timer.unref();
    timers.add(timer);
    res.on('close', () => {
      clearTimeout(timer);
      timers.delete(timer);
    });
  });
  // Node's default request timeout (300 s) would otherwise cut a long configured delay short.
  server.requestTimeout = 0;
  return { server, timers };
}

// ---------------------------------------------------------------------------------------------

export async function startMockSystems(options: MockSystemsOptions = {}): Promise<MockSystems> {
  const seed = options.seed ?? DEFAULTS.seed;
  if (!Number.isFinite(seed)) throw new RangeError(`seed must be a number, got ${seed}`);
  const orderCount = checkCount('orders', options.orders ?? DEFAULTS.orders);
  const invalidRatio = checkRate('invalidRatio', options.invalidRatio ?? DEFAULTS.invalidRatio);
  const crmFailureRate = checkRate('crmFailureRate', options.crmFailureRate ?? DEFAULTS.crmFailureRate);
  const erpRateLimit = checkCount('erpRateLimit', options.erpRateLimit ?? DEFAULTS.erpRateLimit, true);
  const slowDelayMs = checkCount('slowDelayMs', options.slowDelayMs ?? DEFAULTS.slowDelayMs);

  const book = generateOrders({ seed, count: orderCount, invalidRatio });
  const erpState: ErpState = {
    now: options.now ?? Date.now,
    rateLimit: erpRateLimit,
    received: 0,
    created: 0,
    windowStart: 0,
    windowCount: 0,
    orders: new Map(),
  };
  // Its own stream (seed mixed), so CRM traffic never changes the orders and vice versa.
  const crmState: CrmState = {
    failureRate: crmFailureRate,
    random: createRng((seed ^ 0x9e3779b9) >>> 0).next,
    contacts: new Map(),
    nextContact: 1,
  };

  const slow = slowServer(slowDelayMs);
  const servers = [shopServer(book), erpServer(erpState), crmServer(crmState, seed), slow.server];
  const closeAll = async () => {
    for (const timer of slow.timers) clearTimeout(timer);
    slow.timers.clear();
    await Promise.all(servers.map(closeServer));
  };

  let ports: number[];
  let downPort: number;
  try {
    ports = await Promise.all(servers.map(listen));
    downPort = await refusedPort();
  } catch (error) {
    await closeAll();
    throw error;
  }
  const [shop, erp, crm, slowPort] = ports as [number, number, number, number];

  let closing: Promise<void> | undefined;
  return {
    urls: { shop: baseUrl(shop), erp: baseUrl(erp), crm: baseUrl(crm), down: baseUrl(downPort), slow: baseUrl(slowPort) },
    crm: {
      setFailureRate(rate) {
        crmState.failureRate = checkRate('crmFailureRate', rate);
      },
    },
    erp: {
      setRateLimit(perSecond) {
        erpState.rateLimit = checkCount('erpRateLimit', perSecond, true);
      },
      setClock(now) {
        erpState.now = now;
        erpState.windowStart = now();
        erpState.windowCount = 0;
      },
      received: () => erpState.received,
      created: () => erpState.created,
    },
    close() {
      closing ??= closeAll();
      return closing;
    },
  };
}

// ---------------------------------------------------------------------------------------------
// target

/** A bare fast target for benchmarks: every request gets `status` and a small JSON body. */
export async function startMockTarget(
  options: { status?: number; body?: unknown } = {},
): Promise<{ url: string; received(): number; close(): Promise<void> }> {
  const status = options.status ?? 200;
  const noBody = status === 204 || status === 304 || (status >= 100 && status < 200);
  const payload = Buffer.from(noBody ? '' : JSON.stringify(options.body ?? { ok: true }));
  // Built once: the hot path only writes these, it never formats headers per request.
  const headers: [string, string][] = noBody
    ? []
    : [
        ['content-type', 'application/json'],
        ['content-length', String(payload.length)],
      ];
  const flatHeaders = headers.flat();
  let received = 0;

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    received++;
    res.sendDate = false;
    const answer = () => {
      res.writeHead(status, flatHeaders);
      res.end(noBody ? undefined : payload);
    };
    if (req.complete) {
      answer();
    } else {
      req.on('end', answer);
      req.resume();
    }
  });
  server.keepAliveTimeout = 30_000;
  const port = await listen(server);
  return { url: baseUrl(port), received: () => received, close: () => closeServer(server) };
}

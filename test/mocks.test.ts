import { afterEach, describe, expect, it } from 'vitest';
import { request } from 'undici';
import {
  INVALID_KINDS,
  generateOrders,
  startMockSystems,
  startMockTarget,
  type InvalidKind,
  type MockSystems,
  type ShopOrder,
} from '../src/mocks/systems.js';

const KEY = { 'x-api-key': 'test-key' };
const BEARER = { authorization: 'Bearer test-token', 'content-type': 'application/json' };

let systems: MockSystems | undefined;
afterEach(async () => {
  await systems?.close();
  systems = undefined;
});

async function start(options: Parameters<typeof startMockSystems>[0] = {}): Promise<MockSystems> {
  systems = await startMockSystems(options);
  return systems;
}

async function getJson(url: string, headers: Record<string, string> = {}) {
  const res = await request(url, { headers });
  return { status: res.statusCode, headers: res.headers, body: (await res.body.json()) as any };
}

async function postJson(url: string, body: unknown, headers: Record<string, string> = BEARER) {
  const res = await request(url, { method: 'POST', headers, body: typeof body === 'string' ? body : JSON.stringify(body) });
  return { status: res.statusCode, headers: res.headers, body: (await res.body.json()) as any };
}

async function allOrders(shop: string): Promise<ShopOrder[]> {
  const { body } = await getJson(`${shop}/orders?page=1&pageSize=200`, KEY);
  return body.orders;
}

/** The mapping the runtime's demo flow applies from a shop order to an ERP sales order. */
function toSalesOrder(order: ShopOrder) {
  return {
    orderNumber: order.id,
    email: order.customer.email,
    customerName: order.customer.name,
    currency: order.currency,
    lines: order.items.map(({ sku, quantity, price }) => ({ sku, quantity, price })),
  };
}

describe('shop', () => {
  it('pages orders and stops with an empty page', async () => {
    const { urls } = await start();
    const first = await getJson(`${urls.shop}/orders?page=1&pageSize=50`, KEY);
    expect(first.status).toBe(200);
    expect(first.headers['content-type']).toBe('application/json');
    expect(first.body).toMatchObject({ page: 1, pageSize: 50, total: 120, totalPages: 3 });
    expect(first.body.orders).toHaveLength(50);
    expect(first.body.orders[0]).toMatchObject({ id: 'SO-10001', currency: 'EUR', customer: { id: 'C-0001' } });
    expect(Date.parse(first.body.orders[0].createdAt)).not.toBeNaN();

    const last = await getJson(`${urls.shop}/orders?page=3&pageSize=50`, KEY);
    expect(last.body.orders).toHaveLength(20);
    expect(last.body.orders.at(-1).id).toBe('SO-10120');
    const past = await getJson(`${urls.shop}/orders?page=4&pageSize=50`, KEY);
    expect(past.status).toBe(200);
    expect(past.body.orders).toEqual([]);

    const defaults = await getJson(`${urls.shop}/orders`, KEY);
    expect(defaults.body).toMatchObject({ page: 1, pageSize: 50 });
    const clamped = await getJson(`${urls.shop}/orders?pageSize=500`, KEY);
    expect(clamped.body.pageSize).toBe(200);
    expect(clamped.body.orders).toHaveLength(120);
    expect((await getJson(`${urls.shop}/orders?page=0`, KEY)).status).toBe(400);
  });

  it('serves one order by id and 404s an unknown one', async () => {
    const { urls } = await start();
    const one = await getJson(`${urls.shop}/orders/SO-10002`, KEY);
    expect(one.status).toBe(200);
    expect(one.body.id).toBe('SO-10002');
    const missing = await getJson(`${urls.shop}/orders/SO-99999`, KEY);
    expect(missing.status).toBe(404);
    expect(missing.body.errors[0].code).toBe('not_found');
    const route = await getJson(`${urls.shop}/nope`, KEY);
    expect(route.status).toBe(404);
    expect(route.headers['content-type']).toBe('application/json');
  });

  it('answers 401 without an x-api-key', async () => {
    const { urls } = await start();
    const res = await getJson(`${urls.shop}/orders`);
    expect(res.status).toBe(401);
    expect(res.body.errors[0].code).toBe('unauthorized');
    expect((await getJson(`${urls.shop}/orders`, { 'x-api-key': '' })).status).toBe(401);
  });

  it('makes about invalidRatio of the orders invalid, of every kind, and valid ones at example domains', async () => {
    const book = generateOrders({ seed: 42, count: 120, invalidRatio: 0.15 });
    expect(book.invalid.size).toBe(18);
    expect(new Set(book.invalid.values())).toEqual(new Set(INVALID_KINDS));
    const domains = new Set(
      book.orders.filter((o) => !book.invalid.has(o.id)).map((o) => o.customer.email?.split('@')[1]),
    );
    expect(domains).toContain('example.com');
    expect(domains).toContain('example.org');
    for (const order of book.orders) {
      if (book.invalid.has(order.id)) continue;
      expect(order.customer.email).toMatch(/^[^\s@]+@[^\s@]+\.[^\s@]+$/);
      expect(order.items.every((i) => i.quantity > 0)).toBe(true);
    }
  });
});

describe('erp', () => {
  it('answers 401 without a Bearer token', async () => {
    const { urls, erp } = await start();
    const order = toSalesOrder((await allOrders(urls.shop))[0]!);
    const none = await postJson(`${urls.erp}/salesOrders`, order, { 'content-type': 'application/json' });
    expect(none.status).toBe(401);
    expect(none.body.errors[0].code).toBe('unauthorized');
    const basic = await postJson(`${urls.erp}/salesOrders`, order, { authorization: 'Basic abc' });
    expect(basic.status).toBe(401);
    expect(erp.received()).toBe(2);
    expect(erp.created()).toBe(0);
  });

  it('rejects each kind of invalid shop order with a 422', async () => {
    const { urls, erp } = await start({ erpRateLimit: 1000 });
    const book = generateOrders({ seed: 42, count: 120, invalidRatio: 0.15 });
    const orders = await allOrders(urls.shop);
    const expected: Record<InvalidKind, { code: string; field: RegExp; message: RegExp }> = {
      invalid_email: { code: 'invalid_email', field: /^email$/, message: /is not a valid email address/ },
      missing_email: { code: 'missing_required_field', field: /^email$/, message: /^email is required$/ },
      invalid_quantity: { code: 'invalid_quantity', field: /^lines\[\d+\]\.quantity$/, message: /must be greater than 0/ },
      invalid_currency: { code: 'invalid_currency', field: /^currency$/, message: /'XYZ'/ },
    };
    const seen = new Set<InvalidKind>();
    for (const order of orders) {
      const kind = book.invalid.get(order.id);
      if (!kind) continue;
      seen.add(kind);
      const res = await postJson(`${urls.erp}/salesOrders`, toSalesOrder(order));
      expect(res.status, `${order.id} (${kind})`).toBe(422);
      expect(res.headers['content-type']).toBe('application/json');
      expect(res.body.errors).toHaveLength(1);
      const [error] = res.body.errors;
      expect(error.code).toBe(expected[kind].code);
      expect(error.field).toMatch(expected[kind].field);
      expect(error.message).toMatch(expected[kind].message);
    }
    expect(seen).toEqual(new Set(INVALID_KINDS));
    expect(erp.received()).toBe(18);
    expect(erp.created()).toBe(0);

    // The messages the brief names, verbatim.
    const space = await postJson(`${urls.erp}/salesOrders`, { ...toSalesOrder(orders[0]!), email: 'jonas example.com' });
    expect(space.body.errors[0].message).toBe("'jonas example.com' is not a valid email address");
    const zero = await postJson(`${urls.erp}/salesOrders`, {
      ...toSalesOrder(orders[0]!),
      lines: [{ sku: 'SKU-101', quantity: 0, price: 1 }],
    });
    expect(zero.body.errors[0].message).toBe('lines[0].quantity must be greater than 0');
  });

  it('answers 400 to a body that is not JSON', async () => {
    const { urls } = await start();
    const res = await postJson(`${urls.erp}/salesOrders`, '{"orderNumber":');
    expect(res.status).toBe(400);
    expect(res.body.errors[0].code).toBe('invalid_json');
  });

  it('creates a valid order once, then answers 409 duplicate', async () => {
    const { urls, erp } = await start();
    const book = generateOrders({ seed: 42, count: 120, invalidRatio: 0.15 });
    const valid = (await allOrders(urls.shop)).find((o) => !book.invalid.has(o.id))!;
    const created = await postJson(`${urls.erp}/salesOrders`, toSalesOrder(valid));
    expect(created.status).toBe(201);
    expect(created.body).toEqual({ id: 'ERP-000001', orderNumber: valid.id });

    const again = await postJson(`${urls.erp}/salesOrders`, toSalesOrder(valid));
    expect(again.status).toBe(409);
    expect(again.body).toEqual({ errors: [{ code: 'duplicate', message: `Sales order ${valid.id} already exists` }] });
    expect(erp.received()).toBe(2);
    expect(erp.created()).toBe(1);

    const stored = await getJson(`${urls.erp}/salesOrders/${valid.id}`, BEARER);
    expect(stored.status).toBe(200);
    expect(stored.body).toMatchObject({ id: 'ERP-000001', orderNumber: valid.id, email: valid.customer.email });
    expect((await getJson(`${urls.erp}/salesOrders/SO-1`, BEARER)).status).toBe(404);
  });

  it('answers 429 with Retry-After once over the limit, and accepts again after it', async () => {
    // The window's clock is the test's: six requests fall in one window however slow the machine.
    let clock = 10_000;
    const { urls, erp } = await start({ erpRateLimit: 5, now: () => clock });
    const orders = (await allOrders(urls.shop)).slice(0, 10);
    const statuses: number[] = [];
    let limited: Awaited<ReturnType<typeof postJson>> | undefined;
    for (const order of orders.slice(0, 6)) {
      const res = await postJson(`${urls.erp}/salesOrders`, toSalesOrder(order));
      statuses.push(res.status);
      if (res.status === 429) limited = res;
    }
    expect(statuses.slice(0, 5)).not.toContain(429);
    expect(statuses[5]).toBe(429);
    expect(limited!.headers['retry-after']).toBe('1');
    expect(limited!.body).toEqual({
      errors: [{ code: 'rate_limited', message: 'Too many requests, retry after 1 second' }],
    });

    clock += 1000; // Retry-After later
    const retried = await postJson(`${urls.erp}/salesOrders`, toSalesOrder(orders[5]!));
    expect(retried.status).not.toBe(429);

    erp.setRateLimit(0);
    expect((await postJson(`${urls.erp}/salesOrders`, toSalesOrder(orders[6]!))).status).toBe(429);
    expect(erp.received()).toBe(8);
  });
});

describe('crm', () => {
  it('fails at roughly the configured rate, and never after setFailureRate(0)', async () => {
    const { urls, crm } = await start({ crmFailureRate: 0.3 });
    let failures = 0;
    for (let i = 0; i < 200; i++) {
      const res = await postJson(`${urls.crm}/contacts`, { email: `person${i}@example.com`, name: `Person ${i}` }, {});
      if (res.status === 503) {
        failures++;
        expect(res.body).toEqual({
          errors: [{ code: 'service_unavailable', message: 'CRM is temporarily unavailable, try again later' }],
        });
      } else {
        expect(res.status).toBe(200);
        expect(res.body).toMatchObject({ id: expect.stringMatching(/^CRM-/), email: `person${i}@example.com` });
      }
    }
    expect(failures).toBeGreaterThan(40);
    expect(failures).toBeLessThan(80);

    crm.setFailureRate(0);
    for (let i = 0; i < 50; i++) {
      expect((await postJson(`${urls.crm}/contacts`, { email: `again${i}@example.com` }, {})).status).toBe(200);
      expect((await getJson(`${urls.crm}/customers/C-${String(i + 1).padStart(4, '0')}`)).status).toBe(200);
    }
  });

  it('describes a customer deterministically from its id', async () => {
    const { urls } = await start({ crmFailureRate: 0 });
    const a = await getJson(`${urls.crm}/customers/C-0007`);
    const b = await getJson(`${urls.crm}/customers/C-0007`);
    expect(a.status).toBe(200);
    expect(a.body).toEqual(b.body);
    expect(a.body.id).toBe('C-0007');
    expect(['gold', 'silver', 'bronze']).toContain(a.body.tier);
    expect(a.body.since).toMatch(/^2021-\d\d-\d\d$/);
  });
});

describe('down and slow', () => {
  it('refuses connections on the down system', async () => {
    const { urls } = await start();
    await expect(request(`${urls.down}/anything`)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });

  it('times out a client with a short timeout, and close() does not wait for it', async () => {
    const { urls } = await start();
    const startedAt = Date.now();
    await expect(request(`${urls.slow}/orders`, { headersTimeout: 200 })).rejects.toMatchObject({
      code: 'UND_ERR_HEADERS_TIMEOUT',
    });
    // Far under the slow system's 30 s, however loaded the machine (undici's timers are coarse, ~1 s).
    expect(Date.now() - startedAt).toBeLessThan(15_000);

    const abortedAt = Date.now();
    await expect(fetch(`${urls.slow}/orders`, { signal: AbortSignal.timeout(200) })).rejects.toMatchObject({
      name: 'TimeoutError',
    });
    expect(Date.now() - abortedAt).toBeLessThan(15_000);

    // A request still parked on the slow system when everything closes.
    const parked = request(`${urls.slow}/orders`).then(
      () => 'answered',
      () => 'dropped',
    );
    await new Promise((r) => setTimeout(r, 50));
    const closingAt = Date.now();
    await systems!.close();
    systems = undefined;
    expect(Date.now() - closingAt).toBeLessThan(15_000);
    expect(await parked).toBe('dropped');
  });
});

describe('determinism', () => {
  it('serves identical orders from two instances with the same seed', async () => {
    const a = await startMockSystems({ seed: 7 });
    const b = await startMockSystems({ seed: 7 });
    const c = await startMockSystems({ seed: 8 });
    try {
      const [ordersA, ordersB, ordersC] = await Promise.all([allOrders(a.urls.shop), allOrders(b.urls.shop), allOrders(c.urls.shop)]);
      expect(ordersA).toHaveLength(120);
      expect(ordersA).toEqual(ordersB);
      expect(ordersA).not.toEqual(ordersC);
    } finally {
      await Promise.all([a.close(), b.close(), c.close()]);
    }
  });

  it('fails the same CRM requests for the same seed', async () => {
    const run = async () => {
      const s = await startMockSystems({ seed: 3 });
      try {
        const statuses: number[] = [];
        for (let i = 0; i < 30; i++) statuses.push((await postJson(`${s.urls.crm}/contacts`, { email: `x${i}@example.com` }, {})).status);
        return statuses;
      } finally {
        await s.close();
      }
    };
    expect(await run()).toEqual(await run());
  });
});

describe('startMockTarget', () => {
  it('answers every request with the configured status and body, and counts them', async () => {
    const target = await startMockTarget({ status: 201, body: { id: 'x' } });
    try {
      const results = await Promise.all(
        Array.from({ length: 200 }, (_, i) =>
          request(`${target.url}/records`, { method: 'POST', body: JSON.stringify({ i, pad: 'x'.repeat(i * 50) }) }).then(
            async (res) => ({ status: res.statusCode, type: res.headers['content-type'], body: await res.body.json() }),
          ),
        ),
      );
      for (const r of results) expect(r).toEqual({ status: 201, type: 'application/json', body: { id: 'x' } });
      expect(target.received()).toBe(200);
    } finally {
      await target.close();
    }
  });

  it('defaults to 200 and handles a body-less status', async () => {
    const ok = await startMockTarget();
    const empty = await startMockTarget({ status: 204 });
    try {
      const res = await request(ok.url);
      expect(res.statusCode).toBe(200);
      expect(await res.body.json()).toEqual({ ok: true });
      const none = await request(empty.url, { method: 'POST', body: '{}' });
      expect(none.statusCode).toBe(204);
      expect(await none.body.text()).toBe('');
    } finally {
      await Promise.all([ok.close(), empty.close()]);
    }
  });
});

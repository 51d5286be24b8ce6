import { createRng, type Rng } from './prng.js';

// The shop's order book, generated once per mock instance from the seed. Invalid orders carry one
// defect each, of the kinds a real ERP rejects, so a demo run fills every validation bucket.

export interface ShopOrderItem {
  sku: string;
  quantity: number;
  price: number;
}

export interface ShopCustomer {
  id: string;
  name: string;
  /** Absent on the orders whose defect is a missing email. */
  email?: string;
}

export interface ShopOrder {
  id: string;
  createdAt: string;
  customer: ShopCustomer;
  items: ShopOrderItem[];
  total: number;
  currency: string;
}

export const INVALID_KINDS = ['invalid_email', 'missing_email', 'invalid_quantity', 'invalid_currency'] as const;
export type InvalidKind = (typeof INVALID_KINDS)[number];

export interface OrderBook {
  orders: ShopOrder[];
  byId: Map<string, ShopOrder>;
  /** Which orders were made invalid, and how: the shop never says, tests and the demo may. */
  invalid: Map<string, InvalidKind>;
}

export interface GenerateOrdersOptions {
  seed: number;
  count: number;
  invalidRatio: number;
}

const FIRST_NAMES = [
  'Anna', 'Jonas', 'Lena', 'Lukas', 'Maria', 'Felix', 'Sophie', 'Leon', 'Emma', 'Paul', 'Mia',
  'Noah', 'Clara', 'Elias', 'Laura', 'Finn', 'Julia', 'David', 'Sara', 'Tom', 'Hannah', 'Max',
  'Lea', 'Ben', 'Marie', 'Luca', 'Chloé', 'Mateo', 'Sofia', 'Liam', 'Zoé', 'Hugo', 'Inès',
  'Oskar', 'Freya', 'Nils', 'Aisha', 'Omar', 'Mehmet', 'Elif', 'Piotr', 'Zofia', 'Jan', 'Eva',
  'Marco', 'Giulia', 'Pablo', 'Lucía', 'Jürgen', 'Björn',
] as const;

const LAST_NAMES = [
  'Schmidt', 'Müller', 'Weber', 'Fischer', 'Wagner', 'Becker', 'Hoffmann', 'Schulz', 'Koch',
  'Richter', 'Klein', 'Wolf', 'Neumann', 'Schwarz', 'Braun', 'Zimmermann', 'Krüger', 'Hartmann',
  'Lange', 'Werner', 'Dubois', 'Martin', 'Rossi', 'Bianchi', 'García', 'Fernández', 'Jansen',
  'de Vries', 'Nowak', 'Kowalski', 'Yılmaz', 'Andersson', 'Nielsen', "O'Brien", 'Novak', 'Weiß',
] as const;

// Reserved example domains only, so no generated address can ever belong to someone.
const DOMAINS = ['example.com', 'example.com', 'example.org', 'example.net', 'mail.example', 'post.example'] as const;

const PRODUCT_COUNT = 40;
const FIRST_ORDER_NUMBER = 10001;
const FIRST_ORDER_AT = Date.UTC(2025, 2, 3, 8, 0, 0);
const RETURNING_CUSTOMER_SHARE = 0.35;

function round2(value: number): number {
  return Math.round(value * 100) / 100;
}

/** "Jürgen" → "juergen", "O'Brien" → "obrien": what people type as the local part. */
export function emailLocal(name: string): string {
  return name
    .toLowerCase()
    .replace(/ä/g, 'ae')
    .replace(/ö/g, 'oe')
    .replace(/ü/g, 'ue')
    .replace(/ß/g, 'ss')
    .replace(/ı/g, 'i')
    .normalize('NFD')
    .replace(/[^a-z0-9]/g, '');
}

function catalogue(rng: Rng): Array<{ sku: string; price: number }> {
  const endings = [0.99, 0.49, 0.95, 0];
  const products: Array<{ sku: string; price: number }> = [];
  for (let i = 0; i < PRODUCT_COUNT; i++) {
    const whole = rng.next() < 0.7 ? rng.int(3, 49) : rng.int(50, 249);
    products.push({ sku: `SKU-${101 + i}`, price: round2(whole + rng.pick(endings)) });
  }
  return products;
}

function validEmail(rng: Rng, first: string, last: string): string {
  const f = emailLocal(first);
  const l = emailLocal(last);
  const style = rng.next();
  const local = style < 0.6 ? `${f}.${l}` : style < 0.8 ? `${f.charAt(0)}${l}` : `${f}.${l}${rng.int(1, 99)}`;
  return `${local}@${rng.pick(DOMAINS)}`;
}

/** The typos that reach a shop whose checkout does not validate: a doubled @, a space, no @ at all. */
function brokenEmail(rng: Rng, first: string, last: string, variant: number): string {
  const local = `${emailLocal(first)}.${emailLocal(last)}`;
  switch (variant % 3) {
    case 0:
      return `${local}@@example`;
    case 1:
      return `${emailLocal(first)} ${rng.pick(DOMAINS)}`;
    default:
      return `${local}.${rng.pick(DOMAINS)}`;
  }
}

export function generateOrders({ seed, count, invalidRatio }: GenerateOrdersOptions): OrderBook {
  const rng = createRng(seed);
  const products = catalogue(rng);

  // Which orders are invalid is fixed up front (a shuffled pick, kinds dealt round-robin) so the
  // share is exact and every kind shows up, instead of drifting with a per-order coin flip.
  const invalidCount = Math.min(count, Math.round(count * invalidRatio));
  const indices = rng.shuffle(Array.from({ length: count }, (_, i) => i)).slice(0, invalidCount);
  const kindAt = new Map<number, InvalidKind>();
  indices.forEach((index, n) => kindAt.set(index, INVALID_KINDS[n % INVALID_KINDS.length] as InvalidKind));

  const customers: ShopCustomer[] = [];
  const newCustomer = (email: (first: string, last: string) => string | undefined): ShopCustomer => {
    const first = rng.pick(FIRST_NAMES);
    const last = rng.pick(LAST_NAMES);
    const customer: ShopCustomer = { id: `C-${String(customers.length + 1).padStart(4, '0')}`, name: `${first} ${last}` };
    const address = email(first, last);
    if (address !== undefined) customer.email = address;
    customers.push(customer);
    return customer;
  };

  const returning: ShopCustomer[] = [];
  const orders: ShopOrder[] = [];
  const invalid = new Map<string, InvalidKind>();
  let at = FIRST_ORDER_AT;
  let brokenEmails = 0;
  for (let i = 0; i < count; i++) {
    const id = `SO-${FIRST_ORDER_NUMBER + i}`;
    const kind = kindAt.get(i);
    at += rng.int(7, 240) * 60_000 + rng.int(0, 59) * 1000;

    let customer: ShopCustomer;
    if (kind === 'invalid_email') {
      const variant = brokenEmails++;
      customer = newCustomer((first, last) => brokenEmail(rng, first, last, variant));
    } else if (kind === 'missing_email') {
      customer = newCustomer(() => undefined);
    } else {
      // Only customers with a valid email come back, so a defect stays on exactly one order.
      if (returning.length > 0 && rng.next() < RETURNING_CUSTOMER_SHARE) {
        customer = rng.pick(returning);
      } else {
        customer = newCustomer((first, last) => validEmail(rng, first, last));
        returning.push(customer);
      }
    }

    const items: ShopOrderItem[] = [];
    const lineCount = rng.int(1, 4);
    const used = new Set<string>();
    while (items.length < lineCount) {
      const product = rng.pick(products);
      if (used.has(product.sku)) continue;
      used.add(product.sku);
      items.push({ sku: product.sku, quantity: rng.int(1, 5), price: product.price });
    }
    if (kind === 'invalid_quantity') {
      const line = items[rng.int(0, items.length - 1)] as ShopOrderItem;
      line.quantity = rng.next() < 0.5 ? 0 : -rng.int(1, 3);
    }

    const order: ShopOrder = {
      id,
      createdAt: new Date(at).toISOString(),
      customer: { ...customer },
      items,
      total: round2(items.reduce((sum, item) => sum + item.quantity * item.price, 0)),
      currency: kind === 'invalid_currency' ? 'XYZ' : 'EUR',
    };
    orders.push(order);
    if (kind !== undefined) invalid.set(id, kind);
  }

  return { orders, byId: new Map(orders.map((o) => [o.id, o])), invalid };
}

import { describe, expect, it } from 'vitest';
import { schemas } from '../../src/flows/schema.js';
import { applyMapping, getPath, renderTemplate, setPath, splitPath, templateRefs } from '../../src/flows/template.js';

const { mappingSchema } = schemas();

const order = {
  id: 'SO-10001',
  customer: { id: 'C-0001', name: 'Anna Schmidt', email: 'anna@example.com' },
  items: [
    { sku: 'SKU-1', quantity: 2, price: 9.5 },
    { sku: 'SKU-2', quantity: '3', price: '4.25' },
  ],
  currency: 'EUR',
  flags: { gift: 'true' },
};

describe('getPath', () => {
  it('reads dotted and indexed paths', () => {
    expect(getPath(order, 'customer.email')).toBe('anna@example.com');
    expect(getPath(order, 'items[1].sku')).toBe('SKU-2');
    expect(getPath(order, 'items.1.sku')).toBe('SKU-2');
    expect(getPath(order, 'items')).toBe(order.items);
    expect(getPath(order, '')).toBe(order);
  });

  it('is undefined when a step is missing or not an object', () => {
    expect(getPath(order, 'customer.phone')).toBeUndefined();
    expect(getPath(order, 'items[7].sku')).toBeUndefined();
    expect(getPath(order, 'id.length')).toBeUndefined();
    expect(getPath({ a: null }, 'a.b')).toBeUndefined();
    expect(getPath(undefined, 'a')).toBeUndefined();
  });

  it('splits paths the same way both syntaxes', () => {
    expect(splitPath('a.b[0].c')).toEqual(['a', 'b', '0', 'c']);
    expect(splitPath('a..b.')).toEqual(['a', 'b']);
  });
});

describe('setPath', () => {
  it('creates objects, and arrays where the next step is an index', () => {
    const out: Record<string, unknown> = {};
    setPath(out, 'customer.name', 'Anna');
    setPath(out, 'lines[0].sku', 'SKU-1');
    setPath(out, 'lines[1].sku', 'SKU-2');
    expect(out).toEqual({ customer: { name: 'Anna' }, lines: [{ sku: 'SKU-1' }, { sku: 'SKU-2' }] });
    expect(Array.isArray(out.lines)).toBe(true);
  });

  it('replaces a primitive in the way and keeps siblings', () => {
    const out: Record<string, unknown> = { a: 5, b: { keep: true } };
    setPath(out, 'a.x', 1);
    setPath(out, 'b.y', 2);
    expect(out).toEqual({ a: { x: 1 }, b: { keep: true, y: 2 } });
  });
});

describe('renderTemplate', () => {
  const scope = { record: order, env: { TOKEN: 'abc' }, mocks: { shop: 'http://127.0.0.1:1234' }, config: { n: 0, flag: false } };

  it('replaces references, with or without inner spaces', () => {
    expect(renderTemplate('{{mocks.shop}}/orders/{{ record.id }}', scope)).toBe('http://127.0.0.1:1234/orders/SO-10001');
    expect(renderTemplate('Bearer {{env.TOKEN}}', scope)).toBe('Bearer abc');
  });

  it('renders missing and null as empty, falsy values as text, objects as JSON', () => {
    expect(renderTemplate('[{{env.NOPE}}]', scope)).toBe('[]');
    expect(renderTemplate('[{{record.none}}]', { record: { none: null } })).toBe('[]');
    expect(renderTemplate('{{config.n}}/{{config.flag}}', scope)).toBe('0/false');
    expect(renderTemplate('{{record.customer}}', scope)).toBe(JSON.stringify(order.customer));
  });

  it('encodes values, never the template around them', () => {
    const rendered = renderTemplate('/customers/{{record.id}}?q=a b', { record: { id: 'C 1/2' } }, encodeURIComponent);
    expect(rendered).toBe('/customers/C%201%2F2?q=a b');
  });

  it('lists the references of a template', () => {
    expect(templateRefs('{{ env.A }}-{{config.b.c}}-{{record.id}}')).toEqual(['env.A', 'config.b.c', 'record.id']);
    expect(templateRefs('no refs')).toEqual([]);
  });
});

describe('applyMapping', () => {
  it('passes the record through when there is no mapping', () => {
    expect(applyMapping(undefined, order)).toEqual({ ok: true, value: order });
    expect(applyMapping(mappingSchema.parse({}), order)).toEqual({ ok: true, value: order });
  });

  it('maps fields, hard-coded values and data types', () => {
    const mapping = mappingSchema.parse({
      fields: [
        { extract: 'id', generate: 'orderNumber', required: true },
        { extract: 'customer.email', generate: 'contact.email' },
        { extract: 'customer.phone', generate: 'contact.phone' },
        { hardCodedValue: 'shop', generate: 'channel' },
        { extract: 'items[1].quantity', generate: 'firstQty', dataType: 'number' },
        { extract: 'items[0].quantity', generate: 'qtyText', dataType: 'string' },
        { extract: 'customer', generate: 'customerJson', dataType: 'string' },
        { extract: 'flags.gift', generate: 'gift', dataType: 'boolean' },
      ],
    });
    const result = applyMapping(mapping, order);
    expect(result).toEqual({
      ok: true,
      value: {
        orderNumber: 'SO-10001',
        contact: { email: 'anna@example.com' },
        channel: 'shop',
        firstQty: 3,
        qtyText: '2',
        customerJson: JSON.stringify(order.customer),
        gift: true,
      },
    });
    // an absent optional field is left out, not set to undefined or null
    expect(result.ok && 'phone' in (result.value.contact as object)).toBe(false);
  });

  it('fails on the first missing required field, naming the generated field', () => {
    const mapping = mappingSchema.parse({
      fields: [
        { extract: 'id', generate: 'orderNumber', required: true },
        { extract: 'customer.email', generate: 'email', required: true },
      ],
    });
    const noEmail = { ...order, customer: { id: 'C-2', name: 'No Mail' } };
    expect(applyMapping(mapping, noEmail)).toEqual({ ok: false, field: 'email', detail: 'customer.email is required but missing in the record' });
    expect(applyMapping(mapping, { ...order, customer: { ...order.customer, email: '' } })).toMatchObject({ ok: false, field: 'email' });
    expect(applyMapping(mapping, { ...order, customer: { ...order.customer, email: null } })).toMatchObject({ ok: false, field: 'email' });
    expect(applyMapping(mapping, order).ok).toBe(true);
  });

  it('maps lists item by item, an absent list to an empty one', () => {
    const mapping = mappingSchema.parse({
      fields: [{ extract: 'id', generate: 'orderNumber' }],
      lists: [
        {
          generate: 'lines',
          extract: 'items',
          fields: [
            { extract: 'sku', generate: 'sku', required: true },
            { extract: 'quantity', generate: 'qty', dataType: 'number' },
            { extract: 'price', generate: 'amount.value', dataType: 'number' },
          ],
        },
      ],
    });
    expect(applyMapping(mapping, order)).toEqual({
      ok: true,
      value: {
        orderNumber: 'SO-10001',
        lines: [
          { sku: 'SKU-1', qty: 2, amount: { value: 9.5 } },
          { sku: 'SKU-2', qty: 3, amount: { value: 4.25 } },
        ],
      },
    });
    expect(applyMapping(mapping, { id: 'SO-2' })).toEqual({ ok: true, value: { orderNumber: 'SO-2', lines: [] } });
  });

  it('names the list item of a missing required list field', () => {
    const mapping = mappingSchema.parse({
      lists: [{ generate: 'lines', extract: 'items', fields: [{ extract: 'sku', generate: 'sku', required: true }] }],
    });
    const broken = { items: [{ sku: 'A' }, { quantity: 1 }] };
    expect(applyMapping(mapping, broken)).toEqual({ ok: false, field: 'lines[1].sku', detail: 'sku is required but missing' });
  });
});

import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FlowDefinitionError } from '../../src/domain/errors.js';
import { definitionId } from '../../src/domain/ids.js';
import { loadCatalog, parseFlowFile } from '../../src/flows/load.js';
import { DEMO_FLOWS_YAML } from '../../src/workspace/demo.js';
import { tempHome, writeFlowFile } from '../helpers/workspace.js';

const cleanups: Array<() => void> = [];
afterEach(() => {
  while (cleanups.length) cleanups.pop()!();
});

function home(): string {
  const t = tempHome();
  cleanups.push(t.cleanup);
  return t.home;
}

const CONNECTIONS = `connections:
  - name: Shop
    http: { baseURI: "http://shop.example" }
  - name: ERP
    http: { baseURI: "http://erp.example", auth: { type: bearer, token: "{{env.ERP_TOKEN}}" } }
exports:
  - name: Orders
    _connectionId: Shop
    http: { relativeURI: /orders }
imports:
  - name: Sales orders
    _connectionId: ERP
    http: { relativeURI: /salesOrders }
`;

/** The FlowDefinitionError a load throws; fails the test when it does not throw one. */
function loadError(dir: string): FlowDefinitionError {
  try {
    loadCatalog(dir);
  } catch (e) {
    expect(e).toBeInstanceOf(FlowDefinitionError);
    return e as FlowDefinitionError;
  }
  throw new Error('expected loadCatalog to throw');
}

describe('loadCatalog: a valid workspace', () => {
  it('loads the demo flows with resolved references, kinds, positions and policies', () => {
    const h = home();
    writeFlowFile(h, 'demo.yaml', DEMO_FLOWS_YAML);
    const catalog = loadCatalog(join(h, 'flows'));
    expect(catalog.connections.size).toBe(5);
    expect(catalog.exports.size).toBe(3);
    expect(catalog.imports.size).toBe(4);
    expect([...catalog.flows.values()].map((f) => f.name).sort()).toEqual(['Orders to warehouse', 'Shop customers to CRM', 'Shop orders to ERP']);

    const flow = catalog.flows.get(definitionId('flow', 'Shop orders to ERP'))!;
    expect(flow.file).toBe(join(h, 'flows', 'demo.yaml'));
    expect(flow.steps.map((s) => [s.name, s.kind, s.position])).toEqual([
      ['Shop orders', 'export', 0],
      ['CRM customer lookup', 'lookup', 1],
      ['ERP sales orders', 'import', 2],
    ]);
    expect(flow.steps.map((s) => s.id)).toEqual([
      definitionId('export', 'Shop orders'),
      definitionId('export', 'CRM customer lookup'),
      definitionId('import', 'ERP sales orders'),
    ]);
    expect(flow.steps[2]!.retryPolicy).toEqual({ count: 5, intervalSeconds: 2, backoffRate: 2, maxIntervalSeconds: 120 });
    expect(flow.steps[0]!.retryPolicy).toBeUndefined();
    const erp = catalog.imports.get(definitionId('import', 'ERP sales orders'))!;
    expect(erp.connectionId).toBe(definitionId('connection', 'ERP'));

    const warehouse = catalog.flows.get(definitionId('flow', 'Orders to warehouse'))!;
    expect(warehouse.steps.map((s) => s.proceedOnFailure)).toEqual([false, true, false]);
  });

  it('resolves references across files, by name or by _id, and ignores other files', () => {
    const h = home();
    writeFlowFile(h, 'a-connections.yaml', CONNECTIONS);
    writeFlowFile(h, 'README.md', 'not a flow file: {{{');
    writeFlowFile(
      h,
      'b-flow.json',
      JSON.stringify({
        flows: [
          {
            _id: 'AAAAAAAAAAAAAAAAAAAAAAAA',
            name: 'Orders to ERP',
            pageGenerators: [{ _exportId: 'Orders' }],
            pageProcessors: [{ type: 'import', _importId: definitionId('import', 'Sales orders').toUpperCase() }],
          },
        ],
      }),
    );
    const catalog = loadCatalog(join(h, 'flows'));
    const flow = catalog.flows.get('aaaaaaaaaaaaaaaaaaaaaaaa')!;
    expect(flow.name).toBe('Orders to ERP');
    expect(flow.steps.map((s) => s.id)).toEqual([definitionId('export', 'Orders'), definitionId('import', 'Sales orders')]);
  });

  it('changes its digest when a file changes, and only then', () => {
    const h = home();
    writeFlowFile(h, 'demo.yaml', DEMO_FLOWS_YAML);
    const dir = join(h, 'flows');
    const first = loadCatalog(dir).digest;
    expect(loadCatalog(dir).digest).toBe(first);
    writeFlowFile(h, 'demo.yaml', `${DEMO_FLOWS_YAML}\n# edited\n`);
    expect(loadCatalog(dir).digest).not.toBe(first);
  });

  it('is empty for a missing or empty flows directory', () => {
    const h = home();
    expect(loadCatalog(join(h, 'flows')).flows.size).toBe(0);
    writeFlowFile(h, 'empty.yaml', '');
    expect(loadCatalog(join(h, 'flows')).flows.size).toBe(0);
  });
});

describe('loadCatalog: errors name the file and the field', () => {
  it('an unknown reference', () => {
    const h = home();
    writeFlowFile(h, 'a.yaml', CONNECTIONS);
    const file = writeFlowFile(
      h,
      'b.yaml',
      `flows:
  - name: Broken
    pageGenerators: [{ _exportId: Orders }]
    pageProcessors:
      - { type: import, _importId: nope }
`,
    );
    const e = loadError(join(h, 'flows'));
    expect(e.message).toBe(`${file}: flows[0].pageProcessors[0]._importId: unknown import "nope"`);
    expect(e.file).toBe(file);
    expect(e.fieldPath).toBe('flows[0].pageProcessors[0]._importId');
    expect(e.exitCode).toBe(2);
    expect(e.toBody()).toEqual({ errors: [{ code: 'invalid_flow_definition', message: e.message, field: 'flows[0].pageProcessors[0]._importId' }] });
  });

  it('an unknown connection of an export', () => {
    const h = home();
    const file = writeFlowFile(h, 'x.yaml', CONNECTIONS.replace('_connectionId: Shop', '_connectionId: Shopp'));
    expect(loadError(join(h, 'flows')).message).toBe(`${file}: exports[0]._connectionId: unknown connection "Shopp"`);
  });

  it('an unknown field', () => {
    const h = home();
    const file = writeFlowFile(h, 'x.yaml', CONNECTIONS.replace('baseURI: "http://shop.example"', 'baseURI: "http://shop.example", timeout: 5'));
    expect(loadError(join(h, 'flows')).message).toBe(`${file}: connections[0].http: unknown field timeout`);
  });

  it('a missing required field', () => {
    const h = home();
    const file = writeFlowFile(h, 'x.yaml', `${CONNECTIONS}flows:\n  - pageGenerators: [{ _exportId: Orders }]\n    pageProcessors: [{ type: import, _importId: Sales orders }]\n`);
    expect(loadError(join(h, 'flows')).message).toBe(`${file}: flows[0].name: is required`);
  });

  it('a value of the wrong type is not reported as missing', () => {
    const h = home();
    const file = writeFlowFile(h, 'x.yaml', CONNECTIONS.replace('baseURI: "http://shop.example"', 'baseURI: "http://shop.example", timeoutMs: fast'));
    const e = loadError(join(h, 'flows'));
    expect(e.message.startsWith(`${file}: connections[0].http.timeoutMs: `)).toBe(true);
    expect(e.message).not.toMatch(/is required/);
    expect(e.message).toMatch(/number/);
  });

  it('a value out of range', () => {
    const h = home();
    const file = writeFlowFile(h, 'x.yaml', CONNECTIONS.replace('baseURI: "http://shop.example"', 'baseURI: "http://shop.example", concurrency: 0'));
    expect(loadError(join(h, 'flows')).message).toMatch(new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: connections\\[0\\]\\.http\\.concurrency: `));
  });

  it('bad YAML, with its line', () => {
    const h = home();
    const file = writeFlowFile(h, 'x.yaml', 'connections:\n  - name: A\n   http: x\n    y: [\n');
    const e = loadError(join(h, 'flows'));
    expect(e.message).toMatch(/not valid YAML/);
    expect(e.message.startsWith(`${file}: line 3: `)).toBe(true);
  });

  it('bad JSON', () => {
    const h = home();
    const file = writeFlowFile(h, 'x.json', '{"flows": [');
    expect(loadError(join(h, 'flows')).message.startsWith(`${file}: not valid JSON: `)).toBe(true);
  });

  it('a duplicate connection name across files names both', () => {
    const h = home();
    const first = writeFlowFile(h, 'a.yaml', CONNECTIONS);
    const second = writeFlowFile(h, 'b.yaml', 'connections:\n  - name: Shop\n    http: { baseURI: "http://other.example" }\n');
    expect(loadError(join(h, 'flows')).message).toBe(`${second}: connections[0]: duplicate connection "Shop" (also in ${first})`);
  });

  it('a duplicate flow name', () => {
    const h = home();
    const flow = '  - name: Twice\n    pageGenerators: [{ _exportId: Orders }]\n    pageProcessors: [{ type: import, _importId: Sales orders }]\n';
    const file = writeFlowFile(h, 'a.yaml', `${CONNECTIONS}flows:\n${flow}${flow}`);
    expect(loadError(join(h, 'flows')).message).toBe(`${file}: flows[1]: duplicate flow "Twice" (also in ${file})`);
  });

  it('a step used twice in one flow', () => {
    const h = home();
    const file = writeFlowFile(
      h,
      'a.yaml',
      `${CONNECTIONS}flows:\n  - name: F\n    pageGenerators: [{ _exportId: Orders }]\n    pageProcessors:\n      - { type: import, _importId: Sales orders }\n      - { type: import, _importId: Sales orders }\n`,
    );
    expect(loadError(join(h, 'flows')).message).toBe(`${file}: flows[0].pageProcessors[1]: step "Sales orders" appears twice in the flow`);
  });

  it('a malformed _id', () => {
    expect(() => parseFlowFile('/w/flows/x.yaml', 'connections:\n  - { _id: xyz, name: A, http: { baseURI: "http://a" } }\n')).toThrow(
      '/w/flows/x.yaml: connections[0]._id: must be a 24-character hex id',
    );
  });
});

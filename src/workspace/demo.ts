import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { ConflictError } from '../domain/errors.js';
import { join } from 'node:path';
import type { Store } from '../store/contract/store.js';
import { ensureHomeDirectory } from './open-checks.js';
import { Workspace } from './workspace.js';

// The demo workspace: three flows over the built-in mock systems (shop → CRM lookup → ERP, shop →
// flaky CRM, shop → a warehouse that is down and a legacy archive that times out), a few users and
// a tag catalog. Its connections point at {{mocks.*}}, which every process that runs records fills
// with the mock systems it starts, and at secrets kept in the workspace config.

export const DEMO_FLOW_FILE = 'demo.yaml';

export const DEMO_FLOWS_YAML = `# The flowdeck demo: flows over the built-in mock systems (started whenever a run or retry needs them).
connections:
  - name: Shop
    http:
      baseURI: "{{mocks.shop}}"
      headers:
        - name: x-api-key
          value: "{{config.secrets.shopApiKey}}"
      concurrency: 8
  - name: ERP
    http:
      baseURI: "{{mocks.erp}}"
      auth: { type: bearer, token: "{{config.secrets.erpToken}}" }
      concurrency: 8
  - name: CRM
    http:
      baseURI: "{{mocks.crm}}"
      concurrency: 8
  - name: Warehouse
    http:
      baseURI: "{{mocks.down}}"
      timeoutMs: 2000
      concurrency: 25
  - name: Legacy archive
    http:
      baseURI: "{{mocks.slow}}"
      timeoutMs: 1000
      concurrency: 25

exports:
  - name: Shop orders
    _connectionId: Shop
    http:
      relativeURI: /orders
      paging: { method: page, pageSize: 50 }
      response: { resourcePath: orders }
    traceKeyTemplate: "{{record.id}}"
  - name: Shop recent orders
    _connectionId: Shop
    http:
      relativeURI: /orders?page=1&pageSize=25
      response: { resourcePath: orders }
    traceKeyTemplate: "{{record.id}}"
  - name: CRM customer lookup
    _connectionId: CRM
    http:
      relativeURI: "/customers/{{record.customer.id}}"
    responseMapping:
      fields:
        - { extract: tier, generate: customer.tier }

imports:
  - name: ERP sales orders
    _connectionId: ERP
    http:
      method: POST
      relativeURI: /salesOrders
    mapping:
      fields:
        - { extract: id, generate: orderNumber, required: true }
        - { extract: customer.email, generate: email }
        - { extract: customer.name, generate: customerName }
        - { extract: currency, generate: currency }
        - { extract: customer.tier, generate: priority }
      lists:
        - generate: lines
          extract: items
          fields:
            - { extract: sku, generate: sku }
            - { extract: quantity, generate: quantity }
            - { extract: price, generate: price }
  - name: CRM contacts
    _connectionId: CRM
    http:
      method: POST
      relativeURI: /contacts
    mapping:
      fields:
        - { extract: customer.email, generate: email, required: true }
        - { extract: customer.name, generate: name }
        - { extract: id, generate: lastOrder }
  - name: Warehouse shipments
    _connectionId: Warehouse
    http:
      method: POST
      relativeURI: /shipments
    mapping:
      fields:
        - { extract: id, generate: orderNumber }
        - { extract: items, generate: lines }
  - name: Legacy order archive
    _connectionId: Legacy archive
    http:
      method: POST
      relativeURI: /archive/orders

flows:
  - name: Shop orders to ERP
    description: Every shop order becomes an ERP sales order, enriched with the customer's CRM tier.
    autoResolveMatchingTraceKeys: true
    logging: { mode: full }
    pageGenerators:
      - _exportId: Shop orders
    pageProcessors:
      - type: export
        _exportId: CRM customer lookup
        onError:
          retries: { count: 3, intervalSeconds: 5, backoffRate: 2 }
      - type: import
        _importId: ERP sales orders
        onError:
          retries: { count: 5, intervalSeconds: 2, backoffRate: 2, maxIntervalSeconds: 120 }
  - name: Shop customers to CRM
    description: Keeps CRM contacts current with the shop's customers.
    logging: { mode: full }
    pageGenerators:
      - _exportId: Shop orders
    pageProcessors:
      - type: import
        _importId: CRM contacts
        onError:
          retries: { count: 4, intervalSeconds: 10, backoffRate: 3 }
  - name: Orders to warehouse
    description: Sends recent orders to the warehouse and the legacy archive.
    pageGenerators:
      - _exportId: Shop recent orders
    pageProcessors:
      - type: import
        _importId: Warehouse shipments
        proceedOnFailure: true
      - type: import
        _importId: Legacy order archive
`;

export const DEMO_USERS = [
  { email: 'ana.lima@acme.example', name: 'Ana Lima' },
  { email: 'ben.okafor@acme.example', name: 'Ben Okafor' },
  { email: 'chen.wei@acme.example', name: 'Chen Wei' },
];

export const DEMO_TAGS = ['Investigating', 'Needs data fix', 'Waiting on target', 'Known issue', 'Noise'];

/** A stable 5-character short code for a tag name, like the platform's (e.g. F3ZBQ). */
export function tagCode(name: string): string {
  const alphabet = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';
  const digest = createHash('sha1').update(name.toLowerCase()).digest();
  return Array.from(digest.subarray(0, 5), (b) => alphabet[b % alphabet.length]).join('');
}

/**
 * The demo writes flows, secrets and config and may start over: it works only in an empty directory
 * or in a workspace that is already a demo, never in someone's real workspace.
 */
export function assertDemoHome(home: string): void {
  ensureHomeDirectory(home); // a file there is said to be one before --reset touches anything
  let entries: string[];
  try {
    entries = readdirSync(home);
  } catch {
    return; // no such directory yet
  }
  if (entries.length === 0) return;
  let demo = false;
  let storeOnly = false;
  try {
    const config = JSON.parse(readFileSync(join(home, 'config.json'), 'utf8')) as Record<string, unknown>;
    demo = config.demo === true;
    // A new workspace whose config names only its store (a PostgreSQL server) is as good as empty.
    storeOnly = entries.length === 1 && Object.keys(config).length === 1 && typeof config.store === 'string';
  } catch {
    demo = false;
  }
  if (!demo && !storeOnly) {
    throw new ConflictError(`${home} is not empty and not a demo workspace; set FLOWDECK_HOME to an empty directory for the demo`, 'not_a_demo_workspace');
  }
}

export function isSeeded(home: string): boolean {
  return existsSync(join(home, 'flows', DEMO_FLOW_FILE));
}

/** Removes what a demo workspace holds, so --reset starts over. */
export function resetWorkspace(home: string): void {
  const store = configuredStore(home);
  for (const name of ['flowdeck.db', 'flowdeck.db-wal', 'flowdeck.db-shm', 'config.json', join('flows', DEMO_FLOW_FILE)]) {
    rmSync(join(home, name), { force: true });
  }
  // The demo starts over in the same store: a workspace on a server stays on it.
  if (store !== undefined) writeFileSync(join(home, 'config.json'), JSON.stringify({ store }, undefined, '\t')); // as conf writes it
}

function configuredStore(home: string): string | undefined {
  try {
    const { store } = JSON.parse(readFileSync(join(home, 'config.json'), 'utf8')) as { store?: unknown };
    return typeof store === 'string' ? store : undefined;
  } catch {
    return undefined;
  }
}

function seedCatalogs(store: Store, now: number): Promise<void> {
  return store.withTransaction(async (tx) => {
    for (const u of DEMO_USERS) await tx.triage.upsertUser(u.email, u.name, false, now);
    const existing = new Set((await tx.triage.tagCatalog()).map((t) => t.code));
    for (const name of DEMO_TAGS) {
      const code = tagCode(name);
      if (!existing.has(code)) await tx.triage.createTag(code, name, now);
    }
  });
}

/** The store's meta key marking a store the demo seeded (a server's database has no home of its own to tell). */
const DEMO_STORE_KEY = 'demo_store';

/**
 * A store on a server outlives the home that named it: the demo seeds one only while it is empty or
 * the demo's own (started over: emptied first), never a team's backlog that a URL happened to name.
 */
async function claimStoreForDemo(ws: Workspace): Promise<void> {
  const { store } = ws;
  if ((await store.meta.getMeta(DEMO_STORE_KEY)) === '1') {
    await store.bulk.emptyStore();
    // Emptied with the flows opening had mirrored: mirror them again.
    await ws.reloadCatalog();
  } else if ((await store.catalog.listFlows()).some((f) => !f.file.endsWith(DEMO_FLOW_FILE)) || (await store.jobs.listJobs({ limit: 1 })).length > 0) {
    // Opening synced the demo's own flow file already: anything else, or any job, is someone's work.
    throw new ConflictError(
      `the store ${store.location} already holds a workspace that is not the demo; point FLOWDECK_STORE_URL (or config.json's store) at an empty database for the demo`,
      'not_a_demo_workspace',
    );
  }
  await store.meta.setMeta(DEMO_STORE_KEY, '1');
}

/** Writes the demo's flow file and config; returns the opened workspace. */
export async function seedDemoWorkspace(home: string, env: NodeJS.ProcessEnv): Promise<Workspace> {
  ensureHomeDirectory(home);
  mkdirSync(join(home, 'flows'), { recursive: true });
  writeFileSync(join(home, 'flows', DEMO_FLOW_FILE), DEMO_FLOWS_YAML);
  const ws = await Workspace.open(home, env);
  try {
    await claimStoreForDemo(ws);
  } catch (e) {
    await ws.close();
    throw e;
  }
  ws.config.set('demo', true);
  // Only the demo's own keys: anything else kept under secrets stays as it was.
  ws.config.set('secrets.shopApiKey', `shop_${randomBytes(12).toString('hex')}`);
  ws.config.set('secrets.erpToken', `erp_${randomBytes(16).toString('hex')}`);
  await seedCatalogs(ws.store, Date.now());
  return ws;
}

import { rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FlowDefinitionError } from '../../src/domain/errors.js';
import { DEMO_FLOWS_YAML } from '../../src/workspace/demo.js';
import { CATALOG_FINGERPRINT_KEY, Workspace } from '../../src/workspace/workspace.js';
import { tempHome, writeFlowFile, type TempHome } from '../helpers/workspace.js';

// Opening a workspace parses and validates its flow files only when their fingerprint (names,
// sizes, inodes, change times) differs from the one stored at the last sync (issue 9 §6: a
// 20,000-flow file cost 6 s and 520 MB on every command).

let temp: TempHome;
afterEach(() => temp?.cleanup());

const flowNames = async (ws: Workspace) => (await ws.store.catalog.listFlows()).filter((f) => !f.removed).map((f) => f.name).sort();

async function openClose<T>(home: string, fn: (ws: Workspace) => T | Promise<T>): Promise<T> {
  const ws = await Workspace.open(home, { ...process.env, FLOWDECK_HOME: home });
  try {
    return await fn(ws);
  } finally {
    await ws.close();
  }
}

describe('the catalog fingerprint', () => {
  it('parses the flow files at the first open and not at the next ones while they are unchanged', async () => {
    temp = tempHome();
    writeFlowFile(temp.home, 'demo.yaml', DEMO_FLOWS_YAML);
    const first = await openClose(temp.home, async (ws) => ({ loaded: ws.catalogLoaded, flows: await flowNames(ws), fp: await ws.store.meta.getMeta(CATALOG_FINGERPRINT_KEY) }));
    expect(first.loaded).toBe(true);
    expect(first.fp).toMatch(/^[0-9a-f]{40}:mask\d+$/);
    const again = await openClose(temp.home, async (ws) => ({ loaded: ws.catalogLoaded, flows: await flowNames(ws) }));
    expect(again).toEqual({ loaded: false, flows: first.flows });
    // Asked for, the catalog is still there (parsed then).
    await openClose(temp.home, (ws) => {
      expect([...ws.catalog().flows.values()].map((f) => f.name).sort()).toEqual(first.flows);
      expect(ws.catalogLoaded).toBe(true);
    });
  });

  it('reloads an edited file even when its size and mtime are put back', async () => {
    temp = tempHome();
    const file = writeFlowFile(temp.home, 'demo.yaml', DEMO_FLOWS_YAML);
    const { atime, mtime } = statSync(file);
    await openClose(temp.home, () => undefined);
    // Same length, same mtime: only the change time (and the content) tells.
    const edited = DEMO_FLOWS_YAML.replace('name: Shop orders to ERP', 'name: Shop orders to ER2');
    expect(edited).not.toBe(DEMO_FLOWS_YAML);
    expect(edited.length).toBe(DEMO_FLOWS_YAML.length);
    writeFileSync(file, edited);
    utimesSync(file, atime, mtime);
    const after = await openClose(temp.home, async (ws) => ({ loaded: ws.catalogLoaded, flows: await flowNames(ws) }));
    expect(after.loaded).toBe(true);
    expect(after.flows).toContain('Shop orders to ER2');
    expect(after.flows).not.toContain('Shop orders to ERP');
  });

  it('notices an added and a removed file, and reports a file made invalid at every open', async () => {
    temp = tempHome();
    writeFlowFile(temp.home, 'demo.yaml', DEMO_FLOWS_YAML);
    const before = await openClose(temp.home, flowNames);
    writeFlowFile(temp.home, 'empty.yaml', 'connections: []\n');
    expect(await openClose(temp.home, (ws) => ws.catalogLoaded)).toBe(true);
    rmSync(join(temp.home, 'flows', 'demo.yaml'));
    expect(await openClose(temp.home, flowNames)).toEqual([]);
    expect(before.length).toBeGreaterThan(0);

    writeFlowFile(temp.home, 'demo.yaml', `${DEMO_FLOWS_YAML}\n  - this is: [not valid\n`);
    for (let i = 0; i < 2; i++) await expect(openClose(temp.home, () => undefined)).rejects.toThrow(FlowDefinitionError);
  });
});

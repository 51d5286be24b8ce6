import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { LocalBackend } from '../../src/backend/local-backend.js';
import { Workspace } from '../../src/workspace/workspace.js';
import { runFlowToEnd } from './jobs.js';

// Temporary workspaces for tests: a directory under the OS temp dir, flow files written into its
// flows/, and a LocalBackend over it. Callers close backends and call cleanup() in afterEach.

export interface TempHome {
  home: string;
  cleanup: () => void;
}

export function tempHome(prefix = 'flowdeck-test-'): TempHome {
  const home = mkdtempSync(join(tmpdir(), prefix));
  return { home, cleanup: () => rmSync(home, { recursive: true, force: true }) };
}

/** Writes `flows/<name>` in the workspace; returns the file's path. */
export function writeFlowFile(home: string, name: string, yamlText: string): string {
  const dir = join(home, 'flows');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, name);
  writeFileSync(file, yamlText);
  return file;
}

export async function openBackend(home: string, env: NodeJS.ProcessEnv = { ...process.env }): Promise<LocalBackend> {
  return new LocalBackend(await Workspace.open(home, env));
}

/** A flow file's text with one connection's timeoutMs changed (e.g. the demo's, made faster). */
export function withTimeout(yamlText: string, connectionName: string, timeoutMs: number): string {
  const doc = parseYaml(yamlText) as { connections: Array<{ name: string; http: { timeoutMs?: number } }> };
  const connection = doc.connections.find((c) => c.name === connectionName);
  if (!connection) throw new Error(`no connection "${connectionName}" in the flow file`);
  connection.http.timeoutMs = timeoutMs;
  return stringifyYaml(doc);
}

/**
 * Runs the demo's flows (all but the warehouse export) with the ERP's rate-limit clock stopped, so
 * exactly its limit of orders gets through and the rest are rate-limited, however slow the
 * machine (at real time a loaded machine sends fewer than the limit per second: no 429 at all).
 * Each run is followed to its end before the next starts.
 */
export async function runDemoFlows(backend: LocalBackend): Promise<void> {
  await backend.runtime.start();
  backend.runtime.mockSystems!.erp.setClock(() => 0);
  for (const flow of await backend.listFlows()) if (flow.name !== 'Orders to warehouse') await runFlowToEnd(backend, flow._id);
}

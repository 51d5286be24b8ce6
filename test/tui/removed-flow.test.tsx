import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, expect, it } from 'vitest';
import type { LocalBackend } from '../../src/backend/local-backend.js';
import { ERP_FLOW, lineWith, openBackend, removeTemplate, renderTui, seededHome, type TuiHarness } from '../helpers/render.js';

// A flow whose file is gone still has errors to triage: the flows view lists it, marked removed.

let home: { home: string; cleanup: () => void } | undefined;
let backend: LocalBackend | undefined;
let tui: TuiHarness | undefined;

afterAll(removeTemplate);

afterEach(async () => {
  tui?.unmount();
  await backend?.close();
  home?.cleanup();
});

it('the flows view marks flows no flow file defines any more as removed', async () => {
  home = await seededHome();
  rmSync(join(home.home, 'flows'), { recursive: true });
  backend = await openBackend(home.home);
  tui = renderTui(backend);
  const frame = await tui.waitFor(ERP_FLOW);
  expect(lineWith(frame, ERP_FLOW)).toMatch(/\sremoved$/);
});

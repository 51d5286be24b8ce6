import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { once } from 'node:events';
import { performance } from 'node:perf_hooks';
import Database from 'better-sqlite3';
import { stringify } from 'csv-stringify';
import { OPEN_ERROR_CSV_COLUMNS } from '../src/backend/csv.js';
import { LocalBackend } from '../src/backend/local-backend.js';
import { Workspace } from '../src/workspace/workspace.js';
import { ownPeakRssMB } from './own-rss.js';
import { saveDownload } from '../src/backend/download.js';

// One CSV export in a process of its own, so its peak RSS is its own (VmHWM, see own-rss.ts): `product` runs the product's
// export (backend.records.exportErrors, written by saveDownload); `objects` and `arrays` are the baseline, a plain
// better-sqlite3 iterate() piped into csv-stringify over the same 17 columns, unformatted. Output
// goes to /dev/null; prints {rows, ms, rssMB} as JSON.

const [mode, home, flow, step] = process.argv.slice(2) as [string, string, string, string];
const out = createWriteStream('/dev/null');
let rows = 0;
let ms = 0;
if (mode === 'product') {
  const backend = new LocalBackend(await Workspace.open(home, { ...process.env, FLOWDECK_HOME: home }));
  try {
    const t0 = performance.now();
    rows = (await saveDownload(await backend.records.exportErrors(flow, step, {}), out)).rows;
    out.end();
    await once(out, 'finish');
    ms = performance.now() - t0;
  } finally {
    await backend.close();
  }
} else {
  const db = new Database(join(home, 'flowdeck.db'), { readonly: true });
  const stepKey = db.prepare('SELECT s.id FROM steps s JOIN flows f ON f.id = s.flow_id WHERE f.name = ? AND s.name = ?').pluck().get(flow, step) as number;
  // The same 17 columns, as stored: no id encoding, no ISO times, no tag names.
  const stmt = db.prepare(`SELECT occurred_at AS occurredAt, source, code, message, trace_key AS traceKey, NULL AS exportDataURI, NULL AS importDataURI,
    o_index AS oIndex, retry_data AS retryDataKey, id AS errorId, NULL AS legacyId, trace AS reqAndResKey, purge_at AS purgeAt, tags,
    assignee AS assignedTo, assigned_by AS assignedBy, assignee_user AS _assignedToUserId
    FROM errors WHERE step = ? AND resolved = 0 ORDER BY id`);
  if (mode === 'arrays') stmt.raw(true);
  const t0 = performance.now();
  const counted = (async function* () {
    for (const r of stmt.iterate(stepKey)) {
      rows++;
      yield r;
    }
  })();
  await pipeline(Readable.from(counted), stringify({ header: true, columns: [...OPEN_ERROR_CSV_COLUMNS] }), out);
  ms = performance.now() - t0;
  db.close();
}
process.stdout.write(`${JSON.stringify({ rows, ms, rssMB: ownPeakRssMB() })}\n`);

import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { runInProcess } from '../helpers/in-process.js';
import { tempHome, writeFlowFile } from '../helpers/workspace.js';

// A target's body, a tag, an argument or a query may carry terminal escapes (set the title, clear
// the screen, ask the terminal to type back: ESC[6n, or its one-byte C1 form U+009B). No command
// lets one through to the terminal; --json stays exactly the JSON of what was stored.

const HOSTILE = '\u001b]0;pwned\u0007\u001b[2J\u001b[6n\u009b6n\r\u007f';
const RAW_CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/;

let server: Server | undefined;
const cleanups: Array<() => void> = [];

afterEach(async () => {
  if (server) {
    const s = server;
    server = undefined;
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }
  while (cleanups.length) cleanups.pop()!();
});

async function startTarget(): Promise<number> {
  server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      if (req.url === '/source') {
        res.writeHead(200, { 'content-type': 'application/json' });
        return res.end(JSON.stringify({ records: [{ id: 'r1' }] }));
      }
      // JSON whose strings hold the escapes, and a plain-text header too.
      res.writeHead(400, { 'content-type': 'application/json', 'x-note': 'plain' });
      res.end(JSON.stringify({ errors: [{ code: 'x', message: `rejected ${HOSTILE}` }], raw: HOSTILE }));
    });
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

describe('no control character reaches the terminal', () => {
  it('bodies, messages, tags, echoed arguments and queries are escaped; --json is exact', async () => {
    const port = await startTarget();
    const t = tempHome();
    cleanups.push(t.cleanup);
    writeFlowFile(
      t.home,
      'f.yaml',
      `connections:
  - { name: T, http: { baseURI: "http://127.0.0.1:${port}" } }
exports:
  - { name: Source, _connectionId: T, http: { relativeURI: /source, response: { resourcePath: records } } }
imports:
  - { name: Sink, _connectionId: T, http: { relativeURI: "/sink/{{record.id}}" } }
flows:
  - { name: F, pageGenerators: [{ _exportId: Source }], pageProcessors: [{ type: import, _importId: Sink }] }
`,
    );
    const env = { ...process.env, FLOWDECK_HOME: t.home, FLOWDECK_USER: 'ops@acme.example' };
    const human: string[] = [];
    const run = async (...args: string[]) => {
      const r = await runInProcess(env, args);
      return r;
    };
    // Its records fail on purpose: the run exits 1 (the exit-code contract).
    expect((await run('flows', 'run', 'F')).code).toBe(1);
    const listed = await run('errors', 'list', 'F', 'Sink', '--json');
    const error = JSON.parse(listed.stdout).errors[0] as { errorId: string; reqAndResKey: string; message: string };
    // What was stored is exact: the message is the target's JSON, escapes and all.
    expect(JSON.parse(error.message).raw).toBe(HOSTILE);
    expect(listed.stdout).not.toMatch(RAW_CONTROL);

    const tag = `urgent\u001b]0;x\u0007\u009b6n`;
    const tagged = await run('tags', 'create', tag);
    human.push(tagged.stdout, tagged.stderr);
    if (tagged.code === 0) human.push(...Object.values(await run('errors', 'tag', 'F', 'Sink', error.errorId, '--add', tag, '--yes')).filter((v): v is string => typeof v === 'string'));

    for (const args of [
      ['errors', 'show', error.errorId],
      ['requests', 'show', 'F', 'Sink', error.reqAndResKey],
      ['errors', 'list', 'F', 'Sink'],
      ['errors', 'list', 'F', 'Sink', '--all'],
      ['tags', 'list'],
      ['flows', 'show', `\u001b]0;x\u0007`],
      ['errors', 'list', 'F', 'Sink', '--query', `code:\u001b[6n\u009b6n`],
      ['errors', 'list', 'F', `no such step \u001b[2J`],
      [`\u001b]0;x\u0007`],
    ]) {
      const r = await run(...args);
      human.push(r.stdout, r.stderr);
      expect(`${r.stdout}${r.stderr}`, args.join(' ')).not.toMatch(RAW_CONTROL);
    }
    // (A tag named with escapes may be refused at creation; when one exists, errors show shows it escaped.)
    if (tagged.code === 0) expect(human.join('\n')).toMatch(/Tags: +urgent\\u001b\]0;x\\u0007/);
    // The escapes are shown, not dropped: the operator sees what the target sent.
    expect(human.join('\n')).toContain('\\u001b[6n');
    expect(human.join('\n')).toContain('\\u009b6n');

    const trace = await run('requests', 'show', 'F', 'Sink', error.reqAndResKey, '--json');
    expect(trace.stdout).not.toMatch(RAW_CONTROL);
    expect(JSON.parse(JSON.parse(trace.stdout).response.body).raw).toBe(HOSTILE);
    const shown = await run('errors', 'show', error.errorId, '--json');
    expect(JSON.parse(JSON.parse(shown.stdout).message).raw).toBe(HOSTILE);
  });
});

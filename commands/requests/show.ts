import { Command } from 'commander';
import { print, withBackend, type CommandIO } from '../../src/cli/context.js';
import { json } from '../../src/cli/output.js';
import type { FlowStepRequestResponse } from '../../src/domain/api.js';

function body(text: string | undefined): string[] {
  if (text === undefined || text === '') return ['  (no body)'];
  let shown = text;
  try {
    shown = JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    // not JSON: as stored
  }
  return shown.split('\n').map((l) => `  ${l}`);
}

function headers(h: Record<string, string> | undefined): string[] {
  const entries = Object.entries(h ?? {});
  return entries.length ? entries.map(([k, v]) => `  ${k}: ${v}`) : ['  (none)'];
}

export function describeRequest(r: FlowStepRequestResponse): string {
  const lines = [
    `Trace:    ${r.key}${r.time !== undefined ? ` at ${new Date(r.time).toISOString()}` : ''}`,
    `Request:  ${r.request.method ?? '?'} ${r.request.url ?? '?'}`,
    ...headers(r.request.headers),
    'Request body:',
    ...body(r.request.body),
    `Response: ${r.response.statusCode ?? 'none (no HTTP response)'}${r.response.receivedAt !== undefined ? ` at ${new Date(r.response.receivedAt).toISOString()}` : ''}`,
    ...headers(r.response.headers),
    'Response body:',
    ...body(r.response.body),
  ];
  return lines.join('\n');
}

export function requestsShowCommand(io: CommandIO): Command {
  return new Command('show')
    .description('show one stored request and response (secrets were masked before storage)')
    .argument('<flow>', 'flow id or name')
    .argument('<step>', 'step id or name')
    .argument('<key>', 'reqAndResKey (or the errorId of an error that has one)')
    .option('--json', 'print FlowStepRequestResponse')
    .action(async (flow: string, step: string, key: string, opts: { json?: boolean }) => {
      await withBackend(io, async (backend) => {
        const response = await backend.records.getRequest(flow, step, key);
        print(io, opts.json ? json(response) : describeRequest(response));
      });
    });
}

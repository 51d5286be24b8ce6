import { describe, expect, it } from 'vitest';
import { matchRef } from '../../src/backend/refs.js';
import { clientPredicate } from '../../src/backend/remote/client-query.js';
import type { FlowStepError } from '../../src/domain/api.js';
import { retryAfterMs } from '../../src/backend/remote/http.js';
import { CsvRecordCounter } from '../../src/backend/download.js';
import { displayUrl, errorFromResponse, RemoteAuthError, RemoteHttpError } from '../../src/backend/remote/remote-errors.js';
import { nextLink, specSteps, toFlowInfo } from '../../src/backend/remote/spec-flows.js';
import { ConflictError, InvalidInputError, NotFoundError } from '../../src/domain/errors.js';

// The RemoteBackend's pure parts: a server's error answer as flowdeck's error classes, URLs shown
// without credentials, Retry-After read, Link headers followed, the spec's flow object mapped, CSV
// records counted across chunks, and references matched as the local backend matches them.

const URL_ = 'http://127.0.0.1:7700';
const body = (code: string, message: string) => ({ errors: [{ code, message }] });

describe('errorFromResponse', () => {
  it("maps statuses and codes back to flowdeck's classes, keeping the server's message", () => {
    const notFound = errorFromResponse(404, body('invalid_ref', 'flow not found: x'), URL_);
    expect(notFound).toBeInstanceOf(NotFoundError);
    expect(notFound.message).toBe('flow not found: x');
    const invalid = errorFromResponse(400, { errors: [{ code: 'invalid_input', message: 'limit must be…', field: 'limit' }] }, URL_);
    expect(invalid).toBeInstanceOf(InvalidInputError);
    expect([invalid.code, invalid.field, invalid.exitCode]).toEqual(['invalid_input', 'limit', 2]);
    expect(errorFromResponse(422, body('key_mismatch', 'the key does not match'), URL_).code).toBe('key_mismatch');
    // flowdeck's conflicts travel as 422 with their code (409 is not in the spec).
    const conflict = errorFromResponse(422, body('retry_in_progress', 'held by job …'), URL_);
    expect(conflict).toBeInstanceOf(ConflictError);
    expect(conflict.code).toBe('retry_in_progress');
    expect(errorFromResponse(409, body('job_finished', 'already completed'), URL_)).toBeInstanceOf(ConflictError);
  });

  it('names the server and status when the body says nothing', () => {
    const e = errorFromResponse(502, undefined, URL_, 'Bad Gateway');
    expect(e).toBeInstanceOf(RemoteHttpError);
    expect([e.message, e.status]).toEqual([`${URL_} answered HTTP 502 Bad Gateway`, 502]);
    expect(errorFromResponse(500, body('boom', 'disk full\nat line 2'), URL_).message).toBe(`${URL_} answered HTTP 500: disk full at line 2`);
  });

  it('reads both 401 bodies (the spec\'s { message } and flowdeck\'s errors[])', () => {
    const spec = errorFromResponse(401, { message: 'invalid token' }, URL_);
    const flowdeck = errorFromResponse(401, body('unauthorized', 'invalid token'), URL_);
    for (const e of [spec, flowdeck]) {
      expect(e).toBeInstanceOf(RemoteAuthError);
      expect(e.message).toBe(`the token was refused by ${URL_} (invalid token): check the profile's token (flowdeck profile show)`);
    }
  });
});

describe('displayUrl', () => {
  it('drops user, password, query and fragment', () => {
    expect(displayUrl('https://ana:s3cret@api.example.com/base/?token=x#y')).toBe('https://api.example.com/base');
    expect(displayUrl('not a url')).toBe('(an invalid URL)');
  });
});

describe('retryAfterMs', () => {
  it('reads seconds or an HTTP date, and treats nonsense as one second', () => {
    expect(retryAfterMs('2')).toBe(2000);
    expect(retryAfterMs('0.5')).toBe(500);
    expect(retryAfterMs(new Date(10_000).toUTCString(), 4_000)).toBe(6_000);
    expect(retryAfterMs(undefined)).toBe(1000);
    expect(retryAfterMs('soon')).toBe(1000);
  });
});

describe('the spec flow object', () => {
  it('gives steps in pipeline order, routed processors included, and the Link header its next page', () => {
    const raw = {
      _id: 'f1',
      name: 'Orders',
      pageGenerators: [{ _exportId: 'e1' }],
      pageProcessors: [{ type: 'export', _exportId: 'l1' }, { _importId: 'i1' }],
      routers: [{ branches: [{ pageProcessors: [{ type: 'import', _importId: 'i2' }] }] }],
    };
    expect(specSteps(raw)).toEqual([
      { _id: 'e1', type: 'export' },
      { _id: 'l1', type: 'lookup' },
      { _id: 'i1', type: 'import' },
      { _id: 'i2', type: 'import' },
    ]);
    const info = toFlowInfo(raw, { flowErrors: [{ _expOrImpId: 'i2', numError: 4, lastErrorAt: '2026-01-01T00:00:00.000Z' }] });
    expect(info).toMatchObject({ _id: 'f1', name: 'Orders', disabled: false, numOpenError: 4 });
    expect(info).not.toHaveProperty('file');
    expect(info.steps[3]).toEqual({ _id: 'i2', name: 'i2', type: 'import', position: 3, numOpenError: 4, lastErrorAt: '2026-01-01T00:00:00.000Z' });
    expect(nextLink('</v1/flows?page=1>; rel="prev", </v1/flows?page=3>; rel="next"')).toBe('/v1/flows?page=3');
    expect(nextLink('</v1/flows?page=1>; rel="prev"')).toBeUndefined();
  });

  it("takes a flowdeck server's FlowInfo as it is", () => {
    const flowInfo = { _id: 'f1', name: 'Orders', disabled: false, numOpenError: 2, steps: [{ _id: 's', name: 'Sales orders', type: 'import' as const, position: 1, numOpenError: 2 }] };
    expect(toFlowInfo(flowInfo, undefined)).toEqual(flowInfo);
    expect(toFlowInfo(flowInfo, undefined)).not.toHaveProperty('file');
    expect(toFlowInfo({ ...flowInfo, file: '' }, undefined)).not.toHaveProperty('file');
  });
});

describe('CsvRecordCounter', () => {
  it('counts records across chunks, a newline inside quotes being no record end', () => {
    const counter = new CsvRecordCounter();
    for (const chunk of ['occurredAt,mess', 'age\n2026,"two\nlines, ""quoted', '"""\n2027,plain\n']) counter.add(chunk);
    expect(counter.rows).toBe(2);
  });
});

describe('matchRef', () => {
  const items = [
    { id: '65a000000000000000000001', name: 'Orders to ERP' },
    { id: '65a000000000000000000002', name: 'Refunds' },
    { id: '77b000000000000000000003', name: '65a000000000000000000002' },
  ];
  const named = (x: (typeof items)[number]) => x;
  it('prefers the exact id, then the name (any case), then a unique id prefix of 6 or more', () => {
    expect(matchRef(items, '65A000000000000000000002', named)?.name).toBe('Refunds');
    expect(matchRef(items, 'orders TO erp', named)?.name).toBe('Orders to ERP');
    expect(matchRef(items, '77b000', named)?.name).toBe('65a000000000000000000002');
    expect(matchRef(items, '77b00', named)).toBeUndefined();
    expect(matchRef(items, '65a000', named)).toBeUndefined();
  });
});

describe('clientPredicate', () => {
  const error = (over: Partial<FlowStepError>): FlowStepError => ({ errorId: 'e1', occurredAt: '2026-01-01T10:00:00.000Z', source: 'application', code: 'E422', message: 'Café order SO-1 refused', ...over });
  const test = (query: string, e: FlowStepError) => clientPredicate(query, URL_, Date.parse('2026-01-02T00:00:00Z'))!(e);
  it('matches as the store does: exact values exactly, wildcards in any case, words folded and as prefixes', () => {
    expect(test('code:E422', error({}))).toBe(true);
    expect(test('code:e422', error({}))).toBe(false);
    expect(test('code:e4*', error({}))).toBe(true);
    expect(test('cafe', error({}))).toBe(true);
    expect(test('caf', error({}))).toBe(true);
    expect(test('"order refused"', error({}))).toBe(false);
    expect(test('"order s"', error({}))).toBe(false);
    expect(test('"order so 1"', error({}))).toBe(true);
    expect(test('-classification:value', error({}))).toBe(true);
    expect(test('assignee:none tag:urgent', error({ tags: ['Urgent'] }))).toBe(true);
    expect(test('since:1d', error({}))).toBe(true);
    expect(test('since:2h', error({}))).toBe(false);
    expect(test('retryable:yes', error({ retryDataKey: 'k' }))).toBe(true);
    expect(clientPredicate('  ', URL_)).toBeUndefined();
  });
  it('refuses what the listing cannot tell', () => {
    expect(() => clientPredicate('sig:0123456789ab', URL_)).toThrow(`"sig: filters (error signatures)" is not available on ${URL_}`);
  });
});

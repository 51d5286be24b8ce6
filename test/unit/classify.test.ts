import { describe, expect, it } from 'vitest';
import { classifyFailure, type Classified, type Failure } from '../../src/domain/classify.js';
import { CLASSIFICATIONS, ERROR_SOURCES } from '../../src/domain/filter-metadata.js';

const json = (value: unknown) => JSON.stringify(value, null, 2);
const status = (statusCode: number, body = '', retryAfter?: string): Failure => ({
  kind: 'status',
  statusCode,
  body,
  ...(retryAfter ? { retryAfter } : {}),
});

function expectShape(c: Classified): void {
  expect(CLASSIFICATIONS).toContain(c.classification);
  expect(ERROR_SOURCES).toContain(c.source);
  expect(c.code).not.toBe('');
  expect(c.message).not.toBe('');
}

describe('classifyFailure: HTTP status families', () => {
  const cases: Array<[string, Failure, Partial<Classified>]> = [
    [
      '400 with a bad value',
      status(400, json({ errors: [{ code: 'invalid_email', field: 'email', message: "'x@' is not a valid email address" }] })),
      { classification: 'value', source: 'application', code: '400', retriable: true, autoRetry: false },
    ],
    [
      '422 with a bad value',
      status(422, json({ errors: [{ code: 'invalid_quantity', message: 'lines[0].quantity must be greater than 0' }] })),
      { classification: 'value', source: 'application', code: '422', retriable: true, autoRetry: false },
    ],
    [
      '400 naming a required field',
      status(400, json({ errors: [{ code: 'missing_required_field', field: 'email', message: 'email is required' }] })),
      { classification: 'missing', source: 'application', code: '400', retriable: true, autoRetry: false },
    ],
    [
      '422 naming a missing field',
      status(422, '{"errors":[{"message":"customer id missing"}]}'),
      { classification: 'missing', source: 'application', code: '422' },
    ],
    ['404', status(404, json({ errors: [{ code: 'not_found', message: 'Order SO-1 does not exist' }] })), { classification: 'missing', source: 'application', code: '404', retriable: true, autoRetry: false }],
    ['410', status(410), { classification: 'missing', code: '410' }],
    ['409', status(409, '{"errors":[{"code":"conflict","message":"version mismatch"}]}'), { classification: 'duplicate', source: 'application', code: '409', retriable: true, autoRetry: false }],
    ['422 saying duplicate', status(422, '{"message":"Sales order SO-1 already exists"}'), { classification: 'duplicate', code: '422' }],
    ['413', status(413, '{"message":"The request body exceeds 1 MiB"}'), { classification: 'too_large', source: 'application', code: '413', retriable: true, autoRetry: false }],
    ['429', status(429, '{"errors":[{"code":"rate_limited"}]}', '1'), { classification: 'rate_limit', source: 'application', code: '429', retriable: true, autoRetry: true }],
    ['401', status(401, '{"message":"bad token"}'), { classification: 'connection', source: 'connection', code: '401', retriable: false, autoRetry: false }],
    ['403', status(403, '{"message":"forbidden"}'), { classification: 'connection', source: 'connection', code: '403', retriable: false, autoRetry: false }],
    ['403 over a quota', status(403, '{"message":"API quota exceeded for today"}'), { classification: 'governance', source: 'application', code: '403', retriable: true, autoRetry: false }],
    ['408', status(408), { classification: 'intermittent', source: 'application', code: '408', retriable: true, autoRetry: true }],
    ['500 saying temporarily', status(500, 'temporarily overloaded'), { classification: 'intermittent', code: '500', autoRetry: true }],
    ['500 otherwise', status(500, '{"message":"NullPointerException"}'), { classification: 'none', source: 'application', code: '500', retriable: true, autoRetry: false }],
    ['502', status(502, '<html>bad gateway</html>'), { classification: 'intermittent', code: '502', autoRetry: true }],
    ['503', status(503, '{"errors":[{"code":"service_unavailable"}]}'), { classification: 'intermittent', source: 'application', code: '503', retriable: true, autoRetry: true }],
    ['504', status(504), { classification: 'intermittent', code: '504', autoRetry: true }],
    ['418 (no rule)', status(418, 'teapot'), { classification: 'none', code: '418', autoRetry: false }],
  ];

  it.each(cases)('%s', (_name, failure, expected) => {
    const c = classifyFailure(failure);
    expect(c).toMatchObject(expected);
    expectShape(c);
  });
});

describe('classifyFailure: messages', () => {
  it('is the JSON body, compacted, when the target answers JSON', () => {
    const body = { errors: [{ code: 'invalid_email', field: 'email', message: "'a@b' is not a valid email address" }] };
    expect(classifyFailure(status(422, `\n${json(body)}\n`)).message).toBe(JSON.stringify(body));
  });

  it('is a status line otherwise, and the bare status when empty', () => {
    expect(classifyFailure(status(502, ' <html>bad gateway</html> ')).message).toBe('HTTP 502: <html>bad gateway</html>');
    expect(classifyFailure(status(404, '   ')).message).toBe('HTTP 404');
  });

  it('is clipped at 4000 characters', () => {
    const c = classifyFailure(status(500, 'x'.repeat(10_000)));
    expect(c.message.length).toBe(4001);
    expect(c.message.endsWith('…')).toBe(true);
    const long = classifyFailure({ kind: 'socket', errno: 'ECONNRESET', message: 'y'.repeat(5000) });
    expect(long.message.length).toBe(4001);
  });
});

describe('classifyFailure: transport, parse and mapping', () => {
  it('socket ECONNREFUSED is a connection error that cannot be retried record by record', () => {
    const c = classifyFailure({ kind: 'socket', errno: 'ECONNREFUSED', message: 'connect ECONNREFUSED 127.0.0.1:9' });
    expect(c).toEqual({
      classification: 'connection',
      source: 'connection',
      code: 'ECONNREFUSED',
      message: 'connect ECONNREFUSED 127.0.0.1:9',
      retriable: false,
      autoRetry: false,
    });
  });

  it.each(['ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED'])(
    'socket %s is a connection error',
    (errno) => {
      expect(classifyFailure({ kind: 'socket', errno, message: errno })).toMatchObject({ classification: 'connection', source: 'connection', code: errno, retriable: false });
    },
  );

  it('an unknown socket errno is unclassified but keeps its snapshot', () => {
    expect(classifyFailure({ kind: 'socket', errno: 'EPROTO', message: 'tls' })).toMatchObject({
      classification: 'none',
      source: 'connection',
      code: 'EPROTO',
      retriable: true,
      autoRetry: false,
    });
  });

  it('a timeout is a connection error with ETIMEDOUT', () => {
    const c = classifyFailure({ kind: 'timeout', timeoutMs: 1500 });
    expect(c).toMatchObject({ classification: 'connection', source: 'connection', code: 'ETIMEDOUT', retriable: false, autoRetry: false });
    expect(c.message).toContain('1500 ms');
  });

  it('an unparseable response is a parse error', () => {
    const c = classifyFailure({ kind: 'parse', statusCode: 200, body: '<html>', detail: 'Unexpected token <' });
    expect(c).toMatchObject({ classification: 'parse', source: 'application', code: 'parse_error', retriable: true, autoRetry: false });
    expect(c.message).toBe('Could not parse the response (HTTP 200): Unexpected token <');
  });

  it('a missing required mapping field is "missing" from the mapping', () => {
    const c = classifyFailure({ kind: 'mapping', field: 'email', detail: 'customer.email is required but missing in the record' });
    expect(c).toEqual({
      classification: 'missing',
      source: 'mapping',
      code: 'missing_required_field',
      message: 'Mapping failed at email: customer.email is required but missing in the record',
      retriable: true,
      autoRetry: false,
    });
  });
});

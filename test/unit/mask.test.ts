import { describe, expect, it } from 'vitest';
import { isSecretHeader, isSecretParam, MASK, Redactor } from '../../src/domain/mask.js';

const TOKEN = 'tok_9f8e7d6c5b4a39281706f5e4';
const KEY = 'key-0a1b2c3d4e5f60718293';

describe('Redactor.headers', () => {
  const r = new Redactor([TOKEN, KEY]);

  it('masks secret-named headers whatever their case, keeps the rest', () => {
    const out = r.headers({
      Authorization: 'Basic dXNlcjpwYXNz',
      'proxy-authorization': 'Bearer abc',
      Cookie: 'sid=123',
      'set-cookie': 'sid=456; HttpOnly',
      'X-API-Key': 'k',
      'x-auth-token': 'hardcoded-secret-1234567',
      'X-Access-Token': 'a',
      'x-csrf-token': 'c',
      'X-Custom-Token-Id': 'z',
      'x-client-secret': 's',
      'x-session-id': 'sess',
      'X-Signature': 'sig',
      'content-type': 'application/json',
      accept: 'application/json',
      'x-request-id': 'req-1',
    });
    for (const name of ['Authorization', 'proxy-authorization', 'Cookie', 'set-cookie', 'X-API-Key', 'x-auth-token', 'X-Access-Token', 'x-csrf-token', 'X-Custom-Token-Id', 'x-client-secret', 'x-session-id', 'X-Signature']) {
      expect(out[name], name).toBe(MASK);
    }
    expect(out['content-type']).toBe('application/json');
    expect(out.accept).toBe('application/json');
    expect(out['x-request-id']).toBe('req-1');
  });

  it('masks a known secret value inside an ordinary header', () => {
    const out = r.headers({ 'x-forwarded-for': `10.0.0.1 ${TOKEN}`, via: 'proxy' });
    expect(out['x-forwarded-for']).toBe(`10.0.0.1 ${MASK}`);
    expect(out.via).toBe('proxy');
  });

  it('does not mutate its input', () => {
    const input = { authorization: 'Bearer x' };
    r.headers(input);
    expect(input.authorization).toBe('Bearer x');
  });
});

describe('Redactor.url', () => {
  const r = new Redactor([TOKEN]);

  it('masks token-like query parameters and keeps ordinary ones readable', () => {
    const out = r.url('https://api.example.com/v1/orders?page=2&access_token=abc&api_key=k1&key=k2&sig=s&code=c&pageSize=50&client_secret=cs&password=p');
    const url = new URL(out);
    for (const name of ['access_token', 'api_key', 'key', 'sig', 'code', 'client_secret', 'password']) {
      expect(url.searchParams.get(name), name).toBe(MASK);
    }
    expect(url.searchParams.get('page')).toBe('2');
    expect(url.searchParams.get('pageSize')).toBe('50');
    // the mask stays literal, not %2A-encoded
    expect(out).toContain(`access_token=${MASK}`);
    expect(out).not.toMatch(/abc|k1|k2|=cs\b/);
  });

  it('masks userinfo', () => {
    const out = r.url('https://admin:s3cr3t-pass@erp.example.com/api?x=1');
    expect(out).toBe(`https://${MASK}:${MASK}@erp.example.com/api?x=1`);
    expect(r.url('https://onlyuser@erp.example.com/')).toBe(`https://${MASK}@erp.example.com/`);
  });

  it('masks known secret values in the path, and in text that is no URL', () => {
    expect(r.url(`https://h.example/hooks/${TOKEN}/run`)).toBe(`https://h.example/hooks/${MASK}/run`);
    expect(r.url(`not a url ${TOKEN}`)).toBe(`not a url ${MASK}`);
  });
});

describe('Redactor.json', () => {
  const r = new Redactor([TOKEN, KEY]);

  it('masks secret-named keys at any depth, but not `code`, `key` or `auth`', () => {
    const input = {
      code: 'invalid_email',
      key: 'SO-10001',
      auth: { type: 'bearer' },
      password: 'p4ss',
      apiKey: 'abc',
      api_key: 12345,
      accessToken: 'at',
      refresh_token: 'rt',
      client_secret: 'cs',
      authorization: 'Bearer x',
      errors: [{ code: 'missing_required_field', field: 'email', key: 'email', message: 'email is required' }],
      nested: { deeper: [{ sessionToken: 'st', value: 'plain' }] },
    };
    const out = r.json(input);
    expect(out).toEqual({
      code: 'invalid_email',
      key: 'SO-10001',
      auth: { type: 'bearer' },
      password: MASK,
      apiKey: MASK,
      api_key: MASK,
      accessToken: MASK,
      refresh_token: MASK,
      client_secret: MASK,
      authorization: MASK,
      errors: [{ code: 'missing_required_field', field: 'email', key: 'email', message: 'email is required' }],
      nested: { deeper: [{ sessionToken: MASK, value: 'plain' }] },
    });
    // the input is left alone
    expect(input.password).toBe('p4ss');
  });

  it('masks known secret values in any string, keeps other types', () => {
    const out = r.json({ echo: `Bearer ${TOKEN}`, list: [KEY, 'ok', 3, true, null], n: 7 });
    expect(out).toEqual({ echo: `Bearer ${MASK}`, list: [MASK, 'ok', 3, true, null], n: 7 });
  });

  it('walks into objects under a secret-looking key instead of dropping them', () => {
    expect(r.json({ tokens: { a: 'visible', b: TOKEN } })).toEqual({ tokens: { a: 'visible', b: MASK } });
  });
});

describe('Redactor.text', () => {
  it('replaces every occurrence of every known value', () => {
    const r = new Redactor([TOKEN, KEY]);
    expect(r.text(`${TOKEN}|${KEY}|${TOKEN}`)).toBe(`${MASK}|${MASK}|${MASK}`);
  });

  it('replaces the longest value first, so a secret containing another leaves nothing behind', () => {
    const r = new Redactor(['abcd', 'abcdefgh']);
    expect(r.text('xxabcdefghxx abcd')).toBe(`xx${MASK}xx ${MASK}`);
  });

  it('ignores values shorter than 4 characters (they would mask ordinary text)', () => {
    const r = new Redactor(['a', 'ab', 'abc', '']);
    expect(r.text('abc abcd')).toBe('abc abcd');
  });
});

describe('name rules', () => {
  it('headers and parameters', () => {
    expect(isSecretHeader('Authorization')).toBe(true);
    expect(isSecretHeader('X-API-KEY')).toBe(true);
    expect(isSecretHeader('apikey')).toBe(true);
    expect(isSecretHeader('Content-Type')).toBe(false);
    expect(isSecretHeader('x-page')).toBe(false);
    expect(isSecretParam('code')).toBe(true);
    expect(isSecretParam('key')).toBe(true);
    expect(isSecretParam('oauth_token')).toBe(true);
    expect(isSecretParam('page')).toBe(false);
    expect(isSecretParam('keyword')).toBe(false);
  });
});

describe('Redactor.inStrings (snapshots)', () => {
  it('masks secret values inside strings only: numbers, keys and escaped text stay valid', async () => {
    const { Redactor: R } = await import('../../src/domain/mask.js');
    const r = new R(['2026', 'se"cret\\\\x']);
    const value = { year: 20261, note: 'paid in 2026', quote: 'a se"cret\\\\x here', token: 'kept-by-key' };
    expect(r.inStrings(value)).toEqual({ year: 20261, note: 'paid in ********', quote: 'a ******** here', token: 'kept-by-key' });
  });
});

describe('broad secret header names', () => {
  it('matches names the old pattern missed, and a redactor masks the names it was given', () => {
    for (const name of ['Ocp-Apim-Subscription-Key', 'X-Auth-Key', 'X-Step-Token', 'X-Amz-Security-Token', 'x-client-credential', 'X-Authorization-Code']) {
      expect(isSecretHeader(name), name).toBe(true);
    }
    for (const name of ['content-type', 'accept', 'x-request-id', 'user-agent', 'connection']) expect(isSecretHeader(name), name).toBe(false);
    const r = new Redactor([], ['X-Tenant-Ref']);
    expect(r.headers({ 'x-tenant-ref': 'acme', 'x-trace': 't' })).toEqual({ 'x-tenant-ref': MASK, 'x-trace': 't' });
    expect(new Redactor(r.secrets(), r.secretHeaders()).headers({ 'X-TENANT-REF': 'acme' })).toEqual({ 'X-TENANT-REF': MASK });
  });
});

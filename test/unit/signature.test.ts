import { describe, expect, it } from 'vitest';
import { formatSignature, messageTemplate, normaliseText, parseSignature, signatureOf, Signer, TEMPLATE_LIMIT } from '../../src/domain/signature.js';

// Message shapes as the mock systems (src/mocks/systems.ts, src/workspace/generate-rows.ts) and
// typical HTTP APIs produce them: the template must read naturally and keep no variable part.

const body = (entries: Array<Record<string, string>>) => JSON.stringify({ errors: entries });

describe('messageTemplate over the mock systems', () => {
  it('merges invalid emails of different records, quoted or bare', () => {
    const a = body([{ code: 'invalid_email', field: 'email', message: "'anna.schmidt@@example.com' is not a valid email address" }]);
    const b = body([{ code: 'invalid_email', field: 'email', message: "'jonas example.org' is not a valid email address" }]);
    expect(messageTemplate(a)).toBe("'<value>' is not a valid email address");
    expect(messageTemplate(b)).toBe(messageTemplate(a));
    expect(normaliseText('order 1042: email x@y.com is not valid')).toBe('order <n>: email <email> is not valid');
    expect(normaliseText('order 977: email a@b.org is not valid')).toBe('order <n>: email <email> is not valid');
  });

  it('keeps constant messages as they are', () => {
    expect(messageTemplate(body([{ code: 'service_unavailable', message: 'CRM is temporarily unavailable, try again later' }]))).toBe(
      'CRM is temporarily unavailable, try again later',
    );
    expect(messageTemplate(body([{ code: 'missing_required_field', field: 'email', message: 'email is required' }]))).toBe('email is required');
    expect(messageTemplate('Mapping failed at email: customer.email is required but missing in the record')).toBe(
      'Mapping failed at email: customer.email is required but missing in the record',
    );
    expect(messageTemplate('HTTP 500: Internal Server Error: archive volume is read-only')).toBe('HTTP 500: Internal Server Error: archive volume is read-only');
  });

  it('replaces ids, array indexes, numbers and ports', () => {
    expect(messageTemplate(body([{ code: 'not_found', message: 'Customer C-010042 does not exist' }]))).toBe('Customer <id> does not exist');
    expect(messageTemplate(body([{ code: 'duplicate', message: 'Sales order SO-100577 already exists' }]))).toBe('Sales order <id> already exists');
    expect(messageTemplate(body([{ code: 'invalid_quantity', field: 'lines[2].quantity', message: 'lines[2].quantity must be greater than 0' }]))).toBe(
      'lines[<n>].quantity must be greater than <n>',
    );
    expect(messageTemplate('ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:38123 (http://127.0.0.1:38123)')).toBe('ECONNREFUSED: connect ECONNREFUSED <ip> (<url>)');
    expect(messageTemplate('Request timed out after 10000 ms waiting for a response')).toBe('Request timed out after <n> ms waiting for a response');
    expect(messageTemplate(body([{ code: 'rate_limited', message: 'Too many requests, retry after 2 seconds' }]))).toBe('Too many requests, retry after <n> seconds');
    expect(messageTemplate(body([{ code: 'not_found', message: 'No route for GET /customers/C-000042' }]))).toBe('No route for GET /customers/<id>');
  });

  it('reads a body of several errors as its messages, each normalised', () => {
    const m = body([
      { code: 'invalid_email', field: 'email', message: "'lena.weber.example.net' is not a valid email address" },
      { code: 'invalid_quantity', field: 'lines[0].quantity', message: 'lines[0].quantity must be greater than 0' },
    ]);
    expect(messageTemplate(m)).toBe("'<value>' is not a valid email address; lines[<n>].quantity must be greater than <n>");
  });

  it('keeps the quoted currency list of the mock ERP readable', () => {
    const m = body([{ code: 'invalid_currency', field: 'currency', message: "'EURO' is not a supported currency (EUR, USD, GBP, CHF, SEK, NOK, DKK, PLN, CZK)" }]);
    expect(messageTemplate(m)).toBe("'<value>' is not a supported currency (EUR, USD, GBP, CHF, SEK, NOK, DKK, PLN, CZK)");
  });

  it('normalises the parse failure of an HTML answer, keeping the status', () => {
    const m = `Could not parse the response (HTTP 200): Unexpected token '<', "<html><hea"... is not valid JSON`;
    expect(messageTemplate(m)).toBe(`Could not parse the response (HTTP 200): Unexpected token '<value>', "<value>"... is not valid JSON`);
    expect(messageTemplate('The body is not valid JSON: Unexpected token } in JSON at position 42')).toBe('The body is not valid JSON: Unexpected token } in JSON at position <n>');
  });

  it("does not take an apostrophe in a name for a quote", () => {
    expect(normaliseText("The contact email 'sean.o'brien example.com' is not valid")).toBe("The contact email '<value>' is not valid");
    expect(normaliseText("can't reach the customer's ERP")).toBe("can't reach the customer's ERP");
  });
});

describe('messageTemplate over typical HTTP APIs', () => {
  it('Stripe and Google style {error: {message}}', () => {
    const stripe = JSON.stringify({ error: { code: 'resource_missing', message: "No such customer: 'cus_NffrFeUfNV2Hib'", param: 'customer', type: 'invalid_request_error' } });
    expect(messageTemplate(stripe)).toBe("No such customer: '<value>'");
    const google = JSON.stringify({ error: { code: 404, message: 'Requested entity was not found.', status: 'NOT_FOUND' } });
    expect(messageTemplate(google)).toBe('Requested entity was not found.');
  });

  it('RFC 7807 problem details and OAuth errors', () => {
    const problem = JSON.stringify({ type: 'https://example.com/probs/out-of-credit', title: 'You do not have enough credit.', detail: 'Your current balance is 30, but that costs 50.', instance: '/account/12345/msgs/abc', status: 403 });
    expect(messageTemplate(problem)).toBe('Your current balance is <n>, but that costs <n>.');
    expect(messageTemplate(JSON.stringify({ error: 'invalid_grant', error_description: 'Token 3f9a0c12-7b1e-4c3d-9e8f-0123456789ab has expired' }))).toBe(
      'Token <uuid> has expired',
    );
  });

  it('Salesforce arrays and GitHub validation errors', () => {
    const sf = JSON.stringify([{ message: 'duplicate value found: External_Id__c duplicates value on record with id: 0015g00000XyZabAAB', errorCode: 'DUPLICATE_VALUE', fields: [] }]);
    expect(messageTemplate(sf)).toBe('duplicate value found: External_Id__c duplicates value on record with id: <id>');
    const gh = JSON.stringify({ message: 'Validation Failed', errors: [{ resource: 'Issue', field: 'title', code: 'missing_field' }], documentation_url: 'https://docs.github.com/rest' });
    expect(messageTemplate(gh)).toBe('Validation Failed');
  });

  it('UUIDs, hex ids, object ids, tokens, dates and times', () => {
    expect(normaliseText('Record 5f3e9c1a2b4d6e8f90a1b2c3 was deleted at 2026-11-20T10:00:00.123Z')).toBe('Record <hex> was deleted at <date>');
    expect(normaliseText('request 0x7fa3 failed; trace id 550e8400-e29b-41d4-a716-446655440000')).toBe('request <hex> failed; trace id <uuid>');
    expect(normaliseText('lock held since Wed, 02 Dec 2026 02:42:14 GMT (12:00:01 local)')).toBe('lock held since <date> (<time> local)');
    expect(normaliseText('invalid api key sk9f8e7d6c5b4a3x')).toBe('invalid api key <id>');
    expect(normaliseText('batch limit exceeded: 5MB over 10s')).toBe('batch limit exceeded: <n>MB over <n>s');
  });

  it('a JSON body with no message field is its normalised structure', () => {
    expect(messageTemplate('{"status":500,"path":"/orders/SO-100001","ok":false}')).toBe('{"status":"<n>","path":"/orders/<id>","ok":false}');
    expect(normaliseText('order SO-7 is locked')).toBe('order SO-<n> is locked');
  });

  it('clipped JSON (not parseable) keeps its keys and normalises the values', () => {
    expect(messageTemplate('{"errors":[{"code":"invalid_email","message":"\'x@y\' is bad"}, {"code":"x…')).toBe('{"errors":[{"code":"<value>","message":"<value>"}, {"code":"x…');
  });

  it('bounds the template length', () => {
    expect(messageTemplate('word '.repeat(500)).length).toBe(TEMPLATE_LIMIT);
  });
});

describe('signatures', () => {
  const parts = { step: 3, code: '422', source: 'application', classification: 'value', template: '<value> is not a valid email address' };

  it('differ by step, code, source, classification and template, and are stable', () => {
    const base = signatureOf(parts);
    expect(signatureOf({ ...parts })).toBe(base);
    for (const change of [{ step: 4 }, { code: '400' }, { source: 'connection' }, { classification: null }, { template: 'email is required' }]) {
      expect(signatureOf({ ...parts, ...change })).not.toBe(base);
    }
    expect(Number.isSafeInteger(base)).toBe(true);
    expect(base).toBeLessThan(2 ** 48);
  });

  it('format as 12 hex digits and parse back; anything else is no signature', () => {
    const sig = signatureOf(parts);
    const text = formatSignature(sig);
    expect(text).toMatch(/^[0-9a-f]{12}$/);
    expect(parseSignature(text)).toBe(sig);
    expect(parseSignature(text.toUpperCase())).toBe(sig);
    expect(formatSignature(5)).toBe('000000000005');
    for (const bad of ['', 'xyz', '12345', '0123456789abc', 'g23456789abc']) expect(parseSignature(bad)).toBeUndefined();
  });

  it('Signer gives what signatureOf(messageTemplate) gives, with a bounded memo', () => {
    const signer = new Signer(2);
    const facts = { step: 1, code: '409', source: 'application', classification: 'duplicate' };
    for (const n of [1, 2, 3, 1]) {
      const message = body([{ code: 'duplicate', message: `Sales order SO-${100000 + n} already exists` }]);
      const signed = signer.sign({ ...facts, message });
      expect(signed.template).toBe('Sales order <id> already exists');
      expect(signed.sig).toBe(signatureOf({ ...facts, template: messageTemplate(message) }));
    }
  });
});

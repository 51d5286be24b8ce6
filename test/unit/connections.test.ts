import { describe, expect, it } from 'vitest';
import { maskDefinition, maskUrlTemplate, redactorFor, resolveConnection, resolveRequest } from '../../src/runtime/connections.js';
import { schemas } from '../../src/flows/schema.js';

const { connectionSchema } = schemas();

describe('resolveConnection', () => {
  const scope = { env: { TENANT: 'acme-tenant-77', TOK: 'abc123secret' }, config: {}, mocks: { erp: 'http://127.0.0.1:9' } };
  const def = connectionSchema.parse({
    name: 'API',
    http: {
      baseURI: 'https://api.example/{{env.TENANT}}/',
      headers: [{ name: 'Authorization', value: 'Token {{env.TOK}}' }],
    },
  });

  it('registers every value a template pulls from env/config as a secret, in the URL too', () => {
    const c = resolveConnection('id', def, scope as never);
    expect(c.baseURI).toBe('https://api.example/acme-tenant-77');
    expect(c.headers.authorization).toBe('Token abc123secret');
    const r = redactorFor([c]);
    expect(r.text('invalid token abc123secret for acme-tenant-77')).toBe('invalid token ******** for ********');
    expect(r.url(`${c.baseURI}/orders`)).not.toContain('acme-tenant-77');
  });

  it('stores definitions without secret values (a secret header that is not a pure reference is masked whole)', () => {
    const stored = JSON.stringify(maskDefinition(def));
    expect(stored).toContain('{{env.TENANT}}');
    expect(stored).not.toContain('abc123secret');
    expect(stored).not.toContain('acme-tenant-77');
  });
});

describe('definition secrets beyond the connection headers', () => {
  const scope = { env: { Q: 'env-query-secret' }, config: { secrets: { k: 'config/query secret' } }, mocks: {} };

  it('renders env and config templates in a relativeURI (URL-encoded) and keeps record templates for later', () => {
    const r = resolveRequest({ relativeURI: '/x/{{record.id}}?t={{env.Q}}&c={{config.secrets.k}}&api_key=lit-key-1234', headers: [] }, scope as never, { secretHeaders: [] });
    expect(r.relativeURI).toBe('/x/{{record.id}}?t=env-query-secret&c=config%2Fquery%20secret&api_key=lit-key-1234');
    expect(r.secrets).toEqual(expect.arrayContaining(['env-query-secret', 'config/query secret', 'config%2Fquery%20secret', 'lit-key-1234']));
  });

  it('treats secret-named and listed step headers as secrets, not ordinary ones', () => {
    const r = resolveRequest(
      { relativeURI: '/x', headers: [{ name: 'X-Step-Token', value: 'step-token-1' }, { name: 'X-Tenant', value: 'tenant-1' }, { name: 'X-Trace', value: 'plain-1' }] },
      scope as never,
      { secretHeaders: ['x-tenant'] },
    );
    expect(r.secrets).toEqual(['step-token-1', 'tenant-1']);
  });

  it('sends URL credentials as basic auth and keeps them out of the base URI', () => {
    const c = resolveConnection('id', connectionSchema.parse({ name: 'U', http: { baseURI: 'http://svc:pa%40ss-word@127.0.0.1:9/' } }), scope as never);
    expect(c.baseURI).toBe('http://127.0.0.1:9');
    expect(c.headers.authorization).toBe(`Basic ${Buffer.from('svc:pa@ss-word').toString('base64')}`);
    expect(c.secrets).toEqual(expect.arrayContaining(['pa@ss-word', 'pa%40ss-word']));
  });

  it('masks literal credentials and secret query values in stored URLs, keeps references', () => {
    expect(maskUrlTemplate('http://svc:PASS@host/a?api_key=lit&page=2&t={{env.Q}}')).toBe('http://********:********@host/a?api_key=********&page=2&t={{env.Q}}');
    expect(maskUrlTemplate('http://{{env.U}}:{{env.P}}@host/')).toBe('http://{{env.U}}:{{env.P}}@host/');
    const stored = JSON.stringify(maskDefinition({ name: 'C', http: { secretHeaders: ['X-Tenant'], headers: [{ name: 'x-tenant', value: 'acme-1' }, { name: 'Ocp-Apim-Subscription-Key', value: 'sub-1' }] } }));
    expect(stored).not.toContain('acme-1');
    expect(stored).not.toContain('sub-1');
  });
});

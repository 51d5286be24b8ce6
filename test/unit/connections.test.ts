import { describe, expect, it } from 'vitest';
import { maskDefinition, redactorFor, resolveConnection } from '../../src/runtime/connections.js';
import { connectionSchema } from '../../src/flows/schema.js';

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

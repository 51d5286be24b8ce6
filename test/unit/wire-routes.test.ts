import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { fastifyPath, pathOf, ROUTES } from '../../src/backend/wire/routes.js';

// The wire table against the spec: every route that is not a listed flowdeck extension is a method
// and path the spec has, and every extension lives under /v1/flowdeck/, so the RemoteBackend
// (which sends only through this table) speaks the spec or a listed extension and nothing else.

const spec = JSON.parse(readFileSync(new URL('../fixtures/spec-paths.json', import.meta.url), 'utf8')) as { operations: Record<string, number[]> };

describe('the wire route table', () => {
  it('names only the spec’s methods and paths, or extensions under /v1/flowdeck/', () => {
    for (const [name, route] of Object.entries(ROUTES)) {
      const key = `${route.method} ${route.path}`;
      if ('extension' in route && route.extension) {
        expect(route.path, name).toMatch(/^\/v1\/flowdeck\//);
        expect(spec.operations[key], `${name} is marked an extension but the spec has ${key}`).toBeUndefined();
      } else {
        expect(spec.operations[key], `${name}: ${key} is not in the spec`).toBeDefined();
      }
    }
  });

  it('fills path parameters as single encoded segments and writes them as Fastify does', () => {
    expect(pathOf(ROUTES.listErrors, { _id: 'Shop orders/ERP', _stepId: 'a b' })).toBe('/v1/flows/Shop%20orders%2FERP/a%20b/errors');
    expect(() => pathOf(ROUTES.listErrors, { _id: 'x' })).toThrow(/needs "_stepId"/);
    expect(fastifyPath(ROUTES.getRetryData)).toBe('/v1/flows/:_id/:_stepId/:retryDataKey/data');
  });
});

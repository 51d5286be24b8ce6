import { describe, expect, it } from 'vitest';
import { targetOf } from '../../src/runtime/http.js';

// targetOf joins plain paths to the base without parsing a URL per request: whatever it returns
// must be exactly what `new URL(base + path)` gives, for plain paths and for the ones it hands
// back to URL (dots, spaces, fragments, non-ASCII, odd bases).

const BASES = ['http://127.0.0.1:8080', 'http://Example.COM:80/api', 'https://h.example/v1/base', 'http://h.example/a?x=1', 'http://user:pw@h.example/p'];
const PATHS = [
  '/',
  '/salesOrders',
  '/orders/SO-1%2F2/lines',
  '/orders?status=open&page=2',
  '/q?x=a/b?c',
  '/v1/orders.json',
  '/a/../b',
  '/a/./b',
  '/with space',
  '/frag#ment',
  '/ünïcode',
  "/it's(ok)*;=:@",
  '//double',
  "/q?a=it's",
  '/x?',
  '/a/%2e%2e/b',
  '/%2E%2e/admin',
  '/a%2Eb/c',
  '/q?next=/a/b&x=%2e',
];

describe('targetOf', () => {
  it('matches new URL(base + path) for every base and path', () => {
    for (const base of BASES) {
      for (const path of PATHS) {
        const url = new URL(base + path);
        const t = targetOf(base, path);
        expect({ base, path, origin: t.origin, wire: t.path, href: t.href() }).toEqual({ base, path, origin: url.origin, wire: url.pathname + url.search, href: url.toString() });
      }
    }
  });
});

import type { FastifyInstance } from 'fastify';

// A path that exists under another method answers 405 with `Allow` (RFC 9110
// §15.5.6), not 404. Fastify's router only says "not found", so the route
// patterns are kept here as they are added.
function patternToRegExp(url: string): RegExp {
  const parts = url.split('/').map((seg) => {
    if (seg === '*') return '.*';
    if (seg.startsWith(':')) return '[^/]+';
    return seg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  });
  return new RegExp(`^${parts.join('/')}/?$`);
}

/** Collects every route's pattern (call before routes are added); the returned function lists the methods a path allows. */
export function trackAllowedMethods(app: FastifyInstance): (path: string) => string[] {
  const routes: Array<{ re: RegExp; methods: string[] }> = [];
  app.addHook('onRoute', (route) => { routes.push({ re: patternToRegExp(route.url), methods: [route.method].flat() }); });
  return (path) => {
    let decoded: string;
    try { decoded = decodeURIComponent(path); } catch { return []; }
    return [...new Set(routes.filter((r) => r.re.test(decoded)).flatMap((r) => r.methods))].sort();
  };
}

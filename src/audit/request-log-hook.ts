import type { FastifyInstance, FastifyRequest } from 'fastify';
import { canonicalUuid } from '../http/validator.ts';
import type { Actor } from '../access/permissions.ts';
import type { RequestLog } from './request-log.ts';

const clip = (s: string, max: number) => (s.length > max ? s.slice(0, max) : s);

/**
 * The tenant whose log shows the request: a tenant actor's own tenant (even
 * when it asked for another one: that tenant must not learn the key's id),
 * the tenant an operator acted on, or none (platform routes, unauthenticated
 * requests).
 */
function tenantOf(req: FastifyRequest, actor: Actor | null): string | null {
  if (!actor) return null;
  if (actor.tenantId) return actor.tenantId;
  if (req.routeOptions.config?.scope !== 'tenant') return null;
  return canonicalUuid((req.params as { tenantId?: unknown } | undefined)?.tenantId) ?? null;
}

/**
 * One entry per API request (under /v1/ or matching no route), written by the
 * request log in the background: time, request id, tenant, actor ids (never a
 * secret), client IP (X-Forwarded-For only from TRESOR_TRUSTED_PROXIES, via
 * Fastify's trustProxy), method, route template, path without the query,
 * status, duration and user agent. Probes, metrics and docs are not logged.
 */
export function registerRequestLog(app: FastifyInstance, log: RequestLog, fieldMax: number): void {
  app.addHook('onResponse', (req, reply, done) => {
    const route = req.routeOptions.url ?? null;
    const path = req.url.split('?', 1)[0];
    if (route !== null && !path.startsWith('/v1/')) return done();
    const actor = (req.actor as Actor | null) ?? null;
    const userAgent = req.headers['user-agent'];
    log.record({
      requestId: req.id,
      actor,
      ip: req.ip,
      method: req.method,
      route,
      path: clip(path, fieldMax),
      status: reply.statusCode,
      durationMs: Math.round(reply.elapsedTime * 1000) / 1000,
      userAgent: userAgent === undefined ? null : clip(userAgent, fieldMax),
    }, tenantOf(req, actor));
    done();
  });
}

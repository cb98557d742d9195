import type { FastifyRequest } from 'fastify';
import type { RequestMeta } from '../security-events/security-events-service.ts';

/** The caller's address and user agent, for the security events a request causes. */
export const requestMeta = (req: FastifyRequest): RequestMeta => ({
  ip: req.ip,
  userAgent: typeof req.headers['user-agent'] === 'string' ? req.headers['user-agent'] : undefined,
});

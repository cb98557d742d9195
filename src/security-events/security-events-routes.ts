import { Type } from 'typebox';
import type { App } from '../http/app-types.ts';
import { access } from '../http/access.ts';
import { Page, TenantParams, Timestamp, Uuid, StringEnum, bearer, errorResponses } from '../http/schemas.ts';
import { SECURITY_EVENT_TYPES } from './security-event-types.ts';
import type { SecurityEventsService } from './security-events-service.ts';

const SecurityEvent = Type.Object({
  id: Uuid,
  tenantId: Type.Union([Uuid, Type.Null()], { description: 'null for a platform event' }),
  type: StringEnum(SECURITY_EVENT_TYPES),
  createdAt: Timestamp,
  actor: Type.Object({ type: Type.String(), id: Type.String(), role: Type.String() }, { description: 'Who acted: ids only' }),
  ip: Type.Union([Type.String(), Type.Null()]),
  userAgent: Type.Union([Type.String(), Type.Null()]),
  detail: Type.Record(Type.String(), Type.Unknown(), { description: 'Ids, roles, codes and counts; never a secret or a personal value' }),
}, { title: 'SecurityEvent' });

const oneType = `(${SECURITY_EVENT_TYPES.map((t) => t.replace('.', '\\.')).join('|')})`;
const typesPattern = `^${oneType}(,${oneType})*$`;

const EventQuery = Type.Object({
  type: Type.Optional(Type.String({ pattern: typesPattern, maxLength: 1000, examples: ['access.denied,account.locked'],
    description: 'Only these types, comma-separated' })),
  from: Type.Optional(Type.String({ format: 'date-time', description: 'Recorded at or after this time' })),
  to: Type.Optional(Type.String({ format: 'date-time', description: 'Recorded before this time' })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000 })),
  cursor: Type.Optional(Type.String({ maxLength: 200 })),
}, { additionalProperties: false });

interface Deps { securityEvents: SecurityEventsService; listDefaultLimit: number; listMaxLimit: number }

export function securityEventsRoutes(app: App, { securityEvents, listDefaultLimit, listMaxLimit }: Deps) {
  const query = (q: { type?: string; from?: string; to?: string; limit?: number; cursor?: string }) =>
    ({ types: q.type?.split(','), from: q.from, to: q.to, cursor: q.cursor, limit: Math.min(q.limit ?? listDefaultLimit, listMaxLimit) });

  app.get('/v1/tenants/:tenantId/security-events', {
    config: access.tenant('security_events.read'),
    schema: { operationId: 'listSecurityEvents', summary: "List a tenant's security events", tags: ['security'], security: bearer,
      params: TenantParams, querystring: EventQuery,
      description: 'Logins, lockouts, refusals, key and role changes, support access: newest first, a page at a time (pass `nextCursor` back as `cursor`).',
      response: { 200: Page(SecurityEvent, 'SecurityEventPage'), ...errorResponses } },
  }, async (req) => securityEvents.list(req.actor, req.params.tenantId, query(req.query)));

  app.get('/v1/security-events', {
    config: access.platform('platform_security_events.read'),
    schema: { operationId: 'listPlatformSecurityEvents', summary: 'List platform security events', tags: ['security'], security: bearer,
      querystring: EventQuery,
      description: "Events of platform actors outside any tenant (operator keys made, operators' and support's refusals): newest first, a page at a time.",
      response: { 200: Page(SecurityEvent, 'SecurityEventPage'), ...errorResponses } },
  }, async (req) => securityEvents.listPlatform(req.actor, query(req.query)));
}

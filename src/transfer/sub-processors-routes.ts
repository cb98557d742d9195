import { Type } from 'typebox';
import type { App } from '../http/app-types.ts';
import { access } from '../http/access.ts';
import { TenantParams, Timestamp, Uuid, bearer, errorResponses } from '../http/schemas.ts';
import type { SubProcessorsService } from './sub-processors-service.ts';

const Fields = {
  name: Type.String({ minLength: 1, maxLength: 200, examples: ['Hetzner Online GmbH'] }),
  service: Type.String({ minLength: 1, maxLength: 500, examples: ['hosting'], description: 'what it does for the platform' }),
  country: Type.String({ pattern: '^[A-Z]{2}$', examples: ['DE'], description: 'ISO 3166-1 alpha-2 of where it processes data' }),
  dataCategories: Type.Array(Type.String({ minLength: 1, maxLength: 200 }), { maxItems: 100, examples: [['all tenant data (encrypted)']] }),
  dpaDate: Type.String({ format: 'date', examples: ['2026-01-15'], description: 'date of the data processing agreement' }),
};
const SubProcessorIn = Type.Object(Fields, { additionalProperties: false, title: 'SubProcessorInput' });
const SubProcessor = Type.Object({ id: Uuid, ...Fields, createdAt: Timestamp, updatedAt: Timestamp }, { title: 'SubProcessor' });
const Change = Type.Object({
  id: Uuid, subProcessorId: Uuid, kind: Type.String({ enum: ['added', 'changed', 'removed'] }),
  subProcessor: Type.Object(Fields, { description: 'the entry as it reads after the change' }),
  announcedAt: Timestamp, objectionDeadline: Timestamp,
}, { title: 'SubProcessorChange' });
const Announced = Type.Object({ ...SubProcessor.properties, change: Change }, { title: 'AnnouncedSubProcessor' });
const Objection = Type.Object({
  id: Uuid, tenantId: Uuid, changeId: Uuid, reason: Type.String(), objectedBy: Type.Object({ type: Type.String(), id: Type.String() }), createdAt: Timestamp,
}, { title: 'SubProcessorObjection' });
const Target = Type.Object({ url: Type.Union([Type.String(), Type.Null()]), updatedAt: Type.Union([Timestamp, Type.Null()]) }, { title: 'NotificationTarget' });
const IdParams = Type.Object({ subProcessorId: Uuid });
const tags = ['sub-processors'];

export function subProcessorsRoutes(app: App, { subProcessors: svc }: { subProcessors: SubProcessorsService }) {
  app.post('/v1/sub-processors', {
    config: access.platform('sub_processors.manage'),
    schema: { operationId: 'createSubProcessor', summary: 'Add a sub-processor', tags, security: bearer, body: SubProcessorIn,
      description: 'Adds an entry to the register and announces the change to every active tenant (outbox, webhook to each tenant\'s notification target); '
        + 'tenants may object until `change.objectionDeadline` (TRESOR_SUB_PROCESSOR_OBJECTION_DAYS).',
      response: { 201: Announced, ...errorResponses } },
  }, async (req, reply) => reply.code(201).send(await svc.create(req.actor, req.body)));

  app.get('/v1/sub-processors', {
    config: access.platform('sub_processors.read'),
    schema: { operationId: 'listSubProcessors', summary: 'The current sub-processor register', tags, security: bearer,
      description: 'Every sub-processor in use and the latest announced changes with their objection deadlines; tenants read it too.',
      response: { 200: Type.Object({ items: Type.Array(SubProcessor), changes: Type.Array(Change) }), ...errorResponses } },
  }, async (req) => svc.list(req.actor));

  app.put('/v1/sub-processors/:subProcessorId', {
    config: { ...access.platform('sub_processors.manage'), problems: ['sub_processor.not_found'] },
    schema: { operationId: 'updateSubProcessor', summary: 'Change a sub-processor', tags, security: bearer, params: IdParams, body: SubProcessorIn,
      description: 'Replaces the entry and announces the change to every active tenant.', response: { 200: Announced, ...errorResponses } },
  }, async (req) => svc.update(req.actor, req.params.subProcessorId, req.body));

  app.delete('/v1/sub-processors/:subProcessorId', {
    config: { ...access.platform('sub_processors.manage'), problems: ['sub_processor.not_found'] },
    schema: { operationId: 'removeSubProcessor', summary: 'Remove a sub-processor', tags, security: bearer, params: IdParams,
      description: 'Takes the entry off the register and announces its removal to every active tenant.', response: { 200: Announced, ...errorResponses } },
  }, async (req) => svc.remove(req.actor, req.params.subProcessorId));

  app.get('/v1/sub-processors/objections', {
    config: access.platform('sub_processors.manage'),
    schema: { operationId: 'listSubProcessorObjections', summary: 'Every tenant\'s objections', tags, security: bearer,
      description: 'Objections to announced changes, newest first.', response: { 200: Type.Object({ items: Type.Array(Objection) }), ...errorResponses } },
  }, async (req) => svc.objections(req.actor));

  app.get('/v1/sub-processors/changes/:changeId/deliveries', {
    config: { ...access.platform('sub_processors.manage'), problems: ['sub_processor.change_not_found'] },
    schema: { operationId: 'listSubProcessorDeliveries', summary: 'Delivery of a change\'s announcement per tenant', tags, security: bearer,
      params: Type.Object({ changeId: Uuid }), description: 'Per tenant: attempts, when delivered, the last failure\'s code (e.g. `no_target`, `transfer.failed`).',
      response: { 200: Type.Object({ items: Type.Array(Type.Object({ tenantId: Uuid, attempts: Type.Integer(), deliveredAt: Type.Union([Timestamp, Type.Null()]),
        lastError: Type.Union([Type.String(), Type.Null()]) })) }), ...errorResponses } },
  }, async (req) => svc.deliveries(req.actor, req.params.changeId));

  app.post('/v1/tenants/:tenantId/sub-processors/objections', {
    config: { ...access.tenant('sub_processors.object'),
      problems: ['sub_processor.change_not_found', 'sub_processor.objection_period_over', 'sub_processor.already_objected'] },
    schema: { operationId: 'objectToSubProcessorChange', summary: 'Object to an announced sub-processor change', tags, security: bearer, params: TenantParams,
      body: Type.Object({ changeId: Uuid, reason: Type.String({ minLength: 1, maxLength: 2000, examples: ['no SCCs signed with this provider'] }) },
        { additionalProperties: false }),
      description: 'Recorded for the operators until the change\'s objection deadline; one objection per change and tenant.',
      response: { 201: Objection, ...errorResponses } },
  }, async (req, reply) => reply.code(201).send(await svc.object(req.actor, req.params.tenantId, req.body)));

  app.get('/v1/tenants/:tenantId/sub-processors/objections', {
    config: access.tenant('sub_processors.read'),
    schema: { operationId: 'listTenantSubProcessorObjections', summary: 'The tenant\'s own objections', tags, security: bearer, params: TenantParams,
      description: 'Newest first.', response: { 200: Type.Object({ items: Type.Array(Objection) }), ...errorResponses } },
  }, async (req) => svc.tenantObjections(req.actor, req.params.tenantId));

  app.put('/v1/tenants/:tenantId/notification-target', {
    config: { ...access.tenant('notifications.manage'), problems: ['transfer.destination_not_allowed'] },
    schema: { operationId: 'setNotificationTarget', summary: 'Set where the tenant hears of sub-processor changes', tags, security: bearer, params: TenantParams,
      body: Type.Object({ url: Type.String({ minLength: 1, maxLength: 2000, examples: ['https://hooks.example.eu/tresor'] }) }, { additionalProperties: false }),
      description: 'A webhook URL, covered by the egress allowlist; announcements are POSTed to it as JSON through the egress module (each a transfer-log entry).',
      response: { 200: Target, ...errorResponses } },
  }, async (req) => svc.setTarget(req.actor, req.params.tenantId, req.body.url));

  app.get('/v1/tenants/:tenantId/notification-target', {
    config: access.tenant('notifications.manage'),
    schema: { operationId: 'getNotificationTarget', summary: 'Where the tenant hears of sub-processor changes', tags, security: bearer, params: TenantParams,
      description: 'null when none is set (announcements wait in the outbox and are retried).', response: { 200: Target, ...errorResponses } },
  }, async (req) => svc.getTarget(req.actor, req.params.tenantId));
}

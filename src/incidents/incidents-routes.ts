import { Type } from 'typebox';
import type { App } from '../http/app-types.ts';
import { access } from '../http/access.ts';
import { Page, TenantParams, bearer, errorResponses } from '../http/schemas.ts';
import type { IncidentsService } from './incidents-service.ts';
import type { ErrorCode } from '../errors.ts';
import { AFFECTED_ACTIONS } from './incident-affected.ts';
import {
  AffectedInput, CloseInput, DecisionInput, Documentation, Draft, EventInput, Incident, IncidentDetail, IncidentInput, IncidentParams, LangQuery,
  ListQuery, TenantIncident, TenantIncidentDetail, TenantIncidentParams, TimelineEvent,
} from './incidents-schemas.ts';

const tags = ['incidents'];
const manage = (problems: ErrorCode[] = ['incident.not_found']) => ({ ...access.platform('incidents.manage'), problems });
const date = (s: string) => new Date(s);

export function incidentsRoutes(app: App, { incidents: svc, listDefaultLimit }: { incidents: IncidentsService; listDefaultLimit: number }) {
  app.post('/v1/incidents', {
    config: manage(['incident.aware_in_future', 'incident.aware_before_detected']),
    schema: { operationId: 'openIncident', summary: 'Open an incident', tags, security: bearer, body: IncidentInput,
      description: 'Adds an incident to the register; `awareAt` starts the 72-hour clock of GDPR Art. 33(1), which warns at 24, 48 and 66 hours.',
      response: { 201: IncidentDetail, ...errorResponses } },
  }, async (req, reply) => reply.code(201).send(await svc.open(req.actor, { ...req.body, detectedAt: date(req.body.detectedAt), awareAt: date(req.body.awareAt) })));

  app.get('/v1/incidents', {
    config: manage([]),
    schema: { operationId: 'listIncidents', summary: 'The incident register', tags, security: bearer, querystring: ListQuery,
      description: 'Newest first, a page at a time (pass `nextCursor` back as `cursor`).', response: { 200: Page(Incident, 'IncidentPage'), ...errorResponses } },
  }, async (req) => svc.list(req.actor, { status: req.query.status, limit: req.query.limit ?? listDefaultLimit, cursor: req.query.cursor }));

  app.get('/v1/incidents/:incidentId', {
    config: manage(),
    schema: { operationId: 'getIncident', summary: 'An incident with its timeline and affected tenants', tags, security: bearer, params: IncidentParams,
      description: 'The register entry, the clock (deadline, hours since aware-at, warnings given), the decision, the closure, the append-only timeline and each affected tenant\'s records.',
      response: { 200: IncidentDetail, ...errorResponses } },
  }, async (req) => svc.get(req.actor, req.params.incidentId));

  app.post('/v1/incidents/:incidentId/events', {
    config: manage(['incident.not_found', 'incident.closed']),
    schema: { operationId: 'addIncidentEvent', summary: 'Add an event to the timeline', tags, security: bearer, params: IncidentParams, body: EventInput,
      description: 'The timeline is append-only: each event keeps its actor and time.', response: { 201: TimelineEvent, ...errorResponses } },
  }, async (req, reply) => reply.code(201).send(await svc.addEvent(req.actor, req.params.incidentId, req.body)));

  app.post('/v1/incidents/:incidentId/decision', {
    config: manage(['incident.not_found', 'incident.closed', 'incident.aware_in_future']),
    schema: { operationId: 'decideIncident', summary: 'Record the notifiability decision', tags, security: bearer, params: IncidentParams, body: DecisionInput,
      description: 'Art. 33(1): notifiable or not, with the reason. The clock stops when the decision is "not notifiable", or once `authorityNotifiedAt` is given. A later decision replaces this one; both stay in the timeline.',
      response: { 200: IncidentDetail, ...errorResponses } },
  }, async (req) => svc.decide(req.actor, req.params.incidentId, { notifiable: req.body.notifiable, reason: req.body.reason,
    consequences: req.body.consequences ?? null, measures: req.body.measures ?? null,
    authorityNotifiedAt: req.body.authorityNotifiedAt ? date(req.body.authorityNotifiedAt) : null }));

  app.post('/v1/incidents/:incidentId/affected', {
    config: manage(['incident.not_found', 'incident.closed', 'incident.invalid_window']),
    schema: { operationId: 'computeIncidentAffected', summary: 'Find the affected tenants and records in the audit trail', tags, security: bearer,
      params: IncidentParams, body: AffectedInput,
      description: 'Per tenant, the records `actorId` read or changed between `from` and `to` (counts and record ids, never values), stored on the incident; each tenant\'s audit log notes it.',
      response: { 200: IncidentDetail, ...errorResponses } },
  }, async (req) => svc.affected(req.actor, req.params.incidentId, { actorId: req.body.actorId, from: date(req.body.from).toISOString(),
    to: date(req.body.to).toISOString(), actions: req.body.actions ?? AFFECTED_ACTIONS }));

  app.post('/v1/incidents/:incidentId/close', {
    config: manage(['incident.not_found', 'incident.closed', 'incident.undecided']),
    schema: { operationId: 'closeIncident', summary: 'Close an incident with its lessons learned', tags, security: bearer, params: IncidentParams, body: CloseInput,
      description: 'Needs the notifiability decision first. A closed incident stays readable and exportable.', response: { 200: IncidentDetail, ...errorResponses } },
  }, async (req) => svc.close(req.actor, req.params.incidentId, req.body.lessonsLearned));

  app.get('/v1/incidents/:incidentId/drafts', {
    config: manage(),
    schema: { operationId: 'listIncidentDrafts', summary: 'Notification drafts for each affected controller', tags, security: bearer, params: IncidentParams,
      querystring: LangQuery, description: 'Art. 33(3) contents per affected tenant, in German or English; counts and collection names, never values.',
      response: { 200: Type.Object({ items: Type.Array(Draft) }), ...errorResponses } },
  }, async (req) => svc.drafts(req.actor, req.params.incidentId, req.query.lang ?? 'en'));

  app.get('/v1/incidents/:incidentId/export', {
    config: manage(),
    schema: { operationId: 'exportIncident', summary: 'The Art. 33(5) documentation of an incident', tags, security: bearer, params: IncidentParams,
      description: 'The facts, effects and remedial action: the register entry, timeline, decision, affected tenants and closure, as JSON and Markdown.',
      response: { 200: Documentation, ...errorResponses } },
  }, async (req) => svc.export(req.actor, req.params.incidentId));

  app.get('/v1/tenants/:tenantId/incidents', {
    config: access.tenant('incidents.read'),
    schema: { operationId: 'listTenantIncidents', summary: 'Incidents that affect the tenant', tags, security: bearer, params: TenantParams,
      description: 'Newest first (at most TRESOR_LIST_MAX_LIMIT); each with the tenant\'s own affected records only.',
      response: { 200: Type.Object({ items: Type.Array(TenantIncident) }), ...errorResponses } },
  }, async (req) => svc.listForTenant(req.actor, req.params.tenantId));

  app.get('/v1/tenants/:tenantId/incidents/:incidentId', {
    config: { ...access.tenant('incidents.read'), problems: ['incident.not_found'] },
    schema: { operationId: 'getTenantIncident', summary: 'An incident as it affects the tenant, with its notification draft', tags, security: bearer,
      params: TenantIncidentParams, querystring: LangQuery,
      description: 'The register entry, the tenant\'s own affected records and the Art. 33(3) draft addressed to it; an incident that does not affect the tenant answers 404.',
      response: { 200: TenantIncidentDetail, ...errorResponses } },
  }, async (req) => svc.getForTenant(req.actor, req.params.tenantId, req.params.incidentId, req.query.lang ?? 'en'));
}

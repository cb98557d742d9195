import { Type } from 'typebox';
import { StringEnum, Timestamp, Uuid } from '../http/schemas.ts';
import { DRAFT_LANGS } from './incident-drafts.ts';
import { AFFECTED_ACTIONS } from './incident-affected.ts';

export const CATEGORIES = ['confidentiality', 'integrity', 'availability'] as const;
export const SEVERITIES = ['low', 'medium', 'high', 'critical'] as const;
/** Kinds an operator records; the system adds opened, rule_hit, clock_warning, decision, affected_computed and closed. */
export const EVENT_KINDS = ['note', 'detection', 'containment', 'assessment', 'communication', 'recovery'] as const;

const Text = (max: number, example: string, description?: string) => Type.String({ minLength: 1, maxLength: max, examples: [example], ...(description ? { description } : {}) });
const Names = (example: string) => Type.Array(Type.String({ minLength: 1, maxLength: 200 }), { maxItems: 50, examples: [[example]] });
const Who = Type.Object({ type: Type.String(), id: Type.String() });
const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);

export const IncidentInput = Type.Object({
  title: Text(200, 'Support key used outside its grant'),
  category: StringEnum(CATEGORIES, { description: 'the breach type: confidentiality, integrity or availability' }),
  severity: StringEnum(SEVERITIES),
  detectedAt: Type.String({ format: 'date-time', description: 'when the breach was detected; not in the future' }),
  awareAt: Type.String({ format: 'date-time', description: 'when the processor became aware of it (starts the 72-hour clock); not in the future, not before detectedAt' }),
  affectedSystems: Names('API'),
  dataCategories: Names('contact data'),
  description: Text(5000, 'A support key read records of one tenant after its grant had expired.'),
}, { additionalProperties: false, title: 'IncidentInput' });

export const EventInput = Type.Object({
  kind: StringEnum(EVENT_KINDS),
  note: Text(5000, 'Key revoked; access logs secured.'),
}, { additionalProperties: false, title: 'IncidentEventInput' });

export const DecisionInput = Type.Object({
  notifiable: Type.Boolean({ description: 'Art. 33(1): true unless the breach is unlikely to result in a risk to the rights and freedoms of natural persons' }),
  reason: Text(5000, 'Contact data of about 40 customers were readable by an unauthorised person.'),
  consequences: Type.Optional(Text(5000, 'Phishing against the customers concerned.', 'the likely consequences (Art. 33(3)(c))')),
  measures: Type.Optional(Text(5000, 'Key revoked, support grants re-issued, customers warned.', 'measures taken or proposed (Art. 33(3)(d))')),
  authorityNotifiedAt: Type.Optional(Type.String({ format: 'date-time', description: 'when the supervisory authority was notified; stops the clock' })),
}, { additionalProperties: false, title: 'IncidentDecisionInput' });

export const CloseInput = Type.Object({
  lessonsLearned: Text(10_000, 'Support grants now expire with the ticket.'),
}, { additionalProperties: false, title: 'IncidentCloseInput' });

export const AffectedInput = Type.Object({
  actorId: Type.String({ minLength: 1, maxLength: 200, description: 'the actor whose doings to trace: an API key id, a user id or a system job name (as in audit entries)' }),
  from: Type.String({ format: 'date-time' }),
  to: Type.String({ format: 'date-time', description: 'exclusive; not in the future' }),
  actions: Type.Optional(Type.Array(StringEnum(AFFECTED_ACTIONS), { minItems: 1, maxItems: AFFECTED_ACTIONS.length, uniqueItems: true,
    description: 'audit actions to count (default: every read and change of records)' })),
}, { additionalProperties: false, title: 'IncidentAffectedQuery' });

const Clock = Type.Object({ deadline: Timestamp, hoursSinceAware: Type.Integer(), running: Type.Boolean(), warnedHours: Type.Integer() });
const Decision = Type.Object({
  notifiable: Type.Boolean(), reason: Type.String(), consequences: Nullable(Type.String()), measures: Nullable(Type.String()),
  authorityNotifiedAt: Nullable(Timestamp), decidedAt: Timestamp, decidedBy: Who,
});
const Closure = Type.Object({ closedAt: Timestamp, lessonsLearned: Type.String(), closedBy: Who });

export const Incident = Type.Object({
  id: Uuid, title: Type.String(), category: Type.String(), severity: Type.String(), status: StringEnum(['open', 'closed'] as const),
  detectedAt: Timestamp, awareAt: Timestamp, affectedSystems: Type.Array(Type.String()), dataCategories: Type.Array(Type.String()),
  description: Type.String(), rule: Nullable(Type.String()), openedBy: Who, createdAt: Timestamp,
  clock: Clock, decision: Nullable(Decision), closure: Nullable(Closure),
}, { title: 'Incident' });

export const TimelineEvent = Type.Object({ seq: Type.Integer(), at: Timestamp, kind: Type.String(), actor: Who, note: Type.String() }, { title: 'IncidentEvent' });

export const TenantPart = Type.Object({
  tenantId: Uuid,
  query: Type.Object({ actorId: Type.String(), from: Type.String(), to: Type.String(), actions: Type.Array(Type.String()) }),
  recordsRead: Type.Integer(), recordsChanged: Type.Integer(), recordsTotal: Type.Integer(),
  recordIds: Type.Record(Type.String(), Type.Array(Uuid), { description: 'record ids by collection; never values' }),
  recordIdsTruncated: Type.Boolean(), computedAt: Timestamp,
}, { title: 'IncidentTenantPart' });

export const IncidentDetail = Type.Object({ ...Incident.properties, timeline: Type.Array(TimelineEvent), affectedTenants: Type.Array(TenantPart) },
  { title: 'IncidentDetail' });

export const Draft = Type.Object({
  tenantId: Uuid, tenantName: Type.String(), lang: StringEnum(DRAFT_LANGS),
  contents: Type.Object({
    nature: Type.String(), dataCategories: Type.Array(Type.String()),
    collections: Type.Array(Type.Object({ collection: Type.String(), records: Type.Integer() })),
    approximateSubjects: Type.Integer(), approximateRecords: Type.Integer(), recordsRead: Type.Integer(), recordsChanged: Type.Integer(),
    contact: Nullable(Type.String()), consequences: Nullable(Type.String()), measures: Nullable(Type.String()),
  }, { description: 'the Art. 33(3) contents' }),
  text: Type.String({ description: 'the draft as Markdown' }),
}, { title: 'IncidentNotificationDraft' });

export const TenantIncident = Type.Object({ ...Incident.properties, affected: Nullable(TenantPart) }, { title: 'TenantIncident' });
export const TenantIncidentDetail = Type.Object({ ...TenantIncident.properties, draft: Nullable(Draft) }, { title: 'TenantIncidentDetail' });

export const Documentation = Type.Object({
  format: Type.Literal('tresor.incident-documentation.v1'), generatedAt: Timestamp, incident: IncidentDetail,
  markdown: Type.String({ description: 'the same documentation as Markdown' }),
}, { title: 'IncidentDocumentation' });

export const LangQuery = Type.Object({ lang: Type.Optional(StringEnum(DRAFT_LANGS, { description: 'de or en (default en)' })) }, { additionalProperties: false });
export const IncidentParams = Type.Object({ incidentId: Uuid });
export const TenantIncidentParams = Type.Object({ tenantId: Uuid, incidentId: Uuid });
export const ListQuery = Type.Object({
  status: Type.Optional(StringEnum(['open', 'closed'] as const)),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000 })),
  cursor: Type.Optional(Type.String({ maxLength: 200 })),
}, { additionalProperties: false });

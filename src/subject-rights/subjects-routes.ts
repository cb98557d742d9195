import { Type } from 'typebox';
import type { App } from '../http/app-types.ts';
import { access } from '../http/access.ts';
import { Name, PageQuery, Page, StringEnum, TenantParams, Timestamp, Uuid, bearer, errorResponses } from '../http/schemas.ts';
import { type SubjectsService, SUBJECT_MAX_RECORDS } from './subjects-service.ts';

// The subject travels in the body only: values never appear in a URL, a log line or an audit entry.
const Where = Type.Record(Type.String(), Type.Unknown(), {
  propertyNames: { pattern: '^[a-z][a-z0-9_]{0,62}$' }, minProperties: 1, maxProperties: 10, examples: [{ email: 'ada@example.com' }],
  description: 'Searchable field names and the subject\'s values (1 to 10 fields, all must match); collections lacking one of the fields are not searched',
});
const Reason = Type.String({ minLength: 1, maxLength: 500, examples: ['Art. 17 request of 2026-03-02, ticket 4711'] });
const WhereBody = Type.Object({ where: Where }, { additionalProperties: false });
const ReasonBody = Type.Object({ where: Where, reason: Reason }, { additionalProperties: false });
const Classification = StringEnum(['none', 'personal', 'special'] as const);
const bound = `At most ${SUBJECT_MAX_RECORDS} records per request (422 subject.too_many_records beyond).`;
const whereProblems = ['subject.where_invalid', 'subject.too_many_records'] as const;

const Found = Type.Object({ records: Type.Array(Type.Object({ collection: Name, id: Uuid })) }, { title: 'SubjectRecords' });
const SubjectExport = Type.Object({
  format: Type.Literal('tresor.subject-export.v1'),
  tenantId: Uuid,
  exportedAt: Timestamp,
  collections: Type.Array(Type.Object({ name: Name, fields: Type.Array(Type.Object({ name: Type.String(), type: Type.String(), classification: Classification })) })),
  records: Type.Array(Type.Object({
    collection: Name, id: Uuid, version: Type.Integer(), createdAt: Timestamp, updatedAt: Timestamp,
    classifications: Type.Record(Type.String(), Classification),
    data: Type.Record(Type.String(), Type.Unknown()),
  })),
}, { title: 'SubjectExport' });
const Certificate = Type.Object({
  statement: Type.Object({
    type: Type.Literal('tresor.erasure-certificate.v1'), id: Uuid, tenantId: Uuid, erasedAt: Timestamp, reason: Type.String(),
    subject: Type.Object({ fields: Type.Array(Type.String()) }),
    collections: Type.Array(Type.Object({ name: Name, id: Uuid, records: Type.Array(Uuid) })),
    erased: Type.Integer(), method: Type.String(), requestedBy: Type.Object({ type: Type.String(), id: Type.String() }),
  }),
  signature: Type.String({ description: 'Ed25519 over the canonical JSON of `statement` (keys sorted, no whitespace), base64' }),
  algorithm: Type.Literal('Ed25519'),
  keyId: Type.String(),
  publicKey: Type.String({ description: 'raw 32-byte Ed25519 public key, base64' }),
}, { title: 'ErasureCertificate' });
const LegalHold = Type.Object({
  id: Uuid, reason: Type.String(), fields: Type.Array(Type.String()), createdBy: Type.String(), createdAt: Timestamp,
  releasedBy: Type.Union([Type.String(), Type.Null()]), releasedAt: Type.Union([Timestamp, Type.Null()]),
}, { title: 'LegalHold' });

const subjects = '/v1/tenants/:tenantId/subjects';
const holds = '/v1/tenants/:tenantId/legal-holds';

export function subjectsRoutes(app: App, { subjects: svc, listDefaultLimit, listMaxLimit }: { subjects: SubjectsService; listDefaultLimit: number; listMaxLimit: number }) {
  app.post(`${subjects}/find`, {
    config: { ...access.tenant('subjects.read'), problems: [...whereProblems] },
    schema: { operationId: 'findSubject', summary: 'Find every record of a data subject', tags: ['subjects'], security: bearer, params: TenantParams, body: WhereBody,
      description: `Looks the subject up by blind index in every collection whose searchable fields include all of \`where\`. ${bound}`,
      response: { 200: Found, ...errorResponses } },
  }, async (req) => svc.find(req.actor, req.params.tenantId, req.body.where));

  app.post(`${subjects}/export`, {
    config: { ...access.tenant('subjects.read'), problems: [...whereProblems] },
    schema: { operationId: 'exportSubject', summary: 'Export a data subject\'s records (Art. 15/20)', tags: ['subjects'], security: bearer, params: TenantParams, body: WhereBody,
      description: `Every record of the subject, decrypted and unmasked, with its collection, each field's classification, and its times. ${bound}`,
      response: { 200: SubjectExport, ...errorResponses } },
  }, async (req) => svc.export(req.actor, req.params.tenantId, req.body.where));

  app.post(`${subjects}/erase`, {
    config: { ...access.tenant('subjects.erase'), problems: [...whereProblems, 'subject.legal_hold'] },
    schema: { operationId: 'eraseSubject', summary: 'Erase a data subject (Art. 17)', tags: ['subjects'], security: bearer, params: TenantParams, body: ReasonBody,
      description: 'Deletes every record of the subject (409 subject.legal_hold if a hold covers one), records the subject\'s blind-index hashes '
        + `in the erasure ledger, which is re-applied to any restored backup, and answers a signed certificate. ${bound}`,
      response: { 200: Type.Object({ erased: Type.Integer(), certificate: Certificate }), ...errorResponses } },
  }, async (req) => svc.erase(req.actor, req.params.tenantId, req.body));

  app.post(holds, {
    config: { ...access.tenant('legal_holds.manage'), problems: ['subject.where_invalid'] },
    schema: { operationId: 'createLegalHold', summary: 'Place a legal hold on a data subject', tags: ['subjects'], security: bearer, params: TenantParams, body: ReasonBody,
      description: 'Until released, the subject\'s records (in the collections that index all of `where` now, records added later included) '
        + 'cannot be erased, nor deleted by retention. Only the blind-index hashes are stored.',
      response: { 201: LegalHold, ...errorResponses } },
  }, async (req, reply) => reply.code(201).send(await svc.hold(req.actor, req.params.tenantId, req.body)));

  app.get(holds, {
    config: access.tenant('legal_holds.read'),
    schema: { operationId: 'listLegalHolds', summary: 'List legal holds', tags: ['subjects'], security: bearer, params: TenantParams, querystring: PageQuery,
      description: 'Active and released holds, newest first.', response: { 200: Page(LegalHold, 'LegalHoldPage'), ...errorResponses } },
  }, async (req) => svc.holds(req.actor, req.params.tenantId, { limit: Math.min(req.query.limit ?? listDefaultLimit, listMaxLimit), cursor: req.query.cursor }));

  app.delete(`${holds}/:holdId`, {
    config: { ...access.tenant('legal_holds.manage'), problems: ['legal_hold.not_found'] },
    schema: { operationId: 'releaseLegalHold', summary: 'Release a legal hold', tags: ['subjects'], security: bearer,
      params: Type.Object({ tenantId: Uuid, holdId: Uuid }),
      description: 'The hold stays listed, with who released it and when; the subject can be erased again.', response: { 200: LegalHold, ...errorResponses } },
  }, async (req) => svc.release(req.actor, req.params.tenantId, req.params.holdId));
}

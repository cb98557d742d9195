import { Type } from 'typebox';
import type { App } from '../http/app-types.ts';
import { access } from '../http/access.ts';
import { StringEnum, TenantParams, bearer, errorResponses } from '../http/schemas.ts';
import { FORMATS, LANGS } from './tom-annex.ts';
import { AttestationIn, AttestationOut, Entry, EntryIn, EntryParams } from './tom-schemas.ts';
import type { Rendered, TomService } from './tom-service.ts';

const tags = ['compliance'];
const ReportQuery = Type.Object({
  lang: Type.Optional(StringEnum(LANGS, { description: 'language of the annex (default `en`)' })),
  format: Type.Optional(StringEnum(FORMATS, { description: '`html` (default; with a print stylesheet), `md`, or `pdf` (printed by headless Chromium)' })),
}, { additionalProperties: false });
const ReportResponse = {
  description: 'The signed annex: its last line is the signature trailer (see docs/compliance.md)',
  content: {
    'text/html': { schema: Type.String() }, 'text/markdown': { schema: Type.String() },
    'application/pdf': { schema: Type.String({ format: 'binary' }) },
  },
};
const reportDescription = 'Every measure of the register in the annex\'s sections with its status and evidence (value and time of check) or attestation, '
  + 'the sub-processors, the emergency plan, the generation time and the SHA-256 of the described configuration, signed with Ed25519 '
  + '(key at GET /v1/tom/public-key; `tresor tom verify FILE` checks it).';

/** The signed bytes as they are: a Buffer goes out unserialised. */
const headers = (r: Rendered) => ({ 'content-type': r.contentType, 'content-disposition': `inline; filename="${r.fileName}"`, 'cache-control': 'no-store' });

export function tomRoutes(app: App, { tom }: { tom: TomService }) {
  app.get('/v1/tom/public-key', {
    config: access.public,
    schema: { operationId: 'getTomPublicKey', summary: 'The key that signs TOM annexes', tags,
      description: 'Public: pin it once and check every annex against it (`tresor tom verify FILE --public-key KEY`).',
      response: { 200: Type.Object({ keyId: Type.String(), algorithm: Type.Literal('Ed25519'), publicKey: Type.String({ description: 'base64 of the raw 32-byte key' }) },
        { title: 'TomPublicKey' }), ...errorResponses } },
  }, async () => tom.publicKey());

  app.get('/v1/tom/entries', {
    config: access.platform('tom.read'),
    schema: { operationId: 'listTomEntries', summary: 'The TOM register with live evidence', tags, security: bearer,
      description: 'Every measure, checked now: technical ones with their evidence, the others with their newest attestation; failing and overdue ones raise a platform security event when they turn so.',
      response: { 200: Type.Object({ items: Type.Array(Entry) }), ...errorResponses } },
  }, async (req) => tom.entries(req.actor));

  app.patch('/v1/tom/entries/:key', {
    config: { ...access.platform('tom.manage'), problems: ['tom.entry_not_found', 'tom.invalid_entry'] },
    schema: { operationId: 'updateTomEntry', summary: 'Adapt a measure of the register', tags, security: bearer, params: EntryParams, body: EntryIn,
      description: 'Owner, review interval, the deployment\'s own wording (null: the template\'s), and when it was last reviewed.',
      response: { 200: Entry, ...errorResponses } },
  }, async (req) => tom.update(req.actor, req.params.key, req.body));

  app.post('/v1/tom/entries/:key/attestations', {
    config: { ...access.platform('tom.manage'), problems: ['tom.entry_not_found', 'tom.invalid_attestation', 'tom.document_too_large'] },
    schema: { operationId: 'attestTomEntry', summary: 'Attest a measure', tags, security: bearer, params: EntryParams, body: AttestationIn,
      description: 'Who attests, when, the document behind it (uploaded as base64, of which only the SHA-256 is kept, or its SHA-256 alone) and the next review date; past that date the measure is overdue.',
      response: { 201: AttestationOut, ...errorResponses } },
  }, async (req, reply) => reply.code(201).send(await tom.attest(req.actor, req.params.key, req.body)));

  app.get('/v1/tom/report', {
    config: { ...access.platform('tom.read'), problems: ['tom.pdf_unavailable', 'tom.pdf_busy'] },
    schema: { operationId: 'getTomReport', summary: 'The deployment\'s signed Art. 32 annex', tags, security: bearer, querystring: ReportQuery,
      description: reportDescription, produces: ['text/html', 'text/markdown', 'application/pdf'], response: { 200: ReportResponse, ...errorResponses } },
  }, async (req, reply) => {
    const r = await tom.report(req.actor, { lang: req.query.lang ?? 'en', format: req.query.format ?? 'html' });
    return reply.headers(headers(r)).send(r.body as unknown as string);
  });

  app.get('/v1/tenants/:tenantId/tom/report', {
    config: { ...access.tenant('tom.report'), problems: ['tom.pdf_unavailable', 'tom.pdf_busy'] },
    schema: { operationId: 'getTenantTomReport', summary: 'The signed Art. 32 annex as it applies to the tenant', tags, security: bearer, params: TenantParams,
      querystring: ReportQuery, description: `${reportDescription} Evidence drawn from tenant data (users, keys, encryption, instructions) is the tenant's own.`,
      produces: ['text/html', 'text/markdown', 'application/pdf'], response: { 200: ReportResponse, ...errorResponses } },
  }, async (req, reply) => {
    const r = await tom.tenantReport(req.actor, req.params.tenantId, { lang: req.query.lang ?? 'en', format: req.query.format ?? 'html' });
    return reply.headers(headers(r)).send(r.body as unknown as string);
  });
}


import { Type } from 'typebox';
import { StringEnum, Timestamp, Uuid } from '../http/schemas.ts';

const Text = (description: string) => Type.Object({ de: Type.String(), en: Type.String() }, { description });
const Nullable = <T extends ReturnType<typeof Type.String>>(t: T) => Type.Union([t, Type.Null()]);
const Sha256 = Type.String({ pattern: '^[0-9a-fA-F]{64}$', description: 'SHA-256 of the document, hex', examples: ['9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08'] });

export const EntryParams = Type.Object({ key: Type.String({ pattern: '^[a-z][a-z0-9_.]{0,63}$', description: 'the measure\'s stable key', examples: ['separation.tenants'] }) });

const Evidence = Type.Object({
  check: Type.String({ description: 'which check produced it' }),
  status: StringEnum(['met', 'failing', 'not_applicable', 'pending'] as const),
  summary: Text('what was found, in German and English'),
  facts: Type.Record(Type.String(), Type.Union([Type.String(), Type.Number(), Type.Boolean(), Type.Null()]), { description: 'the figures behind the summary' }),
  checkedAt: Timestamp,
}, { title: 'TomEvidence' });

export const AttestationOut = Type.Object({
  id: Uuid, attestedBy: Type.String(), attestedAt: Timestamp, documentSha256: Nullable(Type.String()),
  documentBytes: Type.Union([Type.Integer(), Type.Null()]), nextReviewAt: Timestamp, note: Nullable(Type.String()),
}, { title: 'TomAttestation' });

export const Entry = Type.Object({
  key: Type.String(), section: Type.String({ examples: ['1.4'] }),
  kind: StringEnum(['technical', 'organisational', 'physical'] as const),
  title: Text('the measure'), description: Text('how the deployment meets it (the operator\'s wording, else the template\'s)'),
  owner: Nullable(Type.String()), reviewIntervalDays: Type.Integer(), lastReviewAt: Nullable(Timestamp), reviewDueAt: Nullable(Timestamp),
  status: StringEnum(['met', 'failing', 'overdue', 'unattested', 'not_applicable', 'pending'] as const, {
    description: 'technical measures: their evidence; the others: their newest attestation (`overdue` past its next review). Only `met` counts as met.' }),
  evidence: Type.Union([Evidence, Type.Null()]), attestation: Type.Union([AttestationOut, Type.Null()]),
  links: Type.Array(Type.String(), { description: 'documents it refers to: recovery, incidents, compliance' }),
}, { title: 'TomEntry' });

export const EntryIn = Type.Object({
  owner: Type.Optional(Nullable(Type.String({ minLength: 1, maxLength: 200, examples: ['IT operations'] }))),
  reviewIntervalDays: Type.Optional(Type.Integer({ minimum: 1, maximum: 3650 })),
  description: Type.Optional(Type.Object({
    de: Type.Optional(Nullable(Type.String({ minLength: 1, maxLength: 2000 }))),
    en: Type.Optional(Nullable(Type.String({ minLength: 1, maxLength: 2000 }))),
  }, { additionalProperties: false, description: 'the deployment\'s own wording; null restores the template\'s' })),
  reviewedAt: Type.Optional(Type.String({ format: 'date-time', description: 'when the measure was last reviewed (not in the future)' })),
}, { additionalProperties: false, minProperties: 1, title: 'TomEntryInput', examples: [{ owner: 'IT operations', reviewIntervalDays: 180 }] });

export const AttestationIn = Type.Object({
  attestedBy: Type.String({ minLength: 1, maxLength: 200, examples: ['J. Weber, facility management'] }),
  attestedAt: Type.Optional(Type.String({ format: 'date-time', description: 'default: now; not in the future' })),
  nextReviewAt: Type.String({ format: 'date-time', examples: ['2027-06-30T00:00:00Z'] }),
  note: Type.Optional(Type.String({ minLength: 1, maxLength: 2000 })),
  document: Type.Optional(Type.String({ minLength: 1, maxLength: 23_000_000, contentEncoding: 'base64', pattern: '^[A-Za-z0-9+/]*={0,2}$',
    description: 'the document itself, base64 (at most TRESOR_TOM_DOCUMENT_MAX_BYTES); only its SHA-256 and size are kept' })),
  documentSha256: Type.Optional(Sha256),
}, { additionalProperties: false, title: 'TomAttestationInput' });

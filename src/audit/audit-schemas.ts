import { Type } from 'typebox';
import { Page, Timestamp, Uuid } from '../http/schemas.ts';

const Actor = Type.Object({
  type: Type.String({ enum: ['api_key', 'user', 'system'] }),
  id: Type.String({ description: 'API key id, user id, or the job name for the system' }),
  role: Type.String(),
  sessionId: Type.Optional(Type.String({ description: 'for users signed in with a session cookie' })),
}, { title: 'AuditActor' });

/** The leaf, parsed: what Tresor logged, field names and ids only, never a value. */
export const AuditEntryBody = Type.Object({
  v: Type.Integer({ description: 'leaf format version (1)' }),
  kind: Type.String({ enum: ['data', 'request'] }),
  time: Timestamp,
  tenantId: Type.Union([Uuid, Type.Null()]),
  actor: Type.Union([Actor, Type.Null()]),
  action: Type.Optional(Type.String({ description: 'data entries: what was done, e.g. record.create, record.read, key.rotate' })),
  collection: Type.Optional(Type.String()),
  recordIds: Type.Optional(Type.Array(Uuid)),
  fields: Type.Optional(Type.Array(Type.String(), { description: 'names of the fields written or searched by; never their values' })),
  target: Type.Optional(Type.Object({ type: Type.String(), id: Type.String() })),
  detail: Type.Optional(Type.Record(Type.String(), Type.Union([Type.String(), Type.Number(), Type.Boolean(), Type.Null()]))),
  requestId: Type.Optional(Type.String({ description: 'request entries from here on' })),
  ip: Type.Optional(Type.String()),
  method: Type.Optional(Type.String()),
  route: Type.Optional(Type.Union([Type.String(), Type.Null()], { description: 'the route template, e.g. /v1/tenants/:tenantId' })),
  path: Type.Optional(Type.String()),
  status: Type.Optional(Type.Integer()),
  durationMs: Type.Optional(Type.Number()),
  userAgent: Type.Optional(Type.Union([Type.String(), Type.Null()])),
}, { title: 'AuditEntryBody' });

export const AuditItem = Type.Object({
  id: Type.String({ pattern: '^[0-9]+$', examples: ['42'], description: 'the row id (order of writing; the Merkle sequence number is assigned at commit order separately)' }),
  createdAt: Timestamp,
  seq: Type.Optional(Type.Union([Type.Integer({ minimum: 0 }), Type.Null()], {
    description: 'export only: the leaf index in the Merkle tree (GET /v1/audit/proofs/inclusion), null until the sequencer reached the entry' })),
  leafHash: Type.String({ description: 'base64 of SHA-256(0x00 ‖ leaf): the RFC 6962 leaf hash, kept after retention redacts the entry' }),
  entry: Type.Union([AuditEntryBody, Type.Null()], { description: 'null once retention has redacted the entry' }),
}, { title: 'AuditItem' });

export const AuditPage = Page(AuditItem, 'AuditPage');

const cursorAndLimit = {
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000, description: 'at most TRESOR_LIST_MAX_LIMIT entries per page' })),
  cursor: Type.Optional(Type.String({ maxLength: 200 })),
};
const filters = {
  from: Type.Optional(Type.String({ format: 'date-time', description: 'entries at or after this time' })),
  to: Type.Optional(Type.String({ format: 'date-time', description: 'entries before this time' })),
  actor: Type.Optional(Type.String({ minLength: 1, maxLength: 100, description: 'API key id, user id or system job name' })),
  action: Type.Optional(Type.String({ pattern: '^[a-z_]+(\\.[a-z_]+)*$', maxLength: 64, description: 'e.g. record.read, http.request' })),
};

export const TenantAuditQuery = Type.Object({ ...filters, recordId: Type.Optional(Uuid), ...cursorAndLimit }, { additionalProperties: false });
export const HistoryQuery = Type.Object(cursorAndLimit, { additionalProperties: false });
export const ExportQuery = Type.Object({ ...filters, tenantId: Type.Optional(Uuid), ...cursorAndLimit }, { additionalProperties: false });

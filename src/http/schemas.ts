import { Type, type TSchema } from 'typebox';

// Any case and the urn:uuid: form are accepted and made canonical (lower case,
// bare) during validation: see canonicalUuid in validator.ts.
export const Uuid = Type.String({ format: 'uuid', 'x-canonical-uuid': true });
export const Name = Type.String({ pattern: '^[a-z][a-z0-9_]{0,62}$' });
export const Timestamp = Type.String({ format: 'date-time' });
/** One of a list of strings, typed as such (TypeBox's Enum leaves out `type: string`). */
export const StringEnum = <T extends readonly string[]>(values: T, options: { description?: string } = {}) =>
  Type.Unsafe<T[number]>({ type: 'string', enum: [...values], ...options });

export const Problem = Type.Object({
  type: Type.String(),
  title: Type.String(),
  status: Type.Integer(),
  code: Type.String(),
  detail: Type.String(),
  requestId: Type.String(),
  problems: Type.Optional(Type.Array(Type.Object({
    path: Type.Optional(Type.String()),
    field: Type.Optional(Type.String()),
    code: Type.String(),
    detail: Type.String(),
  }), { maxItems: 100 })),
  problemsTotal: Type.Optional(Type.Integer()),
}, { title: 'Problem', description: 'RFC 9457 problem details; `type` resolves to GET /problems/{code}' });

/** Every route answers errors as problem+json. */
export const errorResponses = { '4xx': Problem, '5xx': Problem };

export const TenantParams = Type.Object({ tenantId: Uuid });
export const CollectionParams = Type.Object({ tenantId: Uuid, name: Name });
export const RecordParams = Type.Object({ tenantId: Uuid, name: Name, id: Uuid });

export const PageQuery = Type.Object({
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000 })),
  cursor: Type.Optional(Type.String({ maxLength: 200 })),
}, { additionalProperties: false });

/** A page of a list: named `<Item>Page` in the OpenAPI document. */
export const Page = <T extends TSchema>(item: T, title: string) => Type.Object({
  items: Type.Array(item),
  nextCursor: Type.Union([Type.String(), Type.Null()], { description: 'Pass as `cursor` for the next page; null on the last page' }),
}, { title });

export const bearer = [{ bearer: [] as string[] }];

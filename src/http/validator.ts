import type { FastifyInstance, FastifySchemaCompiler, FastifySchemaValidationError } from 'fastify';
import { Ajv, type KeywordDefinition } from 'ajv';
import addFormats from 'ajv-formats';

const ANY_UUID = /^(?:urn:uuid:)?([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/i;

/**
 * The canonical (lower-case, bare) form of a UUID in any accepted spelling, or
 * undefined. RFC 9562 §4 has UUIDs compared case-insensitively, but AADs, key
 * rings, cache keys and the tenant context are built from the id's text, so
 * every id is made canonical before anything else sees it.
 */
export function canonicalUuid(text: unknown): string | undefined {
  if (typeof text !== 'string') return undefined;
  return ANY_UUID.exec(text)?.[1].toLowerCase();
}

// Rewrites the validated value in place (a modifying keyword), so params, query
// and body all reach handlers canonical. Clients keep sending what RFC 9562
// allows (upper case, urn:uuid:) instead of getting a 400 for it.
const canonicalUuidKeyword: KeywordDefinition = {
  keyword: 'x-canonical-uuid',
  type: 'string',
  schemaType: 'boolean',
  modifying: true,
  errors: false,
  validate(enabled: boolean, data: string, _parent: unknown, cxt?: { parentData: Record<string | number, unknown>; parentDataProperty: string | number }) {
    if (!enabled) return true;
    const canonical = canonicalUuid(data);
    if (canonical === undefined) return false;
    if (cxt?.parentData) cxt.parentData[cxt.parentDataProperty] = canonical;
    return true;
  },
};

// Bodies are validated strictly: no type coercion ("123" is not a number),
// unknown properties rejected rather than silently dropped, all errors at once.
// Query strings and params keep coercion, since they only ever arrive as text.
const strict = new Ajv({ allErrors: true, coerceTypes: false, removeAdditional: false, useDefaults: true, strict: false });
const lenient = new Ajv({ allErrors: true, coerceTypes: true, removeAdditional: false, useDefaults: true, strict: false });
for (const ajv of [strict, lenient]) {
  addFormats.default(ajv);
  ajv.addKeyword(canonicalUuidKeyword);
}

export const compileValidator: FastifySchemaCompiler<any> = ({ schema, httpPart }) =>
  (httpPart === 'body' ? strict : lenient).compile(schema);

/** For a streamed body: params and headers as usual, the body left to its own line-by-line checks. */
export const compileValidatorExceptBody: FastifySchemaCompiler<any> = (route) =>
  route.httpPart === 'body' ? () => true : compileValidator(route);

export function registerValidators(app: FastifyInstance): void {
  app.setValidatorCompiler(compileValidator);
}

/** For a route whose body is optional: no body (Fastify hands it over as null) passes; a body is checked as usual (Fastify reads `errors` off the function). */
export const compileValidatorOptionalBody: FastifySchemaCompiler<any> = (route) => {
  type Check = ((data: unknown) => boolean) & { errors?: FastifySchemaValidationError[] | null };
  const check = compileValidator(route) as Check;
  if (route.httpPart !== 'body') return check;
  const optional: Check = (data: unknown): boolean => {
    const ok = data === undefined || data === null || check(data);
    optional.errors = ok ? null : check.errors;
    return ok;
  };
  optional.errors = null;
  return optional;
};

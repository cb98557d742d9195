import type { FastifyInstance, FastifySchemaCompiler } from 'fastify';
import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';

// Bodies are validated strictly: no type coercion ("123" is not a number),
// unknown properties rejected rather than silently dropped, all errors at once.
// Query strings and params keep coercion, since they only ever arrive as text.
const strict = new Ajv({ allErrors: true, coerceTypes: false, removeAdditional: false, useDefaults: true, strict: false });
const lenient = new Ajv({ allErrors: true, coerceTypes: true, removeAdditional: false, useDefaults: true, strict: false });
addFormats.default(strict);
addFormats.default(lenient);

export const compileValidator: FastifySchemaCompiler<any> = ({ schema, httpPart }) =>
  (httpPart === 'body' ? strict : lenient).compile(schema);

/** For a streamed body: params and headers as usual, the body left to its own line-by-line checks. */
export const compileValidatorExceptBody: FastifySchemaCompiler<any> = (route) =>
  route.httpPart === 'body' ? () => true : compileValidator(route);

export function registerValidators(app: FastifyInstance): void {
  app.setValidatorCompiler(compileValidator);
}

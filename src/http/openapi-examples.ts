import { type ErrorCode, RequestError, toProblem } from '../errors.ts';

// Examples for the OpenAPI document, built from the schemas themselves (their
// `examples`, defaults and enums, then a plain value of the type), so an
// example cannot drift from the shape it illustrates; Redocly checks each one
// against its schema (no-invalid-media-type-examples).

type Schema = Record<string, unknown>;

const SAMPLE_UUID = '0b5c6f3e-8a41-4d7e-9c2a-5f1e7d3b9a60';
const byFormat: Record<string, string> = { uuid: SAMPLE_UUID, 'date-time': '2026-01-15T09:30:00.000Z', date: '2026-01-15', email: 'ada@example.com' };

function objectExample(schema: Schema): Record<string, unknown> {
  const properties = (schema.properties ?? {}) as Record<string, Schema>;
  const required = new Set((schema.required ?? []) as string[]);
  const out: Record<string, unknown> = {};
  for (const [name, property] of Object.entries(properties)) {
    // Optional properties appear only when they have something to show.
    if (required.has(name) || 'examples' in property || 'default' in property) out[name] = exampleOf(property);
  }
  return out;
}

/** A value that matches the schema, preferring what the schema itself offers. */
export function exampleOf(schema: Schema): unknown {
  if (Array.isArray(schema.examples) && schema.examples.length > 0) return schema.examples[0];
  if ('example' in schema) return schema.example;
  if ('const' in schema) return schema.const;
  if ('default' in schema) return schema.default;
  if (Array.isArray(schema.enum)) return schema.enum[0];
  if (Array.isArray(schema.allOf)) {
    // Properties beside allOf narrow the parts' (a problem's `code` to the route's codes).
    const narrowed = objectExample({ ...schema, required: Object.keys(schema.properties ?? {}) });
    return Object.assign({}, ...schema.allOf.map((part) => exampleOf(part as Schema)), narrowed);
  }
  if (Array.isArray(schema.anyOf)) return exampleOf(schema.anyOf[0] as Schema);
  switch (schema.type) {
    case 'object': return objectExample(schema);
    case 'array': return schema.items ? [exampleOf(schema.items as Schema)] : [];
    case 'integer': case 'number': return typeof schema.minimum === 'number' ? schema.minimum : 1;
    case 'boolean': return false;
    case 'null': return null;
    case 'string': return byFormat[String(schema.format)] ?? 'example';
    default: return {};
  }
}

/** What the server sends for this code (with an example request id). */
export const problemExample = (code: ErrorCode) => toProblem(new RequestError(code), SAMPLE_UUID);

type Media = { schema?: Schema; example?: unknown };
type Operation = { requestBody?: { content: Record<string, Media> }; responses?: Record<string, { content?: Record<string, Media> }> };

function fill(media: Media, problem: boolean): void {
  if (media.example !== undefined || !media.schema) return;
  const example = exampleOf(media.schema);
  media.example = problem ? problemExample((example as { code: ErrorCode }).code) : example;
}

/** An example request body and an example of every response of the operation. */
export function addExamples(operation: Operation): void {
  for (const media of Object.values(operation.requestBody?.content ?? {})) fill(media, false);
  for (const response of Object.values(operation.responses ?? {})) {
    for (const [type, media] of Object.entries(response.content ?? {})) fill(media, type === 'application/problem+json');
  }
}

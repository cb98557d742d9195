import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { RouteOptions } from 'fastify';
import type { Config } from '../config.ts';
import { type ErrorCode, errorCatalogue } from '../errors.ts';
import { permissions } from '../access/permissions.ts';
import type { App } from './app-types.ts';
import { access } from './access.ts';
import { Problem } from './schemas.ts';
import { addExamples } from './openapi-examples.ts';
import { compileValidatorOptionalBody } from './validator.ts';

// The OpenAPI 3.1 document is generated from the routes: their schemas give
// the shapes, their access declaration (config.auth/action) the security and
// roles, and the error catalogue the problem responses. Route files only add
// what cannot be derived: operationId, summary, and their own problem codes.

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Problem codes this route raises beyond those its shape implies (see impliedProblems). */
    problems?: readonly ErrorCode[];
  }
}

const tags = [
  { name: 'health', description: 'Liveness and readiness probes for load balancers and orchestrators' },
  { name: 'problems', description: 'Descriptions of the error codes that problem+json answers carry in `code`' },
  { name: 'tenants', description: 'Tenants: the isolation boundary for keys, collections and records' },
  { name: 'api-keys', description: 'API keys of a tenant (owner, admin, editor, viewer, auditor) and of operators' },
  { name: 'collections', description: 'Collections: named sets of typed, classified fields' },
  { name: 'records', description: 'Records of a collection: create, read, update, delete, search, import' },
  { name: 'subjects', description: 'Data-subject requests across a tenant\'s collections (find, export, erase) and legal holds' },
  { name: 'keys', description: "A tenant's data keys: status and rotation" },
  { name: 'pseudonyms', description: 'Pseudonyms of pseudonymize fields: re-identification (by permission, with a reason, audited) and key rotation' },
  { name: 'audit-log', description: 'The tamper-evident audit log: queries, record histories and export (ids and field names, never values); signed tree heads, entries by seq, RFC 6962 proofs' },
  { name: 'security', description: 'Security events, the permission matrix and break-glass support grants' },
  { name: 'lifecycle', description: 'Data lifecycle: retention policies, tenant closure and reopening, deletion certificates of purged tenants' },
  { name: 'backups', description: 'Encrypted backups of the embedded store and signed evidence of restore verifications (operators)' },
  { name: 'sub-processors', description: 'The platform\'s sub-processor register, its announced changes and tenants\' objections' },
  { name: 'compliance', description: 'The register of technical and organisational measures (GDPR Art. 32) with live evidence and attestations, and its signed annex' },
  { name: 'incidents', description: 'The incident register (GDPR Art. 33): timeline, the 72-hour clock, affected records from the audit trail, notification drafts, documentation' },
  { name: 'instructions', description: 'The client\'s documented instructions per tenant, versioned, in force once an operator confirms them' },
  { name: 'users', description: "A tenant's users (and the platform's): invitation, roles, deactivation, 2FA and password resets" },
  { name: 'auth', description: 'Login with password and TOTP, 2FA enrolment, sessions, passwords' },
];

type Schema = Record<string, unknown>;

/**
 * On a route schema whose validation is deliberately looser than the contract
 * (a service reports every problem at once, with sub-codes): the schema the
 * document shows instead.
 */
export const DOCUMENTED_AS = 'x-documented-as';
type RouteSchema = Schema & { params?: Schema; querystring?: Schema; body?: Schema; headers?: Schema; response?: Record<string, unknown>; description?: string };

const hasProperty = (schema: Schema | undefined, name: string) =>
  Boolean((schema?.properties as Schema | undefined)?.[name]);

/** Codes every route of this shape can answer, whatever its handler does. */
function impliedProblems(route: RouteOptions, schema: RouteSchema): ErrorCode[] {
  const codes: ErrorCode[] = [];
  const isPublic = route.config?.auth === 'public';
  if (schema.params) codes.push('request.invalid_url');
  if (schema.params || schema.querystring || schema.body || schema.headers) codes.push('request.validation_failed');
  if (hasProperty(schema.querystring, 'cursor') || hasProperty(schema.body, 'cursor')) codes.push('request.invalid_cursor');
  if (schema.body) {
    if (!route.config?.streamedBody) codes.push('request.invalid_json', 'request.invalid_utf8');
    codes.push('request.body_too_large', 'request.unsupported_media_type');
  }
  if (!isPublic) codes.push('auth.missing_credentials', 'auth.invalid_credentials', 'auth.forbidden');
  const auth = route.config?.auth;
  const writes = [route.method].flat().some((m) => !['GET', 'HEAD', 'OPTIONS'].includes(m));
  if (Array.isArray(auth) && auth.includes('session') && writes) codes.push('auth.csrf_failed');
  if (route.config?.scope === 'tenant') codes.push('tenant.not_found');
  if (!isPublic) codes.push('service.unavailable');
  codes.push('internal.error');
  return codes;
}

/** One response per status, typed application/problem+json, its `code` an enum of the route's codes. */
function problemResponses(codes: readonly ErrorCode[]): Record<string, unknown> {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of new Set(codes)) {
    const { status } = errorCatalogue[code];
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  const responses: Record<string, unknown> = {};
  for (const [status, list] of [...byStatus].sort(([a], [b]) => a - b)) {
    const schema = { allOf: [Problem], properties: { code: { type: 'string', enum: list } } };
    responses[status] = {
      description: list.map((code) => `\`${code}\`: ${errorCatalogue[code].title}`).join('; '),
      content: { 'application/problem+json': { schema } },
    };
  }
  return responses;
}

function rolesOf(route: RouteOptions): readonly string[] | null {
  return route.config?.action ? permissions[route.config.action] : null;
}

/** Per route: security, roles (text and x-required-roles), problem responses. */
function describeRoute({ schema, route }: { schema: unknown; route: RouteOptions }) {
  const own = schema as RouteSchema | undefined;
  if (!own || own.hide) return { schema };
  const roles = rolesOf(route);
  const who = roles ? `Roles: ${roles.join(', ')}.` : 'Public: no credentials needed.';
  const response = Object.fromEntries(Object.entries(own.response ?? {}).filter(([status]) => /^[123]/.test(status)));
  const codes = [...impliedProblems(route, own), ...(route.config?.problems ?? [])];
  // The credentials the route accepts, from its access declaration.
  const auth = route.config?.auth;
  const security = Array.isArray(auth) ? auth.map((kind) => (kind === 'api_key' ? { bearer: [] } : { session: [] })) : [];
  return {
    schema: {
      ...own,
      description: own.description ? `${own.description}\n\n${who}` : who,
      security,
      // A route that takes its body or none (finishDocument marks the requestBody not required).
      ...(route.validatorCompiler === compileValidatorOptionalBody ? { 'x-body-optional': true } : {}),
      ...(roles ? { 'x-required-roles': roles, 'x-action': route.config?.action, 'x-scope': route.config?.scope } : {}),
      response: { ...response, ...problemResponses(codes) },
    },
  };
}

/**
 * Schemas carrying a `title` become named components, referenced where they
 * appear, so a client generator emits one `Record` type instead of many.
 */
function hoistTitled(node: unknown, components: Record<string, unknown>): unknown {
  if (Array.isArray(node)) return node.map((item) => hoistTitled(item, components));
  if (typeof node !== 'object' || node === null) return node;
  const out: Schema = {};
  for (const [key, value] of Object.entries(node)) out[key] = hoistTitled(value, components);
  if (typeof out.title !== 'string' || !/^[A-Z]\w*$/.test(out.title)) return out;
  components[out.title] ??= out;
  return { $ref: `#/components/schemas/${out.title}` };
}

/**
 * The limits the server enforces (config), not the schema's sanity bounds: a
 * larger `limit` is lowered to TRESOR_LIST_MAX_LIMIT rather than refused.
 */
function applyConfiguredLimits(doc: Schema, config: Config): void {
  const limit = (fallback: number) => ({
    maximum: config.listMaxLimit, default: fallback,
    description: `At most ${config.listMaxLimit} (TRESOR_LIST_MAX_LIMIT); a larger limit is lowered to it.`,
  });
  const visit = (node: unknown, key?: string): void => {
    if (typeof node !== 'object' || node === null) return;
    const obj = node as Schema;
    // A search body without `limit` fills a whole page; a list query takes the default.
    if (key === 'limit' && obj.type === 'integer') Object.assign(obj, limit(config.listMaxLimit));
    if (obj.in === 'query' && obj.name === 'limit' && obj.schema) {
      const { description, ...bounds } = limit(config.listDefaultLimit);
      Object.assign(obj.schema as Schema, bounds);
      obj.description = description;
      return;
    }
    for (const [k, v] of Object.entries(obj)) visit(v, k);
  };
  visit(doc.paths);
}

function showDocumentedAs(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(showDocumentedAs);
  if (typeof node !== 'object' || node === null) return node;
  if (DOCUMENTED_AS in node) return showDocumentedAs((node as Schema)[DOCUMENTED_AS]);
  return Object.fromEntries(Object.entries(node).map(([key, value]) => [key, showDocumentedAs(value)]));
}

function optionalBody(operation: { 'x-body-optional'?: boolean; requestBody?: { required: boolean } }) {
  if (!operation['x-body-optional']) return;
  delete operation['x-body-optional'];
  if (operation.requestBody) operation.requestBody.required = false;
}

function finishDocument(doc: Schema, config: Config): Schema {
  const components = doc.components as { schemas: Record<string, unknown> };
  doc.paths = showDocumentedAs(doc.paths);
  applyConfiguredLimits(doc, config);
  for (const item of Object.values(doc.paths as Record<string, Record<string, object>>)) {
    for (const operation of Object.values(item)) {
      addExamples(operation);
      optionalBody(operation as { 'x-body-optional'?: boolean; requestBody?: { required: boolean } });
    }
  }
  doc.paths = hoistTitled(doc.paths, components.schemas);
  return doc;
}

/** The URL clients reach this server at; a wildcard listen address is reached locally. */
export function baseUrl(config: Config): string {
  const host = ['0.0.0.0', '::', ''].includes(config.host) ? 'localhost' : config.host;
  return `${config.tlsCertFile ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}:${config.port}`;
}

export async function registerOpenApi(app: App, config: Config): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Tresor', version: '1', description: 'Multi-tenant vault for personal data',
        license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
      },
      servers: [{ url: baseUrl(config), description: 'This server, as configured (HOST, PORT)' }],
      tags,
      components: { securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'An API key: Authorization: Bearer <key>' },
        session: { type: 'apiKey', in: 'cookie', name: '__Host-tresor',
          description: 'A session from POST /v1/auth/mfa/verify; writes also send its csrfToken as X-CSRF-Token' },
      } },
    },
    transform: describeRoute as never,
    transformObject: (d) => finishDocument((d as unknown as { openapiObject: Schema }).openapiObject, config) as never,
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  app.get('/openapi.json', { config: access.public, schema: { hide: true } }, async () => app.swagger());
}

import { randomUUID } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { trackAllowedMethods } from './allowed-methods.ts';
import { type ErrorCode, type SubProblem, RequestError, toProblem, withProblems } from '../errors.ts';
import { isDbUnavailable, isTenantFrozen } from '../db/db.ts';
import type { Meters } from './metrics.ts';

// A property name is echoed only when it could be a field name: anything else
// may be personal data sent by mistake (an e-mail address used as a key).
const FIELD_NAME = /^[a-z][a-z0-9_]{0,62}$/;

const fastifyCodes: Record<string, ErrorCode> = {
  FST_ERR_CTP_INVALID_JSON_BODY: 'request.invalid_json',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'request.invalid_json',
  FST_ERR_CTP_BODY_TOO_LARGE: 'request.body_too_large',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'request.validation_failed',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'request.unsupported_media_type',
  FST_ERR_BAD_URL: 'request.invalid_url',
  FST_ERR_MAX_PARAM_LENGTH: 'request.invalid_url',
};

type AjvError = NonNullable<FastifyError['validation']>[number];

function schemaProblem(context: string, v: AjvError): SubProblem {
  const where = `${context}${v.instancePath || ''}`;
  if (v.keyword === 'additionalProperties') {
    const name = String((v.params as { additionalProperty?: unknown }).additionalProperty ?? '');
    if (!FIELD_NAME.test(name)) return { path: where, code: 'request.unknown_property', detail: `unknown property in ${where}` };
    const path = `${where}/${name}`;
    return { path, code: 'request.unknown_property', detail: `unknown property ${path}` };
  }
  const code = v.keyword === 'required' ? 'request.missing_property' : 'request.invalid_value';
  return { path: where, code, detail: `${where} ${v.message ?? 'is not valid'}` };
}

function validationError(err: FastifyError): RequestError {
  const context = err.validationContext ?? 'body';
  return withProblems('request.validation_failed', (err.validation ?? []).map((v) => schemaProblem(context, v)));
}

/** Maps every error to problem+json. Unknown errors become a 500 whose detail reveals nothing. */
export function toRequestError(err: FastifyError | Error, retryAfterSeconds: number): RequestError {
  if (err instanceof RequestError) return err;
  const fe = err as FastifyError;
  if (fe.validation) return validationError(fe);
  if (fe.code && fastifyCodes[fe.code]) return new RequestError(fastifyCodes[fe.code]);
  if (isTenantFrozen(err)) return new RequestError('tenant.not_active', 'The tenant is closed: it is read-only until it is reopened');
  if (isDbUnavailable(err)) return new RequestError('service.unavailable', undefined, { retryAfterSeconds });
  if (err instanceof SyntaxError && (fe.statusCode === 400)) return new RequestError('request.invalid_json');
  return new RequestError('internal.error');
}

export function sendProblem(request: FastifyRequest, reply: FastifyReply, error: RequestError) {
  if (error.extras.retryAfterSeconds) reply.header('retry-after', String(error.extras.retryAfterSeconds));
  return reply.code(error.status).type('application/problem+json').send(toProblem(error, request.id));
}

export function registerProblemHandlers(app: FastifyInstance, { retryAfterSeconds, meters }: { retryAfterSeconds: number; meters: Pick<Meters, 'dbUnavailable'> }): void {
  app.setErrorHandler((err: FastifyError, request, reply) => {
    const error = toRequestError(err, retryAfterSeconds);
    // A driver error mapped to 503 (not the readiness check's own 503 for pending migrations).
    if (error.code === 'service.unavailable' && !(err instanceof RequestError)) meters.dbUnavailable();
    if (error.status >= 500) request.log.error({ err }, 'request failed');
    return sendProblem(request, reply, error);
  });
  const allowed = trackAllowedMethods(app);
  app.setNotFoundHandler((request, reply) => {
    const allow = allowed(request.url.split('?')[0]);
    if (allow.length) {
      return sendProblem(request, reply.header('allow', allow.join(', ')),
        new RequestError('route.method_not_allowed', `This path allows ${allow.join(', ')}`));
    }
    // The path is not echoed: it may hold whatever a client typed into it.
    return sendProblem(request, reply, new RequestError('route.not_found', `No route matches this ${request.method} request's path`));
  });
}

/**
 * Errors the router raises before any route or hook runs (a bad percent-encoding,
 * an over-long path segment): Fastify would answer them in its own format,
 * echoing the URL. Passed to Fastify as `frameworkErrors`; no hook runs for
 * these, so the request id header is set here.
 */
export const frameworkErrors = (err: FastifyError, request: FastifyRequest, reply: FastifyReply) =>
  sendProblem(request, reply.header('x-request-id', request.id), toRequestError(err, 0));

const clientErrorCodes: Record<string, ErrorCode> = {
  HPE_HEADER_OVERFLOW: 'request.headers_too_large',
  ERR_HTTP_REQUEST_TIMEOUT: 'request.timeout',
};

/**
 * HTTP that never becomes a request (a bad request line or header, headers over
 * Node's limit, a request that did not arrive in time) is answered on the raw
 * socket, as problem+json like every other error. Passed to Fastify as
 * `clientErrorHandler`; the request id is made here, since there is no request.
 */
export function clientErrorHandler(err: Error & { code?: string }, socket: Duplex) {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const error = new RequestError(clientErrorCodes[err.code ?? ''] ?? 'request.malformed_http');
  const body = JSON.stringify(toProblem(error, randomUUID()));
  if (socket.writable) {
    socket.write(`HTTP/1.1 ${error.status} ${STATUS_CODES[error.status]}\r\nContent-Type: application/problem+json; charset=utf-8\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
  }
  socket.destroy(err);
}

import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { type ErrorCode, RequestError, toProblem } from '../errors.ts';
import { isDbUnavailable } from '../db/db.ts';

const fastifyCodes: Record<string, ErrorCode> = {
  FST_ERR_CTP_INVALID_JSON_BODY: 'request.invalid_json',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'request.invalid_json',
  FST_ERR_CTP_BODY_TOO_LARGE: 'request.body_too_large',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'request.validation_failed',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'request.unsupported_media_type',
};

function validationError(err: FastifyError): RequestError {
  const problems = (err.validation ?? []).map((v) => {
    const extra = (v.params as { additionalProperty?: string }).additionalProperty;
    const where = `${err.validationContext ?? 'body'}${v.instancePath || ''}`;
    return { path: where, code: v.keyword, detail: extra ? `unknown property '${extra}'` : `${where} ${v.message ?? 'is not valid'}` };
  });
  return new RequestError('request.validation_failed', problems.map((p) => p.detail).join('; '), { problems });
}

/** Maps every error to problem+json. Unknown errors become a 500 whose detail reveals nothing. */
export function toRequestError(err: FastifyError | Error, retryAfterSeconds: number): RequestError {
  if (err instanceof RequestError) return err;
  const fe = err as FastifyError;
  if (fe.validation) return validationError(fe);
  if (fe.code && fastifyCodes[fe.code]) return new RequestError(fastifyCodes[fe.code]);
  if (isDbUnavailable(err)) return new RequestError('service.unavailable', undefined, { retryAfterSeconds });
  if (err instanceof SyntaxError && (fe.statusCode === 400)) return new RequestError('request.invalid_json');
  return new RequestError('internal.error');
}

export function sendProblem(request: FastifyRequest, reply: FastifyReply, error: RequestError) {
  if (error.extras.retryAfterSeconds) reply.header('retry-after', String(error.extras.retryAfterSeconds));
  return reply.code(error.status).type('application/problem+json').send(toProblem(error, request.id));
}

export function registerProblemHandlers(app: FastifyInstance, { retryAfterSeconds }: { retryAfterSeconds: number }): void {
  app.setErrorHandler((err: FastifyError, request, reply) => {
    const error = toRequestError(err, retryAfterSeconds);
    if (error.status >= 500) request.log.error({ err }, 'request failed');
    return sendProblem(request, reply, error);
  });
  app.setNotFoundHandler((request, reply) =>
    sendProblem(request, reply, new RequestError('route.not_found', `No route for ${request.method} ${request.url.split('?')[0]}`)),
  );
}

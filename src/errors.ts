// One catalogue of every error Tresor answers with. A code is a stable, dotted
// identifier that clients may switch on; the title is fixed per code and the
// detail explains the instance. Neither ever carries a personal field value.
export const errorCatalogue = {
  'request.invalid_json': { status: 400, title: 'The request body is not valid JSON' },
  'request.validation_failed': { status: 400, title: 'The request does not match the schema' },
  'request.body_too_large': { status: 413, title: 'The request body is too large' },
  'request.unsupported_media_type': { status: 415, title: 'Unsupported content type' },
  'request.invalid_cursor': { status: 400, title: 'The pagination cursor is not valid' },
  'request.invalid_if_match': { status: 400, title: 'If-Match must be a record version number' },
  'route.not_found': { status: 404, title: 'No such route' },
  'auth.missing_credentials': { status: 401, title: 'An API key is required' },
  'auth.invalid_credentials': { status: 401, title: 'The API key is not valid' },
  'auth.forbidden': { status: 403, title: 'This role may not do that' },
  'tenant.not_found': { status: 404, title: 'No such tenant' },
  'tenant.not_active': { status: 409, title: 'The tenant is not active' },
  'api_key.not_found': { status: 404, title: 'No such API key' },
  'api_key.invalid_role': { status: 422, title: 'That role cannot be given to this key' },
  'api_key.last_operator': { status: 409, title: 'The last active operator key cannot be revoked' },
  'collection.not_found': { status: 404, title: 'No such collection' },
  'collection.already_exists': { status: 409, title: 'A collection with this name exists' },
  'collection.invalid_definition': { status: 422, title: 'The collection definition is not valid' },
  'record.not_found': { status: 404, title: 'No such record' },
  'record.validation_failed': { status: 422, title: 'The record data is not valid' },
  'record.unique_violation': { status: 409, title: 'A unique field value is already taken' },
  'record.version_mismatch': { status: 412, title: 'The record was changed since that version' },
  'record.search_invalid': { status: 422, title: 'The search is not valid' },
  'keys.rotation_in_progress': { status: 409, title: 'A key rotation is already running for this tenant' },
  'service.unavailable': { status: 503, title: 'The database is unavailable, retry later' },
  'internal.error': { status: 500, title: 'Internal error' },
} as const satisfies Record<string, { status: number; title: string }>;

export type ErrorCode = keyof typeof errorCatalogue;

export interface ProblemExtras {
  /** Machine-readable details (field names and rule codes, never values). */
  problems?: Array<{ path?: string; field?: string; code: string; detail: string }>;
  retryAfterSeconds?: number;
}

export class RequestError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly title: string;
  readonly extras: ProblemExtras;

  constructor(code: ErrorCode, detail?: string, extras: ProblemExtras = {}) {
    const entry = errorCatalogue[code];
    super(detail ?? entry.title);
    this.code = code;
    this.status = entry.status;
    this.title = entry.title;
    this.extras = extras;
  }
}

export function assertThat(condition: unknown, error: RequestError | (() => RequestError)): asserts condition {
  if (!condition) throw typeof error === 'function' ? error() : error;
}

export interface Problem {
  type: string;
  title: string;
  status: number;
  code: ErrorCode;
  detail: string;
  requestId: string;
  problems?: ProblemExtras['problems'];
}

export function toProblem(error: RequestError, requestId: string): Problem {
  const problem: Problem = {
    type: `https://tresor.dev/problems/${error.code}`,
    title: error.title,
    status: error.status,
    code: error.code,
    detail: error.message,
    requestId,
  };
  if (error.extras.problems) problem.problems = error.extras.problems;
  return problem;
}

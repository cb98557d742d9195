import { createTresorClient, type ImportResult, type KeyStatus, type components } from '../client/index.ts';

type IncidentInput = components['schemas']['IncidentInput'];
type IncidentEventInput = components['schemas']['IncidentEventInput'];
type IncidentDecisionInput = components['schemas']['IncidentDecisionInput'];
import { CliError } from './output.ts';

// The CLI's only HTTP code: the commands call the server through the typed
// client generated from the OpenAPI document (src/client/); this file adds what
// a command line needs on top: where the server is, a network failure that
// names the URL and its cause, and a problem answer thrown whole.

export type { ImportResult, KeyStatus };

export interface Remote { url: string; token: string }

export interface Problem { type?: string; title?: string; status: number; detail?: string; code?: string; [k: string]: unknown }

/** A problem+json answer of the server, kept whole so `--json` can print it as received. */
export class ApiProblem extends Error {
  constructor(readonly problem: Problem) {
    super(`${problem.status} ${problem.code ?? ''}: ${problem.detail ?? problem.title ?? ''}`);
  }
}

/** Flags win over the environment; a missing or malformed URL is refused before any request. */
export function resolveRemote(flags: { url?: string; token?: string }, env: NodeJS.ProcessEnv = process.env): Remote {
  const url = flags.url ?? env.TRESOR_URL;
  const token = flags.token ?? env.TRESOR_TOKEN;
  if (!url || !token) {
    throw new CliError('config.invalid', 'set TRESOR_URL and TRESOR_TOKEN (an API key), or pass --url and --token, to reach the running server');
  }
  if (!URL.canParse(url) || !/^https?:$/.test(new URL(url).protocol)) {
    throw new CliError('config.invalid', `TRESOR_URL (or --url) must be an http(s) URL, got ${JSON.stringify(url)}`);
  }
  return { url: url.replace(/\/+$/, ''), token };
}

// fetch reports every network failure as "fetch failed"; the reason is in its cause chain.
const plainCauses: Record<string, string> = {
  ECONNREFUSED: 'connection refused (is the server running?)',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'name lookup failed (temporary)',
  ETIMEDOUT: 'timed out',
  UND_ERR_CONNECT_TIMEOUT: 'connect timed out',
  UND_ERR_HEADERS_TIMEOUT: 'timed out waiting for the answer',
  ECONNRESET: 'connection reset',
  UND_ERR_SOCKET: 'connection closed by the server',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
};

function networkCause(err: unknown): string {
  const cause = ((err as { cause?: unknown }).cause ?? err) as Error & { code?: string; errors?: (Error & { code?: string })[] };
  // Happy-eyeballs connects fail as an AggregateError of one error per address.
  const first = cause.errors?.[0];
  const code = cause.code ?? first?.code;
  const message = first?.message ?? cause.message ?? String(cause);
  if (!code) return message;
  return `${code}, ${plainCauses[code] ?? message}`;
}

function problemOf(error: unknown, res: Response): Problem {
  if (error && typeof error === 'object') return { ...error, status: (error as Problem).status ?? res.status };
  // Not JSON: a proxy's error page, say.
  return { status: res.status, title: res.statusText || 'HTTP error', detail: `the server answered ${res.status} without a problem document` };
}

type Answer<T> = { data?: T; error?: unknown; response: Response };

export function createApiClient({ url, token }: Remote) {
  const tresor = createTresorClient({ baseUrl: url, token });
  async function call<T>(request: () => Promise<Answer<T>>): Promise<T> {
    let answer: Answer<T>;
    try {
      answer = await request();
    } catch (err) {
      throw new CliError('cli.unreachable', `cannot reach ${url}: ${networkCause(err)}`, { url });
    }
    if (!answer.response.ok) throw new ApiProblem(problemOf(answer.error, answer.response));
    return answer.data as T;
  }
  const inTenant = (tenantId: string) => ({ params: { path: { tenantId } } });
  const inIncident = (incidentId: string) => ({ params: { path: { incidentId } } });

  return {
    /** Streams NDJSON to the import route; the server answers once, after the last line. */
    importRecords: (tenantId: string, name: string, body: ReadableStream, size: number) =>
      call(() => tresor.POST('/v1/tenants/{tenantId}/collections/{name}/records/import', {
        params: { path: { tenantId, name } },
        // The typed body is the NDJSON text; a stream of it is sent as is.
        body: body as unknown as string,
        bodySerializer: (stream: string) => stream,
        duplex: 'half',
        headers: { 'content-type': 'application/x-ndjson', 'content-length': String(size) },
      })),
    /** The export stream (NDJSON bytes), after a 200; a problem answer is thrown. */
    exportTenant: (tenantId: string) =>
      call(() => tresor.POST('/v1/tenants/{tenantId}/export', { ...inTenant(tenantId), parseAs: 'stream' })) as Promise<ReadableStream<Uint8Array>>,
    exportTenantTo: (tenantId: string, body: { destination: string; recipientKey: string }) =>
      call(() => tresor.POST('/v1/tenants/{tenantId}/export', { ...inTenant(tenantId), body })) as unknown as Promise<{ destination: string; bytes: number; records: number; collections: number; status: number }>,
    rotateKeys: (tenantId: string) => call(() => tresor.POST('/v1/tenants/{tenantId}/keys/rotate', inTenant(tenantId))),
    keyStatus: (tenantId: string) => call(() => tresor.GET('/v1/tenants/{tenantId}/keys', inTenant(tenantId))),
    auditTreeHead: () => call(() => tresor.GET('/v1/audit/tree-head', {})),
    auditExport: (query: { from?: string; cursor?: string; limit: number }) => call(() => tresor.GET('/v1/audit/export', { params: { query } })),
    inviteUser: (tenantId: string, body: { email: string; role: 'owner' | 'admin' | 'editor' | 'viewer' | 'auditor' }) =>
      call(() => tresor.POST('/v1/tenants/{tenantId}/users', { ...inTenant(tenantId), body })),
    resetUserMfa: (tenantId: string, userId: string) =>
      call(() => tresor.POST('/v1/tenants/{tenantId}/users/{userId}/mfa-reset', { params: { path: { tenantId, userId } } })),
    createBackup: () => call(() => tresor.POST('/v1/backups', {})),
    backupStatus: (backupId: string) => call(() => tresor.GET('/v1/backups/{backupId}/status', { params: { path: { backupId } } })),
    listBackups: () => call(() => tresor.GET('/v1/backups', {})),
    verifyBackup: (backupId?: string) => call(() => tresor.POST('/v1/backups/verifications', { body: backupId ? { backupId } : {} })),
    verificationStatus: (verificationId: string) =>
      call(() => tresor.GET('/v1/backups/verifications/{verificationId}/status', { params: { path: { verificationId } } })),
    openIncident: (body: IncidentInput) => call(() => tresor.POST('/v1/incidents', { body })),
    listIncidents: (query: { status?: 'open' | 'closed'; limit?: number; cursor?: string }) => call(() => tresor.GET('/v1/incidents', { params: { query } })),
    getIncident: (incidentId: string) => call(() => tresor.GET('/v1/incidents/{incidentId}', inIncident(incidentId))),
    addIncidentEvent: (incidentId: string, body: { kind: IncidentEventInput['kind']; note: string }) =>
      call(() => tresor.POST('/v1/incidents/{incidentId}/events', { ...inIncident(incidentId), body })),
    decideIncident: (incidentId: string, body: IncidentDecisionInput) => call(() => tresor.POST('/v1/incidents/{incidentId}/decision', { ...inIncident(incidentId), body })),
    closeIncident: (incidentId: string, lessonsLearned: string) =>
      call(() => tresor.POST('/v1/incidents/{incidentId}/close', { ...inIncident(incidentId), body: { lessonsLearned } })),
    exportIncident: (incidentId: string) => call(() => tresor.GET('/v1/incidents/{incidentId}/export', inIncident(incidentId))),
  };
}

export type ApiClient = ReturnType<typeof createApiClient>;

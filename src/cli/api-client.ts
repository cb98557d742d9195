import { CliError } from './output.ts';

// The CLI's only HTTP code: every call to a running server goes through
// createApiClient, so a client generated from the OpenAPI document can replace
// this file without touching the commands.

export interface Remote { url: string; token: string }

export interface Problem { type?: string; title?: string; status: number; detail?: string; code?: string; [k: string]: unknown }
export interface ImportResult { imported: number; rejectedCount: number; rejected: { line: number; code: string; field?: string }[] }
export interface KeyStatus {
  activeVersion: number;
  rotating: boolean;
  versions: { version: number; status: string; createdAt: string; records: number }[];
  unreadable: { id: string; collection: string }[];
}

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

async function problemOf(res: Response): Promise<Problem> {
  const text = await res.text();
  try {
    const body = JSON.parse(text);
    if (body && typeof body === 'object') return { ...body, status: body.status ?? res.status };
  } catch { /* not JSON: a proxy's error page, say */ }
  return { status: res.status, title: res.statusText || 'HTTP error', detail: `the server answered ${res.status} without a problem document` };
}

export function createApiClient({ url, token }: Remote) {
  async function call<T>(path: string, init: RequestInit & { duplex?: 'half' } = {}): Promise<T> {
    let res: Response;
    try {
      res = await fetch(`${url}${path}`, { ...init, headers: { authorization: `Bearer ${token}`, ...(init.headers ?? {}) } });
    } catch (err) {
      throw new CliError('cli.unreachable', `cannot reach ${url}: ${networkCause(err)}`, { url });
    }
    if (!res.ok) throw new ApiProblem(await problemOf(res));
    return (res.status === 204 ? null : await res.json()) as T;
  }
  const tenant = (id: string) => `/v1/tenants/${encodeURIComponent(id)}`;

  return {
    /** Streams NDJSON to the import route; the server answers once, after the last line. */
    importRecords: (tenantId: string, collection: string, body: ReadableStream, size: number) =>
      call<ImportResult>(`${tenant(tenantId)}/collections/${encodeURIComponent(collection)}/records/import`, {
        method: 'POST', body, duplex: 'half',
        headers: { 'content-type': 'application/x-ndjson', 'content-length': String(size) },
      }),
    rotateKeys: (tenantId: string) => call<KeyStatus>(`${tenant(tenantId)}/keys/rotate`, { method: 'POST' }),
    keyStatus: (tenantId: string) => call<KeyStatus>(`${tenant(tenantId)}/keys`),
  };
}

export type ApiClient = ReturnType<typeof createApiClient>;

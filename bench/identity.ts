// Identity costs: one login (its argon2id verification dominates) and a record
// read authenticated by a session cookie against the same read by API key, on
// one running server (embedded store), in the same run.
import { startTresor, tresorDirs } from './tresor-process.ts';
import { type Figures, closedLoop, fmt } from './measure.ts';
import { totp } from '../src/crypto/totp.ts';
import { verifyPassword, hashPassword } from '../src/crypto/passwords.ts';

export interface IdentityBenchResult { argon2: Figures; login: Figures; apiKeyRead: Figures; sessionRead: Figures }

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
function secretOf(uri: string): Buffer {
  let bits = 0; let value = 0; const out: number[] = [];
  for (const ch of new URL(uri).searchParams.get('secret')!) {
    value = (value << 5) | BASE32.indexOf(ch); bits += 5;
    if (bits >= 8) { out.push((value >>> (bits - 8)) & 0xff); bits -= 8; }
  }
  return Buffer.from(out);
}

export async function identityBench(seconds: number): Promise<IdentityBenchResult> {
  const password = 'violet harbour lantern 42';
  const stored = await hashPassword(password, { memoryKiB: 19_456, iterations: 2, parallelism: 1 });
  const argon2 = await closedLoop(1, seconds, () => verifyPassword(stored, password));

  const dirs = tresorDirs('tresor-bench-identity-');
  const server = await startTresor({ env: dirs.env, expectToken: true });
  try {
    const call = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
      const res = await fetch(`${server.url}${path}`, { method, headers: { ...(body ? { 'content-type': 'application/json' } : {}), ...headers }, body: body ? JSON.stringify(body) : undefined });
      if (res.status >= 400) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
      return { json: res.status === 204 ? null : await res.json(), cookie: res.headers.get('set-cookie') };
    };
    const op = { authorization: `Bearer ${server.token}` };
    const tenantId = (await call('POST', '/v1/tenants', { name: 'Bench' }, op)).json.id;
    const key = (await call('POST', `/v1/tenants/${tenantId}/api-keys`, { name: 'bench', role: 'admin' }, op)).json.key;
    const bearer = { authorization: `Bearer ${key}` };
    await call('POST', `/v1/tenants/${tenantId}/collections`, { name: 'people', fields: [{ name: 'email', type: 'email' }, { name: 'name', type: 'string' }] }, bearer);
    const id = (await call('POST', `/v1/tenants/${tenantId}/collections/people/records`, { data: { email: 'a@example.com', name: 'A' } }, bearer)).json.id;
    const token = (await call('POST', `/v1/tenants/${tenantId}/users`, { email: 'owner@example.com', role: 'owner' }, op)).json.invitation.token;
    const { enrollmentToken } = (await call('POST', '/v1/auth/invitations/accept', { token, password })).json;
    const secret = secretOf((await call('POST', '/v1/auth/mfa/enroll', { enrollmentToken })).json.otpauthUri);
    const confirmed = await call('POST', '/v1/auth/mfa/enroll/confirm', { enrollmentToken, code: totp(secret, new Date()) });
    const cookie = { cookie: confirmed.cookie!.split(';')[0] };
    const record = `/v1/tenants/${tenantId}/collections/people/records/${id}`;

    const login = await closedLoop(1, seconds, () => call('POST', '/v1/auth/login', { tenantId, email: 'owner@example.com', password }));
    await closedLoop(1, 1, () => call('GET', record, undefined, bearer));
    await closedLoop(1, 1, () => call('GET', record, undefined, cookie));
    const apiKeyRead = await closedLoop(1, seconds, () => call('GET', record, undefined, bearer));
    const sessionRead = await closedLoop(1, seconds, () => call('GET', record, undefined, cookie));
    return { argon2, login, apiKeyRead, sessionRead };
  } finally {
    await server.stop();
    dirs.remove();
  }
}

export function renderIdentityBench(r: IdentityBenchResult): string {
  const row = (name: string, f: Figures) => `| ${name} | ${fmt(f.rps)} | ${fmt(f.p50, 2)} | ${fmt(f.p99, 2)} |`;
  return ['', '## Identity (embedded store, one connection)', '',
    '| operation | ops/s | p50 ms | p99 ms |', '|---|---:|---:|---:|',
    row('argon2id verify (m=19 MiB, t=2, p=1), in process', r.argon2),
    row('POST /v1/auth/login (password step)', r.login),
    row('GET record, API key', r.apiKeyRead),
    row('GET record, session cookie', r.sessionRead),
    '', `Session read costs ${fmt(r.sessionRead.p50 - r.apiKeyRead.p50, 3)} ms p50 more than an API-key read (target < 1 ms).`, ''].join('\n');
}

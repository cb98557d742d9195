// What a tenant's integration does, through Tresor's typed client (tresor/client).
import { createTresorClient, type ImportResult, type KeyStatus, type TresorClient } from '../src/client/index.ts';

export type { KeyStatus };

export interface Tenant {
  url: string;
  tenantId: string;
  /** The tenant admin key. */
  key: string;
  /** Records path of the seeded collection (autocannon requests it directly). */
  records: string;
}

/** The answer's data, or an error naming the call, the status and the problem. */
async function must<T>(what: string, expected: number, answer: Promise<{ data?: T; error?: unknown; response: Response }>): Promise<T> {
  const { data, error, response } = await answer;
  if (response.status !== expected) throw new Error(`${what} → ${response.status}: ${JSON.stringify(error).slice(0, 500)}`);
  return data as T;
}

/** The bench's collection: every field personal (encrypted), e-mail unique (blind index). */
export const peopleCollection = {
  name: 'people',
  fields: [
    { name: 'email', type: 'email', unique: true, required: true },
    { name: 'name', type: 'string', required: true, maxLength: 200 },
    { name: 'phone', type: 'phone' },
    { name: 'address', type: 'json' },
    { name: 'birthdate', type: 'date', classification: 'special' },
  ],
} as const;
export const PERSONAL_FIELDS = peopleCollection.fields.length;

const client = (t: Tenant): TresorClient => createTresorClient({ baseUrl: t.url, token: t.key });
const inTenant = (t: Tenant) => ({ params: { path: { tenantId: t.tenantId } } });

/** Tenant, admin key and the people collection, through the operator API. */
export async function seedTenant(url: string, operatorToken: string, name = 'Bench GmbH'): Promise<Tenant> {
  const operator = createTresorClient({ baseUrl: url, token: operatorToken });
  const { id: tenantId } = await must('create tenant', 201, operator.POST('/v1/tenants', { body: { name } }));
  const { key } = await must('create api key', 201, operator.POST('/v1/tenants/{tenantId}/api-keys', {
    params: { path: { tenantId } }, body: { name: 'bench admin', role: 'admin' } }));
  const t = { url, tenantId, key, records: `/v1/tenants/${tenantId}/collections/${peopleCollection.name}/records` };
  await must('create collection', 201, client(t).POST('/v1/tenants/{tenantId}/collections', {
    params: { path: { tenantId } }, body: { name: peopleCollection.name, fields: [...peopleCollection.fields] } }));
  return t;
}

export async function importNdjson(t: Tenant, body: Buffer): Promise<ImportResult> {
  return must('import', 200, client(t).POST('/v1/tenants/{tenantId}/collections/{name}/records/import', {
    params: { path: { tenantId: t.tenantId, name: peopleCollection.name } },
    // The typed body is the NDJSON text; the bytes are sent as they are.
    body: body as unknown as string,
    bodySerializer: (bytes: string) => bytes,
    headers: { 'content-type': 'application/x-ndjson' },
  }));
}

export const keyStatus = (t: Tenant) => must('key status', 200, client(t).GET('/v1/tenants/{tenantId}/keys', inTenant(t)));
export const rotateKeys = (t: Tenant) => must('rotate keys', 202, client(t).POST('/v1/tenants/{tenantId}/keys/rotate', inTenant(t)));

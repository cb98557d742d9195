// A thin client over Tresor's public HTTP API: what a tenant's integration does.

export interface Tenant {
  url: string;
  tenantId: string;
  /** The tenant admin key. */
  key: string;
  /** Records path of the seeded collection. */
  records: string;
}

export interface KeyStatus { activeVersion: number; rotating: boolean; versions: Array<{ version: number; status: string; records: number }> }

export async function call<T = any>(url: string, token: string, method: string, path: string, body?: unknown, expect?: number): Promise<T> {
  const res = await fetch(`${url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (expect !== undefined ? res.status !== expect : res.status >= 300) {
    throw new Error(`${method} ${path} → ${res.status}: ${text.slice(0, 500)}`);
  }
  return (text ? JSON.parse(text) : undefined) as T;
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
};
export const PERSONAL_FIELDS = peopleCollection.fields.length;

/** Tenant, admin key and the people collection, through the operator API. */
export async function seedTenant(url: string, operatorToken: string, name = 'Bench GmbH'): Promise<Tenant> {
  const { id: tenantId } = await call(url, operatorToken, 'POST', '/v1/tenants', { name }, 201);
  const { key } = await call(url, operatorToken, 'POST', `/v1/tenants/${tenantId}/api-keys`, { name: 'bench admin', role: 'admin' }, 201);
  await call(url, key, 'POST', `/v1/tenants/${tenantId}/collections`, peopleCollection, 201);
  return { url, tenantId, key, records: `/v1/tenants/${tenantId}/collections/${peopleCollection.name}/records` };
}

export async function importNdjson(t: Tenant, body: Buffer): Promise<{ imported: number; rejectedCount: number }> {
  const res = await fetch(`${t.url}${t.records}/import`, {
    method: 'POST',
    headers: { authorization: `Bearer ${t.key}`, 'content-type': 'application/x-ndjson' },
    body: new Uint8Array(body.buffer as ArrayBuffer, body.byteOffset, body.byteLength),
  });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`import → ${res.status}: ${text.slice(0, 500)}`);
  return JSON.parse(text);
}

export const keyStatus = (t: Tenant) => call<KeyStatus>(t.url, t.key, 'GET', `/v1/tenants/${t.tenantId}/keys`);
export const rotateKeys = (t: Tenant) => call<KeyStatus>(t.url, t.key, 'POST', `/v1/tenants/${t.tenantId}/keys/rotate`, undefined, 202);

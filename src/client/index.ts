// Tresor's typed HTTP client: openapi-fetch over the types openapi-typescript
// generates from the served OpenAPI document (schema.ts, openapi.json; both
// rewritten by `npm run client:generate`, checked by test/client/generated.test.ts).
//
//   import { createTresorClient } from 'tresor/client';
//   const tresor = createTresorClient({ baseUrl: 'http://127.0.0.1:8080', token });
//   const { data, error } = await tresor.GET('/v1/tenants/{tenantId}/keys', { params: { path: { tenantId } } });
//
// Answers come back as { data } or { error, response }: the error is the server's
// problem+json object. Only a network failure throws (fetch's TypeError).
import createClient, { type Client, type ClientOptions } from 'openapi-fetch';
import type { components, operations, paths } from './schema.ts';

export type { components, operations, paths };

type Schemas = components['schemas'];
export type Problem = Schemas['Problem'];
export type Tenant = Schemas['Tenant'];
export type ApiKey = Schemas['ApiKey'];
export type NewApiKey = Schemas['NewApiKey'];
export type Collection = Schemas['Collection'];
export type FieldDefinition = Schemas['FieldDefinition'];
export type TresorRecord = Schemas['Record'];
export type RecordPage = Schemas['RecordPage'];
export type KeyStatus = Schemas['KeyStatus'];
export type Backup = Schemas['Backup'];
export type User = Schemas['User'];
export type NewUser = Schemas['NewUser'];
export type BackupVerification = Schemas['BackupVerification'];
export type ImportResult = operations['importRecords']['responses'][200]['content']['application/json'];

export type TresorClient = Client<paths>;

export interface TresorClientOptions extends Omit<ClientOptions, 'baseUrl' | 'headers'> {
  /** The server's base URL, e.g. http://127.0.0.1:8080 (no /v1). */
  baseUrl: string;
  /** An API key (tenant or operator); sent as a bearer token on every request. */
  token?: string;
  headers?: Record<string, string>;
}

export function createTresorClient({ baseUrl, token, headers = {}, ...options }: TresorClientOptions): TresorClient {
  return createClient<paths>({
    ...options,
    baseUrl,
    headers: { ...headers, ...(token ? { authorization: `Bearer ${token}` } : {}) },
  });
}

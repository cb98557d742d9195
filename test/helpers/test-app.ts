import type { FastifyBaseLogger, LightMyRequestResponse } from 'fastify';
import { buildApp } from '../../src/app.ts';
import { createServices, type Services } from '../../src/services.ts';
import type { App } from '../../src/http/app-types.ts';
import type { FieldDef } from '../../src/collections/collection-definition.ts';
import { type BackendName, type TestStore, openRootKey, openTestStore } from './backends.ts';

export interface TestApp {
  app: App;
  services: Services;
  store: TestStore;
  operatorKey: string;
  /** app.inject with a bearer token and JSON body. */
  call(method: string, url: string, opts?: { token?: string; body?: unknown; headers?: Record<string, string> }): Promise<LightMyRequestResponse>;
  close(): Promise<void>;
}

/**
 * Another node of the same deployment: its own services and app on the test
 * app's store and configuration (close it before the test app).
 */
export async function anotherNode(t: TestApp, opts: { now?: () => Date; logger?: FastifyBaseLogger } = {}) {
  const { config, db } = t.store;
  const services = createServices(config, { db, keyProvider: await openRootKey(config, db), now: opts.now });
  return { services, app: await buildApp(config, services, { logger: opts.logger }) };
}

/** A real app (real DB, real crypto) driven through app.inject. */
export async function startTestApp(backend: BackendName, opts: { env?: Record<string, string>; onDisk?: boolean; now?: () => Date } = {}): Promise<TestApp> {
  const store = await openTestStore(backend, opts);
  const keyProvider = await openRootKey(store.config, store.db);
  const services = createServices(store.config, { db: store.db, keyProvider, now: opts.now });
  const app = await buildApp(store.config, services);
  const { key: operatorKey } = await services.apiKeys.createOperatorKey('test operator');
  return {
    app, services, store, operatorKey,
    call: (method, url, { token = operatorKey, body, headers = {} } = {}) =>
      app.inject({
        method: method as 'GET', url,
        headers: { authorization: `Bearer ${token}`, ...(body !== undefined && typeof body !== 'string' ? { 'content-type': 'application/json' } : {}), ...headers },
        payload: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
      }),
    close: async () => {
      await services.rotation.idle();
      await app.close();
      await store.close();
    },
  };
}

/** Arranges a tenant with an admin key and a `customers` collection through the public API. */
export async function seedTenant(t: TestApp, name = 'Acme', role: 'admin' | 'editor' | 'viewer' = 'admin') {
  const tenant = (await t.call('POST', '/v1/tenants', { body: { name } })).json();
  const key = (await t.call('POST', `/v1/tenants/${tenant.id}/api-keys`, { body: { name: `${role} key`, role } })).json().key as string;
  const adminKey = role === 'admin' ? key : (await t.call('POST', `/v1/tenants/${tenant.id}/api-keys`, { body: { name: 'admin', role: 'admin' } })).json().key;
  const res = await t.call('POST', `/v1/tenants/${tenant.id}/collections`, { token: adminKey, body: customersCollection });
  if (res.statusCode !== 201) throw new Error(`seed collection failed: ${res.body}`);
  return { tenantId: tenant.id as string, key, adminKey: adminKey as string, base: `/v1/tenants/${tenant.id}/collections/customers/records` };
}

/** A field as a client defines it: name and type, the options optional. */
export type FieldInput = Pick<FieldDef, 'name' | 'type'> & Partial<Omit<FieldDef, 'name' | 'type'>>;

export const customersCollection: { name: string; fields: FieldInput[] } = {
  name: 'customers',
  fields: [
    { name: 'email', type: 'email', unique: true },
    { name: 'name', type: 'string', required: true, maxLength: 100 },
    { name: 'phone', type: 'phone', searchable: true },
    { name: 'birthdate', type: 'date', classification: 'special' },
    { name: 'address', type: 'json' },
    { name: 'tier', type: 'string', classification: 'none' },
  ],
};

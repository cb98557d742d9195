// Cost of the instruction check on the record path: record creates through
// app.inject on one app and store (PGlite), alternating rounds between a
// tenant without instruction (the check finds none cached and lets it pass,
// TRESOR_REQUIRE_INSTRUCTION=off) and a tenant with a confirmed instruction
// (cached: purpose coverage computed per create), plus the check alone.
// Run: node --import tsx bench/instruction-gate.ts (BENCH_ROUNDS, BENCH_PER_ROUND).
import { performance } from 'node:perf_hooks';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../src/config.ts';
import { openPglite } from '../src/db/pglite-driver.ts';
import { migrate } from '../src/db/migrate.ts';
import { openRootKey } from '../src/keys/root-key.ts';
import { createServices } from '../src/services.ts';
import { buildApp } from '../src/app.ts';
import { systemActor } from '../src/access/permissions.ts';

const rounds = Number(process.env.BENCH_ROUNDS || 10);
const perRound = Number(process.env.BENCH_PER_ROUND || 100);

const dir = mkdtempSync(join(tmpdir(), 'tresor-bench-gate-'));
const config = loadConfig({ TRESOR_DATA_DIR: join(dir, 'data'), TRESOR_KEY_FILE: join(dir, 'root.key'), LOG_LEVEL: 'silent', TRESOR_REQUIRE_INSTRUCTION: 'off' });
const db = await openPglite(undefined);
await migrate(db);
const services = createServices(config, { db, keyProvider: await openRootKey(config, db) });
const app = await buildApp(config, services);
const { key: op } = await services.apiKeys.createOperatorKey('bench');
const call = async (method: string, url: string, token: string, body?: unknown) => {
  const res = await app.inject({ method: method as 'POST', url, headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    payload: body ? JSON.stringify(body) : undefined });
  if (res.statusCode >= 300) throw new Error(`${method} ${url}: ${res.statusCode} ${res.body}`);
  return res.json();
};
async function tenant(name: string, instructed: boolean) {
  const id = (await call('POST', '/v1/tenants', op, { name })).id;
  const key = (await call('POST', `/v1/tenants/${id}/api-keys`, op, { name: 'a', role: 'admin' })).key;
  await call('POST', `/v1/tenants/${id}/collections`, key, { name: 'people', purposes: ['billing'], fields: [{ name: 'email', type: 'email', unique: true }, { name: 'name', type: 'string' }] });
  if (instructed) {
    await call('POST', `/v1/tenants/${id}/instructions`, key, { purposes: [{ id: 'billing', description: 'b' }], dataCategories: [], retention: '1y', recipients: [], transfers: [] });
    await call('POST', `/v1/tenants/${id}/instructions/1/confirm`, op);
  }
  return { id, key, n: 0 };
}
const plain = await tenant('plain', false);
const instructed = await tenant('instructed', true);
const times: Record<string, number[]> = { plain: [], instructed: [] };
for (let r = 0; r < rounds; r++) {
  for (const [label, t] of (r % 2 ? [['instructed', instructed], ['plain', plain]] : [['plain', plain], ['instructed', instructed]]) as [string, typeof plain][]) {
    for (let i = 0; i < perRound; i++) {
      const start = performance.now();
      await call('POST', `/v1/tenants/${t.id}/collections/people/records`, t.key, { data: { email: `p${t.n++}@example.com`, name: 'x' } });
      times[label].push(performance.now() - start);
    }
  }
}
const q = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.floor(p * (xs.length - 1))];
for (const [label, xs] of Object.entries(times)) console.log(`${label}: n=${xs.length} p50=${q(xs, 0.5).toFixed(2)} ms p99=${q(xs, 0.99).toFixed(2)} ms`);
console.log(`p50 ratio instructed/plain: ${(q(times.instructed, 0.5) / q(times.plain, 0.5)).toFixed(3)}`);

// The check alone, cache warm, inside one tenant transaction.
const c = { name: 'people', purposes: ['billing'] };
const actor = systemActor('bench');
const n = 200_000;
await db.withTenant(instructed.id, async (tx) => {
  await services.instructionGate.check(tx, actor, c, 'write');
  const start = performance.now();
  for (let i = 0; i < n; i++) await services.instructionGate.check(tx, actor, c, 'write');
  console.log(`check alone (cached): ${(((performance.now() - start) / n) * 1000).toFixed(2)} µs per call`);
});
await app.close();
await db.close();
rmSync(dir, { recursive: true, force: true });

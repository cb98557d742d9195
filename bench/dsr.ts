import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../src/config.ts';
import { openPostgres } from '../src/db/postgres-driver.ts';
import { migrate } from '../src/db/migrate.ts';
import { openRootKey } from '../src/keys/root-key.ts';
import { createServices } from '../src/services.ts';
import { buildApp } from '../src/app.ts';
import { closedLoop, type Figures, fmt } from './measure.ts';
import { createDatabase } from './tresor-process.ts';

// A data-subject lookup (POST …/subjects/find) across 5 collections of
// BENCH_DSR_RECORDS records each, against two baselines measured in the same
// run on the same store: a record search in one collection (POST
// …/records/search, the same subject) and the raw blind-index probe of one
// collection in SQL. In-process (app.inject): no network on either side.
// The filler records' index rows carry random 32-byte hashes (as real blind
// indexes look) and an opaque sealed column; the subject's own records are
// made through the API, so its hashes are real. On PostgreSQL.

const log = (msg: string) => process.stderr.write(`${msg}\n`);
const COLLECTIONS = 5;

export interface DsrBenchResult { perCollection: number; dsr: Figures; search: Figures; raw: Figures; found: number }

export async function dsrBench(baseUrl: string, perCollection: number, seconds: number): Promise<DsrBenchResult> {
  const dir = mkdtempSync(join(tmpdir(), 'tresor-bench-dsr-'));
  const database = await createDatabase(baseUrl);
  const config = loadConfig({ DATABASE_URL: database.url, TRESOR_KEY_FILE: join(dir, 'keys', 'root.key'), TRESOR_DATA_DIR: join(dir, 'data'),
    TRESOR_BACKUP_DIR: join(dir, 'backups'), TRESOR_REQUIRE_INSTRUCTION: 'off', LOG_LEVEL: 'silent' });
  const db = openPostgres({ url: database.url, poolMax: 4, connectTimeoutMs: 10_000, statementTimeoutMs: 600_000 });
  try {
    await migrate(db);
    const services = createServices(config, { db, keyProvider: await openRootKey(config, db) });
    const app = await buildApp(config, services);
    try {
      const operator = (await services.apiKeys.createOperatorKey('bench')).key;
      const call = async (method: 'POST', url: string, body: unknown, token: string, status = 200) => {
        const res = await app.inject({ method, url, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, payload: JSON.stringify(body) });
        if (res.statusCode !== status) throw new Error(`${url} → ${res.statusCode}: ${res.body}`);
        return res.json();
      };
      const tenantId = (await call('POST', '/v1/tenants', { name: 'DSR bench' }, operator, 201)).id as string;
      const key = (await call('POST', `/v1/tenants/${tenantId}/api-keys`, { name: 'dpo', role: 'admin' }, operator, 201)).key as string;
      for (let c = 0; c < COLLECTIONS; c++) {
        const name = `people_${c}`;
        const col = await call('POST', `/v1/tenants/${tenantId}/collections`,
          { name, fields: [{ name: 'email', type: 'email', searchable: true }, { name: 'name', type: 'string' }] }, key, 201);
        await call('POST', `/v1/tenants/${tenantId}/collections/${name}/records`, { data: { email: 'ada@example.com', name: 'Ada' } }, key, 201);
        log(`dsr bench: filling ${name} with ${perCollection} records`);
        await db.withTenant(tenantId, (tx) => tx.query(
          `with g as (select md5($2::text || g::text)::uuid as id, g from generate_series(1, $3::int) g),
           r as (insert into records (tenant_id, id, collection_id, key_version, enc, sealed, plain)
             select $1::uuid, g.id, $2::uuid, 1, '{}', decode(md5('s' || g.g) || md5('t' || g.g) || md5('u' || g.g), 'hex'), '{}'::jsonb from g)
           insert into record_index (tenant_id, collection_id, record_id, field, hash, is_unique)
             select $1::uuid, $2::uuid, g.id, 'email', decode(md5($2::text || 'h' || g.g) || md5($2::text || 'i' || g.g), 'hex'), false from g`,
          [tenantId, col.id, perCollection]));
      }
      await db.query('analyze records');
      await db.query('analyze record_index');
      const found = (await call('POST', `/v1/tenants/${tenantId}/subjects/find`, { where: { email: 'ada@example.com' } }, key)).records.length;
      if (found !== COLLECTIONS) throw new Error(`the subject lookup found ${found} records, expected ${COLLECTIONS}`);
      const [probe] = await db.withTenant(tenantId, (tx) => tx.query<{ collectionId: string; hash: Uint8Array }>(
        `select i.collection_id::text as "collectionId", i.hash from record_index i join collections c on c.id = i.collection_id
         where c.name = 'people_0' order by i.record_id limit 1`));
      const measure = async (label: string, op: () => Promise<unknown>) => {
        log(`dsr bench: ${label}`);
        await closedLoop(1, 1, op);
        return closedLoop(1, seconds, op);
      };
      // Alternated twice, so drift of a shared machine hits every side alike; the second round is reported.
      let dsr!: Figures, search!: Figures, raw!: Figures;
      for (let round = 0; round < 2; round++) {
        dsr = await measure('subject find across 5 collections', () => call('POST', `/v1/tenants/${tenantId}/subjects/find`, { where: { email: 'ada@example.com' } }, key));
        search = await measure('record search in one collection', () => call('POST', `/v1/tenants/${tenantId}/collections/people_0/records/search`, { where: { email: 'ada@example.com' } }, key));
        raw = await measure('raw blind-index probe (SQL)', () => db.withTenant(tenantId, (tx) => tx.query(
          'select record_id from record_index where collection_id = $1 and field = $2 and hash = $3::bytea', [probe.collectionId, 'email', Buffer.from(probe.hash)])));
      }
      return { perCollection, dsr, search, raw, found };
    } finally { await app.close(); }
  } finally {
    await db.close();
    await database.drop();
    rmSync(dir, { recursive: true, force: true });
  }
}

export function renderDsrBench(r: DsrBenchResult): string {
  const row = (what: string, f: Figures) => `| ${what} | ${fmt(f.p50, 2)} | ${fmt(f.p99, 2)} | ${Math.round(f.rps)} | ${f.errors} |`;
  return ['', `## Data-subject lookup (PostgreSQL, ${COLLECTIONS} collections × ${r.perCollection} records, one client, in-process)`, '',
    '| Request | p50 ms | p99 ms | req/s | errors |', '|---|---:|---:|---:|---:|',
    row(`subject find across ${COLLECTIONS} collections (${r.found} records)`, r.dsr),
    row('baseline: record search in one collection', r.search),
    row('baseline: raw blind-index probe, one collection (SQL)', r.raw), '',
    `Subject find costs ${(r.dsr.p50 / r.search.p50).toFixed(2)}× a one-collection search at p50 (${(r.dsr.p99 / r.search.p99).toFixed(2)}× at p99).`, ''].join('\n');
}

// Retention's deletion rate: BENCH_RETENTION_RECORDS expired records (each
// with a blind-index row, as a record with one searchable field has) deleted
// by the retention service exactly as the `retention` job runs it (batches of
// TRESOR_RETENTION_BATCH under the app role with RLS, one audit entry per
// batch), against a same-run baseline: one raw `DELETE … WHERE created_at <`
// of the same number of rows on the same database, as its owner.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../src/config.ts';
import { openStore } from '../src/main.ts';
import { createServices } from '../src/services.ts';
import type { Actor } from '../src/access/permissions.ts';
import type { Db } from '../src/db/db.ts';
import { fmt } from './measure.ts';
import { createDatabase } from './tresor-process.ts';

export interface RetentionBenchResult { backend: string; records: number; batch: number; tresorSeconds: number; rawSeconds: number }

// Rows made directly (the content is never read by a deletion): 40 days old, a 200-byte seal, one index row each.
async function fill(db: Db, tenantId: string, collectionId: string, n: number) {
  await db.transaction(async (tx) => {
    await tx.query("select set_config('app.tenant_id', $1, true)", [tenantId]);
    await tx.query(`insert into records (tenant_id, id, collection_id, key_version, enc, sealed, plain, created_at, updated_at)
      select $1, gen_random_uuid(), $2, 1, '{}', decode(repeat('ab', 200), 'hex'), '{"tier":"gold"}', now() - interval '40 days', now() - interval '40 days'
      from generate_series(1, $3)`, [tenantId, collectionId, n]);
    await tx.query(`insert into record_index (tenant_id, collection_id, record_id, field, hash, is_unique)
      select tenant_id, collection_id, id, 'email', sha256(convert_to(id::text, 'UTF8')), true from records where tenant_id = $1`, [tenantId]);
  });
}

export async function retentionBench(backend: 'postgres' | 'pglite', records: number, baseUrl: string): Promise<RetentionBenchResult> {
  const dir = mkdtempSync(join(tmpdir(), 'tresor-bench-retention-'));
  const database = backend === 'postgres' ? await createDatabase(baseUrl, 'tresor_bench_ret_') : null;
  const config = loadConfig({ TRESOR_DATA_DIR: join(dir, 'data'), TRESOR_KEY_FILE: join(dir, 'keys', 'root.key'), LOG_LEVEL: 'silent',
    ...(database ? { DATABASE_URL: database.url } : {}) });
  const { db, keyProvider } = await openStore(config);
  try {
    const services = createServices(config, { db, keyProvider });
    const operator: Actor = { type: 'api_key', id: 'bench', name: 'bench', role: 'operator', tenantId: null };
    const made = [];
    for (const name of ['retention', 'baseline']) {
      const tenant = await services.tenants.create(operator, { name });
      const owner: Actor = { type: 'api_key', id: 'bench-owner', name: 'bench', role: 'owner', tenantId: tenant.id };
      const c = await services.collections.create(owner, tenant.id, { name: 'people', fields: [{ name: 'email', type: 'email', unique: true }, { name: 'tier', type: 'string', classification: 'none' }] });
      await fill(db, tenant.id, c.id, records);
      made.push({ tenant, owner, c });
    }
    process.stderr.write(`  retention bench [${backend}]: ${fmt(records)} expired records in each of two tenants\n`);
    const [r, b] = made;
    await services.retention.put(r.owner, r.tenant.id, 'people', { basis: 'created', days: 30 });
    let t0 = performance.now();
    const run = await services.retention.enforce({ tenantId: r.tenant.id });
    const tresorSeconds = (performance.now() - t0) / 1000;
    if (run.deleted !== records) throw new Error(`retention deleted ${run.deleted} of ${records}`);
    t0 = performance.now();
    const deleted = await db.transaction(async (tx) => {
      await tx.query("select set_config('app.tenant_id', $1, true)", [b.tenant.id]);
      return (await tx.query("delete from records where tenant_id = $1 and collection_id = $2 and created_at < now() - interval '30 days' returning 1",
        [b.tenant.id, b.c.id])).length;
    });
    const rawSeconds = (performance.now() - t0) / 1000;
    if (deleted !== records) throw new Error(`baseline deleted ${deleted} of ${records}`);
    await services.requestLog.close();
    return { backend, records, batch: config.retentionBatch, tresorSeconds, rawSeconds };
  } finally {
    await db.close();
    await database?.drop();
    rmSync(dir, { recursive: true, force: true });
  }
}

export function renderRetentionBench(results: RetentionBenchResult[]): string {
  const rows = results.map((r) => `| ${r.backend} | ${fmt(r.records)} | ${fmt(r.records / r.tresorSeconds)} | ${fmt(r.records / r.rawSeconds)} | ${fmt(r.rawSeconds / r.tresorSeconds, 2)} |`);
  return `\n## Retention: deletion rate of expired records\n\n` +
    `The retention job's own code path (batches of ${results[0]?.batch ?? '?'} under the app role and RLS, blind-index rows cascading, one audit entry per batch naming its records) against one raw \`DELETE … WHERE created_at <\` of as many rows on the same database.\n\n` +
    `| backend | records | retention records/s | raw DELETE records/s | ratio |\n|---|---|---|---|---|\n${rows.join('\n')}\n`;
}

// Run alone: BENCH_RETENTION_RECORDS=100000 node --import tsx bench/retention.ts
if (import.meta.url === `file://${process.argv[1]}`) {
  const records = Number(process.env.BENCH_RETENTION_RECORDS ?? 100_000);
  const backends = (process.env.BENCH_BACKENDS || 'postgres,pglite').split(',') as Array<'postgres' | 'pglite'>;
  const baseUrl = process.env.BENCH_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres';
  (async () => {
    const results = [];
    for (const b of backends) results.push(await retentionBench(b, records, baseUrl));
    process.stdout.write(renderRetentionBench(results));
  })().catch((err) => { process.stderr.write(`${err.stack}\n`); process.exit(1); });
}

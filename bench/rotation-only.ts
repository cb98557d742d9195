// The rotation part of the bench alone (BENCH_ROTATION_RECORDS records imported
// first, on PostgreSQL with BENCH_WORKERS processes): for checking the
// re-encryption rate without running the whole bench.
import { rotationUnderLoad } from './rotation.ts';
import { fmt } from './measure.ts';
import { peopleNdjson, runTag } from './people.ts';
import { importNdjson, seedTenant } from './tresor-client.ts';
import { createDatabase, startTresor, tresorDirs } from './tresor-process.ts';

const records = Number(process.env.BENCH_ROTATION_RECORDS ?? 50_000);
const workers = Number(process.env.BENCH_WORKERS ?? 2);
const dirs = tresorDirs();
const database = await createDatabase(process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres');
try {
  const server = await startTresor({ env: { ...dirs.env, DATABASE_URL: database.url, TRESOR_WORKERS: String(workers) }, expectToken: true });
  try {
    const tenant = await seedTenant(server.url, server.token!);
    const imported = await importNdjson(tenant, peopleNdjson(records, runTag()));
    process.stderr.write(`imported ${fmt(imported.imported)} records\n`);
    const r = await rotationUnderLoad(tenant, { concurrency: 4, beforeSeconds: 3, tag: runTag(), timeoutSeconds: 300 });
    process.stdout.write(`rotation of ${fmt(r.records)} records: ${fmt(r.fieldsPerSecond)} fields/s (${fmt(r.reencryptSeconds, 1)} s; done after ${fmt(r.totalSeconds, 1)} s); ` +
      `create c=4 during ${fmt(r.createDuring)} req/s vs before ${fmt(r.createBefore)} (errors ${r.createErrors})\n`);
  } finally {
    await server.stop();
  }
} finally {
  await database.drop();
  dirs.remove();
}

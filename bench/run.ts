// npm run bench: Tresor against a same-run raw baseline, on PostgreSQL and on
// PGlite. Every knob is an environment variable; defaults keep the whole run
// to a few minutes. Progress goes to stderr, the report (markdown) to stdout.
//
//   BENCH_SECONDS=6              length of each measurement
//   BENCH_WARMUP_SECONDS=1       one warm-up per operation before measuring
//   BENCH_CONCURRENCY=1,16       concurrent connections (HTTP) / loops (raw)
//   BENCH_WORKERS=2              TRESOR_WORKERS on PostgreSQL (PGlite has one owner)
//   BENCH_IMPORT_RECORDS=100000  bulk import size on PostgreSQL (0 skips import)
//   BENCH_PGLITE_IMPORT_RECORDS=20000  bulk import size on PGlite (also the size of its rotation)
//   BENCH_ROTATION_SECONDS=5     create-loop time before the rotation (0 skips rotation)
//   BENCH_BACKENDS=postgres,pglite
//   BENCH_OPS=create,get,search   record operations to measure (search and get read what create made)
//   BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres  (a fresh database is created on this server)
//   BENCH_SERVER_DIR=/path/to/checkout   run that checkout's server (A/B of two versions with one bench)
//   BENCH_SERVER_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof"   extra node flags for the server
//   BENCH_BACKUP_RECORDS=1000000 records in the embedded store for backup/restore throughput (0 skips)
//   BENCH_RETENTION_RECORDS=100000  expired records the retention job deletes, against a raw DELETE (0 skips)
//   BENCH_IDENTITY=1             login cost and session vs API-key read (0 skips)
//   BENCH_CARD_GUARD=1          payment-card guard on vs off on create, and its false-positive rate (0 skips; `only` runs nothing else)
//   BENCH_FAILOVER=1             kill -9 of the primary of a three-node Patroni cluster: time to the first write, latency before/after (0 skips; needs root, patroni, etcd)
//   BENCH_DSR_RECORDS=100000     records in each of 5 collections for the data-subject lookup, PostgreSQL (0 skips)
//   BENCH_AUDIT=1                audit on vs off (create and search against the code before the audit log; 0 skips it; `only` runs nothing else)
import { loadavg } from 'node:os';
import { backendPass, type BenchSettings } from './backend-pass.ts';
import { type BackendResults, renderReport } from './report.ts';
import type { Op } from './http-load.ts';
import { type AuditAbResults, auditAb, renderAuditAb } from './audit-ab.ts';
import { type BackupBenchResult, backupBench, renderBackupBench } from './backup.ts';
import { identityBench, renderIdentityBench } from './identity.ts';
import { type RetentionBenchResult, renderRetentionBench, retentionBench } from './retention.ts';
import { type CardGuardResults, cardGuardAb, renderCardGuard } from './card-guard.ts';
import { type DsrBenchResult, dsrBench, renderDsrBench } from './dsr.ts';
import { type FailoverBenchResult, failoverBench, renderFailoverBench } from './failover.ts';

function intEnv(name: string, def: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return def;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a whole number ≥ 0`);
  return n;
}

function listEnv(name: string, def: string): string[] {
  return (process.env[name] || def).split(',').map((s) => s.trim()).filter(Boolean);
}

async function main() {
  const importRecords = intEnv('BENCH_IMPORT_RECORDS', 100_000);
  const settings: BenchSettings = {
    seconds: Math.max(1, intEnv('BENCH_SECONDS', 6)),
    warmupSeconds: intEnv('BENCH_WARMUP_SECONDS', 1),
    concurrencies: listEnv('BENCH_CONCURRENCY', '1,16').map(Number),
    ops: listEnv('BENCH_OPS', 'create,get,search') as Op[],
    workers: Math.max(1, intEnv('BENCH_WORKERS', 2)),
    importRecords,
    rotationConcurrency: 4,
    rotationBeforeSeconds: intEnv('BENCH_ROTATION_SECONDS', 5),
    baseUrl: process.env.BENCH_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres',
    serverNodeArgs: (process.env.BENCH_SERVER_NODE_ARGS ?? '').split(/\s+/).filter(Boolean),
  };
  if (settings.concurrencies.some((c) => !Number.isInteger(c) || c < 1)) throw new Error('BENCH_CONCURRENCY must list whole numbers ≥ 1');
  for (const op of settings.ops) if (!['create', 'get', 'search'].includes(op)) throw new Error(`unknown operation in BENCH_OPS: ${op}`);
  if (!settings.ops.includes('create')) throw new Error('BENCH_OPS must include create (get and search read what it made)');
  const backends = listEnv('BENCH_BACKENDS', 'postgres,pglite');
  for (const b of backends) if (b !== 'postgres' && b !== 'pglite') throw new Error(`unknown backend in BENCH_BACKENDS: ${b}`);

  const started = performance.now();
  const loadBefore = loadavg();
  const results: BackendResults[] = [];
  const cardOnly = process.env.BENCH_CARD_GUARD === 'only';
  const auditOnly = process.env.BENCH_AUDIT === 'only' || cardOnly;
  for (const backend of auditOnly ? [] : backends as Array<'postgres' | 'pglite'>) {
    const s = backend === 'pglite' ? { ...settings, importRecords: intEnv('BENCH_PGLITE_IMPORT_RECORDS', Math.min(importRecords, 20_000)) } : settings;
    results.push(await backendPass(backend, s));
  }
  const audit: AuditAbResults[] = [];
  const cardGuard: CardGuardResults[] = [];
  if (cardOnly || (process.env.BENCH_AUDIT !== 'only' && intEnv('BENCH_CARD_GUARD', 1) > 0)) for (const backend of backends as Array<'postgres' | 'pglite'>) cardGuard.push(await cardGuardAb(backend, settings));
  if (!cardOnly && (process.env.BENCH_AUDIT === 'only' || intEnv('BENCH_AUDIT', 1) > 0)) for (const backend of backends as Array<'postgres' | 'pglite'>) audit.push(await auditAb(backend, settings));
  const backupRecords = auditOnly ? 0 : intEnv('BENCH_BACKUP_RECORDS', 1_000_000);
  const backup: BackupBenchResult | null = backupRecords > 0 ? await backupBench(backupRecords) : null;
  const failover: FailoverBenchResult | null = !auditOnly && intEnv('BENCH_FAILOVER', 1) > 0 ? await failoverBench() : null;
  const dsrRecords = auditOnly ? 0 : intEnv('BENCH_DSR_RECORDS', 100_000);
  const dsr: DsrBenchResult | null = dsrRecords > 0 ? await dsrBench(settings.baseUrl, dsrRecords, settings.seconds) : null;
  const retentionRecords = auditOnly ? 0 : intEnv('BENCH_RETENTION_RECORDS', 100_000);
  const retention: RetentionBenchResult[] = [];
  if (retentionRecords > 0) for (const backend of backends as Array<'postgres' | 'pglite'>) retention.push(await retentionBench(backend, retentionRecords, settings.baseUrl));
  const identity = !auditOnly && intEnv('BENCH_IDENTITY', 1) > 0 ? await identityBench(settings.seconds) : null;
  if (results.length) process.stdout.write(renderReport(results, { seconds: settings.seconds, concurrencies: settings.concurrencies, loadBefore }));
  if (identity) process.stdout.write(renderIdentityBench(identity));
  if (audit.length) process.stdout.write(renderAuditAb(audit, settings.concurrencies));
  if (cardGuard.length) process.stdout.write(renderCardGuard(cardGuard, settings.concurrencies));
  if (backup) process.stdout.write(renderBackupBench(backup));
  if (dsr) process.stdout.write(renderDsrBench(dsr));
  if (failover) process.stdout.write(renderFailoverBench(failover));
  if (retention.length) process.stdout.write(renderRetentionBench(retention));
  process.stderr.write(`\nbench took ${Math.round((performance.now() - started) / 1000)} s\n`);
}

main().catch((err) => {
  process.stderr.write(`bench failed: ${(err as Error).stack ?? err}\n`);
  process.exit(1);
});

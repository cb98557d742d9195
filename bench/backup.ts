// Backup and restore throughput of the embedded store: a real server process
// on PGlite holding BENCH_BACKUP_RECORDS records (imported through the API in
// batches), `POST /v1/backups` timed end to end (snapshot, encryption, write),
// then the restore (checksum, decryption, new data dir) timed as
// `tresor backup restore` does it, and a restore verification.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createTresorClient } from '../src/client/index.ts';
import { loadConfig } from '../src/config.ts';
import { readSummary } from '../src/backup/backup-files.ts';
import { restoreBackup } from '../src/backup/backup-restore.ts';
import { openFileKeyProvider } from '../src/crypto/key-provider.ts';
import { fmt } from './measure.ts';
import { peopleNdjson, runTag } from './people.ts';
import { importNdjson, seedTenant } from './tresor-client.ts';
import { startTresor, tresorDirs } from './tresor-process.ts';

export interface BackupBenchResult {
  records: number; snapshotBytes: number; fileBytes: number;
  backupSeconds: number; restoreSeconds: number; verifySeconds: number; verifyResult: string;
  /** The server's resident memory just before the backup and its peak during it (bytes; undefined off Linux). */
  memory?: { before: number; peak: number; exact: boolean };
}

// The snapshot is a tar of the whole data dir held in memory (PGlite's
// dumpDataDir), so the backup's cost in memory is the server's peak resident
// set during it. On Linux: VmHWM after resetting it through clear_refs (exact;
// needs root or the same user), else the largest VmRSS sampled meanwhile.
const statusBytes = (pid: number, field: 'VmRSS' | 'VmHWM') => {
  const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : NaN;
};

function watchMemory(pid: number | undefined) {
  if (!pid || process.platform !== 'linux') return undefined;
  const before = statusBytes(pid, 'VmRSS');
  let exact = true;
  try { writeFileSync(`/proc/${pid}/clear_refs`, '5'); } catch { exact = false; }
  let sampled = before;
  return {
    sample: () => { sampled = Math.max(sampled, statusBytes(pid, 'VmRSS')); },
    result: () => ({ before, peak: exact ? statusBytes(pid, 'VmHWM') : sampled, exact }),
  };
}

// Each batch is one import request, answered when the batch is in: kept small
// enough to answer within fetch's 300 s headers timeout on a loaded machine
// (100,000 did not, at a load average of 30 on 2 cores).
const IMPORT_BATCH = 25_000;
const mb = (bytes: number) => bytes / 1e6;

async function fill(url: string, token: string, records: number) {
  const tenant = await seedTenant(url, token);
  const tag = runTag();
  for (let done = 0; done < records; done += IMPORT_BATCH) {
    const n = Math.min(IMPORT_BATCH, records - done);
    const r = await importNdjson(tenant, peopleNdjson(n, tag, done));
    if (r.imported !== n) throw new Error(`import: ${r.imported} of ${n} imported`);
    process.stderr.write(`  backup bench: ${fmt(done + n)} / ${fmt(records)} records imported\n`);
  }
}

export async function backupBench(records: number): Promise<BackupBenchResult> {
  const dirs = tresorDirs('tresor-bench-backup-');
  try {
    const server = await startTresor({ env: { ...dirs.env, TRESOR_BACKUP_VERIFY_SAMPLE: '100' }, expectToken: true, readyTimeoutMs: 120_000 });
    const operator = createTresorClient({ baseUrl: server.url, token: server.token! });
    let backupId: string;
    let backupSeconds: number;
    let verifySeconds: number;
    let verifyResult: string;
    let memory: BackupBenchResult['memory'];
    try {
      await fill(server.url, server.token!, records);
      const watch = watchMemory(server.child.pid);
      let t0 = performance.now();
      const started = await operator.POST('/v1/backups', {});
      if (!started.data) throw new Error(`backup → ${started.response.status}: ${JSON.stringify(started.error)}`);
      backupId = started.data.id;
      for (let s = started.data.status; s === 'running';) {
        await new Promise((r) => setTimeout(r, 200));
        watch?.sample();
        // The snapshot keeps the server's event loop busy; a status request that waited too long is dropped: ask again.
        const run = await operator.GET('/v1/backups/{backupId}/status', { params: { path: { backupId } } }).catch(() => ({ data: { status: 'running' as const, error: null } }));
        s = run.data!.status;
        if (s === 'failed') throw new Error(`backup failed: ${JSON.stringify(run.data!.error)}`);
      }
      backupSeconds = (performance.now() - t0) / 1000;
      memory = watch?.result();
      process.stderr.write(`  backup bench: backup of ${fmt(records)} records took ${fmt(backupSeconds, 1)} s` +
        `${memory ? `; server memory ${fmt(mb(memory.before), 0)} MB before, peak ${fmt(mb(memory.peak), 0)} MB` : ''}\n`);
      t0 = performance.now();
      const started2 = await operator.POST('/v1/backups/verifications', { body: { backupId } });
      if (!started2.data) throw new Error(`verification → ${started2.response.status}: ${JSON.stringify(started2.error)}`);
      let run = started2.data;
      while (run.status === 'running') {
        await new Promise((r) => setTimeout(r, 200));
        const next = await operator.GET('/v1/backups/verifications/{verificationId}/status', { params: { path: { verificationId: run.id } } }).catch(() => undefined);
        if (next?.data) run = next.data;
      }
      verifySeconds = (performance.now() - t0) / 1000;
      verifyResult = run.verification?.result ?? `could not run: ${JSON.stringify(run.error)}`;
    } finally { await server.stop(60_000); }
    const config = loadConfig({ ...dirs.env, LOG_LEVEL: 'silent' });
    const summary = readSummary(config.backupDir, backupId)!;
    const t0 = performance.now();
    const db = await restoreBackup({ backupDir: config.backupDir, summary, target: join(dirs.dir, 'restored'),
      keyProvider: () => openFileKeyProvider({ path: config.keyFile, allowCreate: false }) });
    await db.close();
    const restoreSeconds = (performance.now() - t0) / 1000;
    return { records, snapshotBytes: summary.snapshotBytes, fileBytes: summary.sizeBytes, backupSeconds, restoreSeconds, verifySeconds, verifyResult, memory };
  } finally { dirs.remove(); }
}


export function renderBackupBench(r: BackupBenchResult): string {
  const row = (what: string, s: number) => `| ${what} | ${fmt(s, 1)} | ${fmt(mb(r.snapshotBytes) / s, 1)} | ${fmt(r.records / s)} |`;
  return `\n## Backups of the embedded store (${fmt(r.records)} records)\n\n` +
    `Snapshot ${fmt(mb(r.snapshotBytes), 1)} MB, encrypted file ${fmt(mb(r.fileBytes), 1)} MB. MB/s over the snapshot (10^6 bytes).\n\n` +
    `| step | seconds | MB/s | records/s |\n|---|---|---|---|\n` +
    `${row('backup (POST /v1/backups until complete: snapshot, encrypt, write)', r.backupSeconds)}\n` +
    `${row('restore (checksum, decrypt, new data dir)', r.restoreSeconds)}\n` +
    `${row(`restore verification (restore + checks; ${r.verifyResult})`, r.verifySeconds)}\n` +
    (r.memory ? `\nServer resident memory: ${fmt(mb(r.memory.before), 0)} MB before the backup, peak ${fmt(mb(r.memory.peak), 0)} MB during it ` +
      `(+${fmt(mb(r.memory.peak - r.memory.before), 0)} MB; ${r.memory.exact ? 'VmHWM' : 'largest VmRSS sampled every 200 ms'}).\n` : '');
}

// Run alone: BENCH_BACKUP_RECORDS=100000 node --import tsx bench/backup.ts
if (import.meta.url === `file://${process.argv[1]}`) {
  const records = Number(process.env.BENCH_BACKUP_RECORDS ?? 1_000_000);
  backupBench(records).then((r) => process.stdout.write(renderBackupBench(r)), (err) => { process.stderr.write(`${err.stack}\n${err.cause ? `cause: ${err.cause.stack ?? err.cause}\n` : ''}`); process.exit(1); });
}

// `tresor audit verify` over a large log on PostgreSQL: entries are made in
// the database (generate_series, canonical JSON leaves and their RFC 6962 leaf
// hashes), sequenced by the real sequencer, then verified by the CLI as an
// operator runs it (npm run bench:audit-verify). Prints entries/s for both, and the
// CLI's CPU time next to its wall time, since a loaded machine stretches the latter;
// the target is < 10 s for 1,000,000.
//
//   BENCH_AUDIT_VERIFY_ENTRIES=1000000
//   BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres  (a fresh database is created on this server)
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import postgres from 'postgres';
import { loadConfig } from '../src/config.ts';
import { openStore } from '../src/main.ts';
import { signingKeyFor } from '../src/crypto/signing.ts';
import { AUDIT_SIGNING_PURPOSE } from '../src/audit/merkle/tree-head.ts';
import { sequencerFactory } from '../src/audit/merkle/sequencer.ts';

const log = (msg: string) => process.stderr.write(`${msg}\n`);
const bin = new URL('../bin/tresor.mjs', import.meta.url).pathname;

export interface AuditVerifyResult { entries: number; sequenceSeconds: number; verifySeconds: number; checkSeconds: number; cpuSeconds: number; verifyEntriesPerSecond: number; ok: boolean }

async function freshDatabase(baseUrl: string) {
  const name = `tresor_bench_verify_${randomBytes(4).toString('hex')}`;
  const admin = postgres(baseUrl, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${name}`);
  const url = new URL(baseUrl);
  url.pathname = `/${name}`;
  return { url: url.toString(), drop: async () => { await admin.unsafe(`drop database if exists ${name} with (force)`); await admin.end(); } };
}

// One statement: leaves shaped like the audit writer's (sorted keys), hashed in SQL as SHA-256(0x00 ‖ leaf).
const GENERATE = `insert into audit_entries (tenant_id, created_at, kind, action, leaf, leaf_hash)
  select null, now(), 'data', 'records.read', l, sha256('\\x00'::bytea || l) from (
    select convert_to(json_build_object('action', 'records.read', 'actor', 'bench', 'collection', 'customers',
      'recordIds', json_build_array(md5(i::text)::uuid), 'seq', i)::text, 'UTF8') as l
    from generate_series($1::int, $2::int) as i) g`;

function cli(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => execFile(process.execPath, [bin, ...args], { env: { PATH: process.env.PATH ?? '', ...env }, maxBuffer: 1 << 24 },
    (err, stdout, stderr) => resolve({ code: err ? Number(err.code ?? 1) : 0, stdout, stderr })));
}

export async function auditVerifyBench(baseUrl: string, entries: number): Promise<AuditVerifyResult> {
  const dir = mkdtempSync(join(tmpdir(), 'tresor-bench-verify-'));
  const database = await freshDatabase(baseUrl);
  const env = { DATABASE_URL: database.url, TRESOR_DATA_DIR: join(dir, 'data'), TRESOR_KEY_FILE: join(dir, 'root.key'), LOG_LEVEL: 'silent' };
  try {
    const config = loadConfig(env);
    const { db, keyProvider } = await openStore(config);
    log(`# audit verify: generating ${entries} entries`);
    for (let from = 1; from <= entries; from += 100_000) await db.query(GENERATE, [from, Math.min(from + 99_999, entries)]);
    await db.query('analyze audit_entries');
    const sequencer = sequencerFactory({ db, signingKey: signingKeyFor(keyProvider, AUDIT_SIGNING_PURPOSE), batchSize: 20_000 });
    let t0 = performance.now();
    const sequenced = await sequencer.sequence();
    const sequenceSeconds = (performance.now() - t0) / 1000;
    log(`# audit verify: sequenced ${sequenced} in ${sequenceSeconds.toFixed(1)} s (${Math.round(sequenced / sequenceSeconds)} entries/s)`);
    await db.query('analyze audit_log');
    await db.query('analyze audit_tree_nodes');
    await db.close();
    t0 = performance.now();
    const run = await cli(['audit', 'verify', '--json'], env);
    const wall = (performance.now() - t0) / 1000;
    const out = run.code === 0 ? JSON.parse(run.stdout) : { ok: false, entriesPerSecond: 0, ms: 0, cpuMs: 0 };
    if (run.code !== 0) log(run.stderr || run.stdout);
    log(`# audit verify: ${entries} entries in ${wall.toFixed(1)} s wall (CLI start included), check ${(out.ms / 1000).toFixed(1)} s, ${(out.cpuMs / 1000).toFixed(1)} s CPU, ${out.entriesPerSecond} entries/s`);
    return { entries, sequenceSeconds, verifySeconds: wall, checkSeconds: out.ms / 1000, cpuSeconds: out.cpuMs / 1000, verifyEntriesPerSecond: out.entriesPerSecond, ok: out.ok === true };
  } finally {
    await database.drop();
    rmSync(dir, { recursive: true, force: true });
  }
}

export function renderAuditVerify(r: AuditVerifyResult): string {
  return ['', '### tresor audit verify (PostgreSQL)', '',
    '| entries | sequencer | verify (CLI, wall) | check (wall) | check (CLI CPU) | verify entries/s | result |', '|---|---|---|---|---|---|---|',
    `| ${r.entries} | ${r.sequenceSeconds.toFixed(1)} s | ${r.verifySeconds.toFixed(1)} s | ${r.checkSeconds.toFixed(1)} s | ${r.cpuSeconds.toFixed(1)} s | ${r.verifyEntriesPerSecond} | ${r.ok ? 'verified' : 'FAILED'} |`,
    `Machine load average while measuring: ${loadavg()[0].toFixed(1)}`, ''].join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const entries = Number(process.env.BENCH_AUDIT_VERIFY_ENTRIES || 1_000_000);
  const result = await auditVerifyBench(process.env.BENCH_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres', entries);
  process.stdout.write(`${renderAuditVerify(result)}\n`);
}

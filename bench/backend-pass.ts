import { join } from 'node:path';
import { type Created, type Op, recordLoad, runAutocannon } from './http-load.ts';
import type { Figures } from './measure.ts';
import { fmt } from './measure.ts';
import { peopleNdjson, runTag } from './people.ts';
import { type RawTarget, rawCopy, rawRecordOps } from './raw-baseline.ts';
import type { BackendResults } from './report.ts';
import { rotationUnderLoad } from './rotation.ts';
import { processTreeCpuSeconds } from './server-cpu.ts';
import { type Tenant, importNdjson, seedTenant } from './tresor-client.ts';
import { createDatabase, startTresor, tresorDirs } from './tresor-process.ts';

export interface BenchSettings {
  seconds: number;
  warmupSeconds: number;
  concurrencies: number[];
  ops: Op[];
  workers: number;
  importRecords: number;
  rotationConcurrency: number;
  rotationBeforeSeconds: number;
  baseUrl: string;
  /** Extra node flags for the server (e.g. --cpu-prof). */
  serverNodeArgs: string[];
}

const log = (msg: string) => process.stderr.write(`${msg}\n`);

export async function httpOps(t: Tenant, s: Pick<BenchSettings, 'ops' | 'warmupSeconds' | 'concurrencies' | 'seconds'>, serverPid: number): Promise<Record<string, Figures>> {
  const out: Record<string, Figures> = {};
  const created: Created = { ids: [], emails: [] };
  const tag = runTag();
  const counter = { n: 0 };
  for (const op of s.ops) {
    // One warm-up per operation (JIT, pools, caches), then each concurrency.
    if (s.warmupSeconds > 0) await runAutocannon(t, recordLoad(t, op, created, tag, counter), Math.max(...s.concurrencies), s.warmupSeconds).done;
    for (const c of s.concurrencies) {
      const cpuBefore = processTreeCpuSeconds(serverPid);
      const figures = await runAutocannon(t, recordLoad(t, op, created, tag, counter), c, s.seconds).done;
      figures.cpuUs = ((processTreeCpuSeconds(serverPid) - cpuBefore) * 1e6) / figures.ops;
      out[`${op}@${c}`] = figures;
      log(`  tresor ${op} c=${c}: ${fmt(figures.rps)} req/s, p50 ${fmt(figures.p50, 2)} ms, p99 ${fmt(figures.p99, 2)} ms, server CPU ${fmt(figures.cpuUs)} µs/req${figures.errors ? `, ${figures.errors} errors` : ''}`);
    }
  }
  return out;
}

async function bulkImport(t: Tenant, count: number) {
  const body = peopleNdjson(count, runTag());
  log(`  import: ${fmt(count)} records, ${fmt(body.length / 1e6, 1)} MB of NDJSON`);
  const t0 = performance.now();
  const res = await importNdjson(t, body);
  const seconds = (performance.now() - t0) / 1000;
  log(`  import: ${fmt(res.imported)} imported in ${fmt(seconds, 1)} s`);
  return { records: res.imported, seconds, perSecond: res.imported / seconds, rejected: res.rejectedCount };
}

/** Everything measured against one store: Tresor over HTTP, then the raw baseline on the same store kind. */
export async function backendPass(backend: 'postgres' | 'pglite', s: BenchSettings): Promise<BackendResults> {
  const workers = backend === 'postgres' ? s.workers : 1;
  log(`\n# ${backend} (${workers} worker${workers === 1 ? '' : 's'})`);
  const dirs = tresorDirs();
  const database = backend === 'postgres' ? await createDatabase(s.baseUrl) : undefined;
  const result: BackendResults = { backend, workers, http: {}, raw: {} };
  try {
    const server = await startTresor({
      env: { ...dirs.env, ...(database ? { DATABASE_URL: database.url, TRESOR_WORKERS: String(workers) } : {}) },
      expectToken: true, nodeArgs: s.serverNodeArgs,
    });
    try {
      const tenant = await seedTenant(server.url, server.token!);
      result.http = await httpOps(tenant, s, server.child.pid!);
      if (s.importRecords > 0) result.importing = await bulkImport(tenant, s.importRecords);
      if (s.rotationBeforeSeconds > 0) {
        log(`  rotation: create loop c=${s.rotationConcurrency}, ${s.rotationBeforeSeconds} s before the rotation`);
        result.rotation = await rotationUnderLoad(tenant, { concurrency: s.rotationConcurrency, beforeSeconds: s.rotationBeforeSeconds, tag: runTag(), timeoutSeconds: 300 });
        log(`  rotation: ${fmt(result.rotation.records)} records in ${fmt(result.rotation.reencryptSeconds, 1)} s, ${fmt(result.rotation.fieldsPerSecond)} fields/s`);
      }
    } finally {
      await server.stop();
    }
    // The baseline runs with the server stopped, so both sides get the machine alone.
    const target: RawTarget = database ? { kind: 'postgres', url: database.url } : { kind: 'pglite', dataDir: join(dirs.dir, 'raw-pglite') };
    result.raw = await rawRecordOps(target, s.ops, s.concurrencies, s.seconds, s.warmupSeconds, runTag());
    if (s.importRecords > 0) {
      result.copyPerSecond = await rawCopy(target, s.importRecords, runTag());
      log(`  raw COPY: ${fmt(result.copyPerSecond)} rows/s`);
    }
  } finally {
    await database?.drop();
    dirs.remove();
  }
  return result;
}

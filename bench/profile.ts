// Where does a Tresor request spend its CPU? Starts one server process under
// `node --cpu-prof`, drives one operation with autocannon, stops the server and
// summarises the profile of just that measurement window.
//
//   node --import tsx bench/profile.ts create|get|search|import|rotate [concurrency=16] [seconds=8]
//   (import: 50k records in one request; rotate: 50k records imported first, then one rotation)
//   PROFILE_BACKEND=pglite   (default postgres; BENCH_DATABASE_URL as in run.ts)
//   PROFILE_DIR=/tmp/tresor-prof   (the .cpuprofile is kept there)
import { mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { summariseProfile } from './cpuprofile-summary.ts';
import { type Created, type Op, recordLoad, runAutocannon } from './http-load.ts';
import { fmt } from './measure.ts';
import { peopleNdjson, runTag } from './people.ts';
import { importNdjson, keyStatus, rotateKeys, seedTenant } from './tresor-client.ts';
import { createDatabase, startTresor, tresorDirs } from './tresor-process.ts';

async function main() {
  const op = (process.argv[2] ?? 'create') as Op | 'import' | 'rotate';
  const concurrency = Number(process.argv[3] ?? 16);
  const seconds = Number(process.argv[4] ?? 8);
  const backend = process.env.PROFILE_BACKEND === 'pglite' ? 'pglite' : 'postgres';
  const profDir = process.env.PROFILE_DIR ?? '/tmp/tresor-prof';
  mkdirSync(profDir, { recursive: true });
  const dirs = tresorDirs('tresor-prof-');
  const db = backend === 'postgres' ? await createDatabase(process.env.BENCH_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres') : undefined;
  try {
    const spawnedAt = performance.now();
    const server = await startTresor({
      env: { ...dirs.env, ...(db ? { DATABASE_URL: db.url } : {}) }, expectToken: true,
      nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${profDir}`],
    });
    let window: { fromMs: number; toMs: number };
    try {
      const t = await seedTenant(server.url, server.token!);
      const created: Created = { ids: [], emails: [] };
      const tag = runTag();
      const counter = { n: 0 };
      // Warm-up, and the records that get and search read.
      await runAutocannon(t, recordLoad(t, 'create', created, tag, counter), concurrency, 3).done;
      if (op === 'rotate') await importNdjson(t, peopleNdjson(50_000, runTag()));
      const from = performance.now() - spawnedAt;
      if (op === 'rotate') {
        const t0 = performance.now();
        await rotateKeys(t);
        while ((await keyStatus(t)).rotating) await new Promise((r) => setTimeout(r, 200));
        process.stderr.write(`rotate: ${fmt((50_000 * 5) / ((performance.now() - t0) / 1000))} fields/s (incl. the key-cache grace period)\n`);
      } else if (op === 'import') {
        const body = peopleNdjson(50_000, runTag());
        const t0 = performance.now();
        const res = await importNdjson(t, body);
        process.stderr.write(`import: ${fmt(res.imported / ((performance.now() - t0) / 1000))} records/s\n`);
      } else {
        const f = await runAutocannon(t, recordLoad(t, op, created, tag, counter), concurrency, seconds).done;
        process.stderr.write(`${op} c=${concurrency}: ${fmt(f.rps)} req/s, p50 ${fmt(f.p50, 2)} ms, p99 ${fmt(f.p99, 2)} ms\n`);
      }
      window = { fromMs: from, toMs: performance.now() - spawnedAt };
    } finally {
      await server.stop();
    }
    // CPU.<date>.<time>.<pid>.<thread>.<seq>.cpuprofile: thread 0 is the main thread (1 is tsx's loader thread).
    const newest = readdirSync(profDir).filter((f) => /\.0\.\d+\.cpuprofile$/.test(f))
      .map((f) => join(profDir, f)).sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs)[0];
    process.stdout.write(`${newest}\n${summariseProfile(JSON.parse(readFileSync(newest, 'utf8')), 30, window)}\n`);
  } finally {
    await db?.drop();
    dirs.remove();
  }
}

main().catch((err) => {
  process.stderr.write(`profile failed: ${(err as Error).stack ?? err}\n`);
  process.exit(1);
});

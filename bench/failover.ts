// The failover time, measured in `npm run bench` (BENCH_FAILOVER=0 skips it):
// the lab cluster of ops/patroni/ (three PostgreSQL 15 nodes, synchronous
// mode, Debian's Patroni and etcd), Tresor on its multi-host URL, four clients
// writing without pause; kill -9 of the primary, then the time to the first
// write acknowledged through Tresor, the write latency before and after, and
// how many acknowledged writes are missing afterwards. Needs root (Patroni
// runs as postgres) and the packages; says why it skipped otherwise.
import { execFileSync } from 'node:child_process';
import { percentile, sleep, fmt } from './measure.ts';
import { runTag } from './people.ts';
import { seedTenant } from './tresor-client.ts';
import { startTresor, tresorDirs } from './tresor-process.ts';
import { startCluster } from '../test-ha/cluster.ts';
import { missingWrites, writeContinuously } from '../test-ha/writes.ts';

export type FailoverBenchResult =
  | { skipped: string }
  | { failoverSeconds: number; lostNode: number; acked: number; lost: number; unavailable: number;
      before: { writes: number; p50: number; p99: number }; after: { writes: number; p50: number; p99: number } };

const WINDOW_MS = 8_000;
const LIMIT_MS = 60_000;

function missing(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root (Patroni runs PostgreSQL as the postgres user)';
  const has = (cmd: string) => { try { execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }); return true; } catch { return false; } };
  if (!has('patroni')) return 'patroni not installed (apt-get install patroni etcd-server, or ops/patroni/cluster-start.sh)';
  if (!has('etcd')) return 'etcd not installed (apt-get install etcd-server)';
  return undefined;
}

const stats = (ms: number[]) => { const s = [...ms].sort((a, b) => a - b); return { writes: s.length, p50: percentile(s, 50), p99: percentile(s, 99) }; };

export async function failoverBench(): Promise<FailoverBenchResult> {
  const why = missing();
  if (why) return { skipped: why };
  process.stderr.write('failover: starting a three-node Patroni cluster…\n');
  const cluster = await startCluster({ nodes: 3, sync: true });
  const dirs = tresorDirs('tresor-bench-failover-');
  let server: Awaited<ReturnType<typeof startTresor>> | undefined;
  try {
    await cluster.healthy();
    const { leader } = await cluster.roles();
    server = await startTresor({ env: { ...dirs.env, DATABASE_URL: cluster.url([1, 2, 3]) }, expectToken: true });
    const tenant = await seedTenant(server.url, server.token!, 'Failover Bench GmbH');
    const writes = writeContinuously(tenant, runTag());
    const started = Date.now();
    await sleep(WINDOW_MS);
    process.stderr.write(`failover: kill -9 of node${leader} (the primary)…\n`);
    await cluster.kill9(leader);
    // From here nothing can be acknowledged by the old primary: writes sent from now on count (as in npm run test:ha).
    const lostAt = Date.now();
    let first: number | undefined;
    while ((first = writes.firstSuccessSince(lostAt)) === undefined && Date.now() - lostAt < LIMIT_MS) await sleep(100);
    if (first !== undefined) await sleep(WINDOW_MS);
    await writes.stop();
    if (first === undefined) throw new Error(`no write succeeded within ${LIMIT_MS / 1000} s of kill -9 of the primary`);
    if (writes.wrong.length) throw new Error(`wrong answers during the failover: ${writes.wrong.slice(0, 3).join('; ')}`);
    const acks = writes.acks();
    const lost = (await missingWrites(tenant, writes.acked)).length;
    return {
      failoverSeconds: (first - lostAt) / 1000, lostNode: leader, acked: writes.acked.size, lost, unavailable: writes.unavailable(),
      before: stats(acks.filter((a) => a.sent >= started && a.at < lostAt).map((a) => a.at - a.sent)),
      after: stats(acks.filter((a) => a.sent >= first! && a.sent < first! + WINDOW_MS).map((a) => a.at - a.sent)),
    };
  } finally {
    await server?.stop().catch(() => {});
    await cluster.stop().catch(() => {});
    dirs.remove();
  }
}

export function renderFailoverBench(r: FailoverBenchResult): string {
  if ('skipped' in r) return `\n## Failover (kill -9 of the PostgreSQL primary)\n\nskipped: ${r.skipped}\n`;
  return `\n## Failover (kill -9 of the PostgreSQL primary)\n\n` +
    `Three PostgreSQL 15 nodes under Patroni (synchronous mode, ttl 20 s, loop_wait 2 s) on loopback, Tresor on the multi-host URL, ` +
    `4 clients creating records without pause; node${r.lostNode} (the primary) killed with kill -9.\n\n` +
    `| | value |\n|---|---|\n` +
    `| kill -9 → first acknowledged write through Tresor | ${fmt(r.failoverSeconds, 1)} s |\n` +
    `| write latency before (${fmt(WINDOW_MS / 1000)} s, ${r.before.writes} writes) p50 / p99 | ${fmt(r.before.p50, 1)} / ${fmt(r.before.p99, 1)} ms |\n` +
    `| write latency after the first write (${fmt(WINDOW_MS / 1000)} s, ${r.after.writes} writes) p50 / p99 | ${fmt(r.after.p50, 1)} / ${fmt(r.after.p99, 1)} ms |\n` +
    `| writes answered 503 (retryable) meanwhile | ${r.unavailable} |\n` +
    `| acknowledged writes missing afterwards | ${r.lost} of ${r.acked} |\n`;
}

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runTag } from '../bench/people.ts';
import { type Tenant, seedTenant } from '../bench/tresor-client.ts';
import { type TresorProcess, startTresor, tresorDirs } from '../bench/tresor-process.ts';
import { type Cluster, startCluster } from './cluster.ts';
import { type Writes, missingWrites, writeContinuously } from './writes.ts';

// A real network partition: each node of a three-node synchronous Patroni
// cluster runs in a network namespace of its own on a bridge that also carries
// etcd and Tresor (ops/patroni, HA_NETNS=on). The primary's end of the bridge
// goes down while Tresor writes without pause; Patroni and PostgreSQL keep
// running behind it. The new primary must take writes through Tresor within
// 30 s; the old one, unable to renew its leader key or reach the other members
// (failsafe mode), must demote itself; no write it holds may have been
// acknowledged; every acknowledged write must be on the new primary; healed,
// the old primary must rejoin as a replica.

const LIMIT_MS = 30_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

async function until<T>(what: string, get: () => Promise<T | undefined> | T | undefined, ms: number): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const value = await get();
    if (value !== undefined) return value;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(250);
  }
}

let cluster: Cluster | undefined;
let server: TresorProcess | undefined;
const dirs = tresorDirs('tresor-ha-partition-');

/** Tresor on the cluster with the old primary first in its host list, and clients writing without pause. */
async function writeThrough(c: Cluster, old: number): Promise<{ tenant: Tenant; writes: Writes }> {
  // Tresor's transaction deadline (connect + 2 × statement timeout) shortened,
  // as for any deployment that wants connections to a vanished host dropped
  // within seconds.
  server = await startTresor({
    env: { ...dirs.env, DATABASE_URL: c.url([old, ...[1, 2, 3].filter((n) => n !== old)]), TRESOR_DB_CONNECT_TIMEOUT_MS: '2000', TRESOR_DB_STATEMENT_TIMEOUT_MS: '4000' },
    expectToken: true,
  });
  const tenant = await seedTenant(server.url, server.token!, 'Partition GmbH');
  return { tenant, writes: writeContinuously(tenant, runTag()) };
}

/**
 * Watches both sides of the cut: the new primary serving Tresor's writes, and
 * the old primary as seen from inside its own namespace (it first stops
 * answering as a primary, then comes back as a read-only standby). Writes stop
 * 2 s after the first one acknowledged by the new primary.
 */
async function watchTheCut(c: Cluster, old: number, next: number, writes: Writes, cut: { at: number; done: number }) {
  let firstWrite: number | undefined;
  let promotedAt: number | undefined;
  let demoting: { at: number; answer: string } | undefined;
  let standbyAt: number | undefined;
  while (firstWrite === undefined || standbyAt === undefined || !demoting) {
    assert.ok(Date.now() - cut.at < 150_000, `within 150 s: first write ${firstWrite}, old primary read-only ${standbyAt}`);
    const seen = await c.sqlInside(old, 'select pg_is_in_recovery()');
    const answer = seen.ok ? seen.out : seen.error;
    if (!demoting && answer !== 'f') demoting = { at: Date.now(), answer: answer.split('\n').pop()! };
    if (standbyAt === undefined && seen.ok && answer === 't') standbyAt = Date.now();
    if (promotedAt === undefined && await c.isPrimary(next)) promotedAt = Date.now();
    // Only writes sent once the cut was in place: none of them can have reached the old primary.
    if (firstWrite === undefined && (firstWrite = writes.firstSuccessSince(cut.done)) !== undefined) {
      setTimeout(() => void writes.stop(), 2000);
    }
    await sleep(250);
  }
  await writes.stop();
  return { firstWrite, promotedAt, demoting, standbyAt };
}

/** Record ids the old primary holds and the new one lacks: commits it wrote to its own WAL that no standby confirmed. */
async function onlyOnTheOld(c: Cluster, old: number, next: number) {
  const oldIds = await c.sqlInside(old, 'select id from records');
  assert.ok(oldIds.ok, `records readable on the old primary: ${JSON.stringify(oldIds)}`);
  const newIds = new Set((await c.query(next, 'select id::text as id from records')).map((r) => r.id as string));
  return { onlyOld: oldIds.out.split('\n').filter((id) => id && !newIds.has(id)), newIds };
}

/** Heals the cut and waits until the old primary streams from the new one; the time it took. */
async function rejoin(c: Cluster, old: number, next: number, onlyOld: string[]) {
  const healAt = Date.now();
  await c.heal(old);
  await until(`node${old} streaming from node${next}`, async () => {
    const rows = await c.query(next, `select state from pg_stat_replication where application_name = 'node${old}'`).catch(() => []);
    return rows[0]?.state === 'streaming' ? true : undefined;
  }, 120_000);
  const rejoinMs = Date.now() - healAt;
  const role = (await c.members()).find((m) => m.name === `node${old}`)?.role;
  assert.ok(role === 'replica' || role === 'sync_standby', `node${old} rejoined as a replica (role ${role})`);
  assert.equal(await c.isPrimary(old), false, `node${old} is a standby`);
  if (onlyOld.length) {
    const [left] = await c.query(old, `select count(*)::int as n from records where id::text in (${onlyOld.map((id) => `'${id}'`).join(',')})`);
    assert.equal(left.n, 0, 'the rows only the old primary held are gone after it rejoined');
  }
  const rewound = /pg_rewind exit code=0/.test(readFileSync(join(c.dir, `node${old}`, 'patroni.log'), 'utf8'));
  return { rejoinMs, role, rewound };
}

describe('network partition of the primary (npm run test:ha)', { timeout: 10 * 60_000 }, () => {
  before(async () => {
    cluster = await startCluster({ nodes: 3, sync: true, netns: true });
  });
  after(async () => {
    await server?.stop().catch(() => {});
    await cluster?.stop(); // processes, namespaces, bridge and directory, also after a failed test
    dirs.remove();
  });

  it('the primary cut off: a new primary takes writes, the old one demotes itself, nothing acknowledged is lost, healed it rejoins', async (t) => {
    const c = cluster!;
    await c.healthy();
    const { leader: old, sync: next } = await c.roles();
    assert.ok(next, 'synchronous mode names a synchronous standby');
    const { tenant, writes } = await writeThrough(c, old);
    let healed = false;
    t.after(async () => {
      await writes.stop();
      if (!healed) await c.heal(old).catch(() => {});
    });
    await until('writes before the cut', () => (writes.acked.size >= 100 ? true : undefined), 30_000);

    // From just before the link goes down until cut() has checked it from both sides.
    const cutAt = Date.now();
    await c.cut(old);
    const cut = { at: cutAt, done: Date.now() };
    assert.equal(await c.reachable(old), false, `a TCP connection from the root namespace to node${old} fails after the cut`);
    const seen = await watchTheCut(c, old, next, writes, cut);

    assert.deepEqual(writes.wrong.slice(0, 5), [], 'every write answered 201 or a retryable 503 problem');
    const failoverMs = seen.firstWrite - cut.at;
    assert.ok(failoverMs <= LIMIT_MS, `first write acknowledged ${failoverMs} ms after the cut (limit ${LIMIT_MS})`);
    assert.equal(await c.isPrimary(next), true, `node${next} (the synchronous standby) is the new primary`);
    assert.match(readFileSync(join(c.dir, `node${old}`, 'patroni.log'), 'utf8'), /Demoting self/, `node${old}'s Patroni demoted it`);
    const refused = await c.sqlInside(old, 'create table partition_probe (id int)');
    assert.ok(!refused.ok && /read-only/.test(refused.error), `the old primary refuses writes: ${JSON.stringify(refused)}`);

    const { onlyOld, newIds } = await onlyOnTheOld(c, old, next);
    assert.deepEqual(onlyOld.filter((id) => writes.acked.has(id)), [], 'no acknowledged write exists only on the old primary');
    assert.deepEqual([...writes.acked.keys()].filter((id) => !newIds.has(id)).slice(0, 5), [], 'every acknowledged write is in the new primary\'s table');
    assert.deepEqual((await missingWrites(tenant, writes.acked)).slice(0, 5), [], 'every acknowledged write reads back through Tresor');

    const back = await rejoin(c, old, next, onlyOld);
    healed = true;
    await c.healthy();

    const line = `partition of node${old}: node${next} promoted ${seen.promotedAt ? seconds(seen.promotedAt - cut.at) : '?'} and first write on it ${seconds(failoverMs)} after the cut; ` +
      `old primary stopped answering as primary after ${seconds(seen.demoting.at - cut.at)} (${seen.demoting.answer}), read-only standby after ${seconds(seen.standbyAt - cut.at)}; ` +
      `${writes.acked.size} acknowledged, 0 missing, ${writes.unavailable()} answered 503; ${onlyOld.length} unacknowledged rows only on the old primary; ` +
      `healed: rejoined as ${back.role} after ${seconds(back.rejoinMs)}${back.rewound ? ' (pg_rewind)' : ''}`;
    t.diagnostic(line);
    console.log(line);
  });
});

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runTag } from '../bench/people.ts';
import { seedTenant } from '../bench/tresor-client.ts';
import { type TresorProcess, startTresor, tresorDirs } from '../bench/tresor-process.ts';
import { type Cluster, startCluster } from './cluster.ts';
import { missingWrites, writeContinuously } from './writes.ts';

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
    // The old primary first in the host list; Tresor's transaction deadline
    // (connect + 2 × statement timeout) shortened, as for any deployment that
    // wants its connections to a vanished host dropped within seconds.
    server = await startTresor({
      env: { ...dirs.env, DATABASE_URL: c.url([old, ...[1, 2, 3].filter((n) => n !== old)]), TRESOR_DB_CONNECT_TIMEOUT_MS: '2000', TRESOR_DB_STATEMENT_TIMEOUT_MS: '4000' },
      expectToken: true,
    });
    const tenant = await seedTenant(server.url, server.token!, 'Partition GmbH');
    const writes = writeContinuously(tenant, runTag());
    let healed = false;
    t.after(async () => {
      await writes.stop();
      if (!healed) await c.heal(old).catch(() => {});
    });
    await until('writes before the cut', () => (writes.acked.size >= 100 ? true : undefined), 30_000);

    // The cut counts from just before the link goes down; only writes sent
    // once the cut is in place (cut() returns after checking it) count as
    // written after it, so none of them can have reached the old primary.
    const cutAt = Date.now();
    await c.cut(old);
    const cutDone = Date.now();
    assert.equal(await c.reachable(old), false, `a TCP connection from the root namespace to node${old} fails after the cut`);

    // Both sides at once: the new primary serving Tresor's writes, and the old
    // primary as seen from inside its own namespace.
    let firstWrite: number | undefined;
    let demoting: { at: number; answer: string } | undefined;
    let standbyAt: number | undefined;
    let promotedAt: number | undefined;
    while (firstWrite === undefined || standbyAt === undefined) {
      assert.ok(Date.now() - cutAt < 150_000, `within 150 s: first write ${firstWrite}, old primary read-only ${standbyAt}`);
      const seen = await c.sqlInside(old, 'select pg_is_in_recovery()');
      const answer = seen.ok ? seen.out : seen.error;
      if (!demoting && answer !== 'f') demoting = { at: Date.now(), answer };
      if (standbyAt === undefined && seen.ok && answer === 't') standbyAt = Date.now();
      if (promotedAt === undefined && await c.isPrimary(next)) promotedAt = Date.now();
      if (firstWrite === undefined && (firstWrite = writes.firstSuccessSince(cutDone)) !== undefined) {
        setTimeout(() => void writes.stop(), 2000); // a moment more of writes on the new primary
      }
      await sleep(250);
    }
    await writes.stop();

    assert.deepEqual(writes.wrong.slice(0, 5), [], 'every write answered 201 or a retryable 503 problem');
    const failoverMs = firstWrite - cutAt;
    assert.ok(failoverMs <= LIMIT_MS, `first write acknowledged ${failoverMs} ms after the cut (limit ${LIMIT_MS})`);
    assert.equal(await c.isPrimary(next), true, `node${next} (the synchronous standby) is the new primary`);
    assert.ok(demoting, 'the old primary stopped answering as a primary');
    assert.match(readFileSync(join(c.dir, `node${old}`, 'patroni.log'), 'utf8'), /Demoting self/, `node${old}'s Patroni demoted it`);
    const refused = await c.sqlInside(old, 'create table partition_probe (id int)');
    assert.ok(!refused.ok && /read-only/.test(refused.error), `the old primary refuses writes: ${JSON.stringify(refused)}`);

    // What the old primary holds that the new one lacks: commits it wrote to
    // its own WAL but no standby confirmed, so none may have been acknowledged.
    const oldIds = await c.sqlInside(old, 'select id from records');
    assert.ok(oldIds.ok, `records readable on the old primary: ${JSON.stringify(oldIds)}`);
    const newIds = new Set((await c.query(next, 'select id::text as id from records')).map((r) => r.id as string));
    const onlyOld = oldIds.out.split('\n').filter((id) => id && !newIds.has(id));
    assert.deepEqual(onlyOld.filter((id) => writes.acked.has(id)), [], 'no acknowledged write exists only on the old primary');
    assert.deepEqual([...writes.acked.keys()].filter((id) => !newIds.has(id)).slice(0, 5), [], 'every acknowledged write is in the new primary\'s table');
    assert.deepEqual((await missingWrites(tenant, writes.acked)).slice(0, 5), [], 'every acknowledged write reads back through Tresor');

    const healAt = Date.now();
    await c.heal(old);
    healed = true;
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
    await c.healthy();

    const rewound = /pg_rewind exit code=0/.test(readFileSync(join(c.dir, `node${old}`, 'patroni.log'), 'utf8'));
    const line = `partition of node${old}: node${next} promoted ${promotedAt ? seconds(promotedAt - cutAt) : '?'} and first write on it ${seconds(failoverMs)} after the cut; ` +
      `old primary stopped answering as primary after ${seconds(demoting.at - cutAt)} (${demoting.answer.split('\n').pop()}), read-only standby after ${seconds(standbyAt - cutAt)}; ` +
      `${writes.acked.size} acknowledged, 0 missing, ${writes.unavailable()} answered 503; ${onlyOld.length} unacknowledged rows only on the old primary; ` +
      `healed: rejoined as ${role} after ${seconds(rejoinMs)}${rewound ? ' (pg_rewind)' : ''}`;
    t.diagnostic(line);
    console.log(line);
  });
});

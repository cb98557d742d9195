import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { runTag } from '../bench/people.ts';
import { type Tenant, seedTenant } from '../bench/tresor-client.ts';
import { type TresorProcess, startTresor, tresorDirs } from '../bench/tresor-process.ts';
import { type Cluster, startCluster } from './cluster.ts';
import { missingWrites, writeContinuously } from './writes.ts';

// Tresor on a three-node Patroni cluster (synchronous mode) through a
// libpq-style multi-host URL with target_session_attrs=read-write, written to
// without pause while the primary is lost. A new primary must take writes
// within 30 s, every acknowledged write must be on it, and meanwhile writes
// answer a retryable 503 (never a wrong answer). The new primary is put at each
// position of the host list in turn: a standby ahead of it in the list is the
// case postgres.js 3.4 got wrong.

const FAILOVER_LIMIT_MS = 30_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let cluster: Cluster | undefined;
let server: TresorProcess | undefined;
let tenant: Tenant;
let token: string;
let serverLog = '';
const dirs = tresorDirs('tresor-ha-');

/** Node numbers with `node` at `position` (1-based), the others after it in order. */
function hostOrder(node: number, position: number, nodes: number): number[] {
  const rest = Array.from({ length: nodes }, (_, i) => i + 1).filter((n) => n !== node);
  rest.splice(position - 1, 0, node);
  return rest;
}

/** (Re)starts Tresor on the cluster with the hosts in this order. */
async function tresorOn(order: number[]) {
  await server?.stop();
  const first = !token;
  // Patroni's REST APIs in the same order: the TOM register reads the first that answers.
  const patroni = order.map((n) => cluster!.api(n)).join(',');
  server = await startTresor({ env: { ...dirs.env, DATABASE_URL: cluster!.url(order), TRESOR_PATRONI_URL: patroni }, expectToken: first });
  // Errors Tresor logs (level ≥ 50) and how it exited, for the failure message of a test.
  serverLog = '';
  server.child.stderr!.on('data', (d) => { serverLog = (serverLog + d).slice(-20_000); });
  server.child.stdout!.on('data', (d) => { serverLog = (serverLog + String(d).split('\n').filter((l) => /"level":(5|6)0/.test(l)).join('\n')).slice(-20_000); });
  server.child.on('exit', (code, signal) => { serverLog += `\n[tresor exited: ${code ?? signal}]`; });
  if (first) {
    token = server.token!;
    tenant = await seedTenant(server.url, token, 'Failover GmbH');
  }
  tenant = { ...tenant, url: server.url };
}

async function until(what: string, ok: () => boolean, ms: number) {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

/** The TOM register's failover evidence (measure recovery.failover), as an operator reads it. */
async function failoverEvidence(): Promise<{ status: string; facts: Record<string, unknown>; summary: { en: string } }> {
  const res = await fetch(`${server!.url}/v1/tom/entries`, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(10_000) });
  assert.equal(res.status, 200, await res.clone().text());
  const entry = ((await res.json()) as { items: { key: string; status: string; evidence: never }[] }).items.find((e) => e.key === 'recovery.failover')!;
  return entry.evidence;
}

const readyz = () => fetch(`${server!.url}/readyz`, { signal: AbortSignal.timeout(2000) }).then((r) => r.status, () => 0);

/**
 * Writes, takes the primary away (kill -9 of the node, or a planned
 * switchover), and returns the time from then to the first write acknowledged
 * by the new primary. A killed node is started again (it rejoins as a replica).
 */
async function loseThePrimary(how: 'kill' | 'switchover', position: number, note: (m: string) => void) {
  const c = cluster!;
  await c.healthy();
  const { leader, sync } = await c.roles();
  assert.ok(sync, 'synchronous mode names a synchronous standby');
  await tresorOn(hostOrder(sync, position, c.nodes));
  const healthy = await failoverEvidence();
  assert.equal(healthy.status, 'met', JSON.stringify(healthy));
  assert.deepEqual([healthy.facts.members, healthy.facts.leader, healthy.facts.healthyReplicas, healthy.facts.synchronousStandby],
    [c.nodes, `node${leader}`, c.nodes - 1, `node${sync}`], healthy.summary.en);
  const writes = writeContinuously(tenant, runTag());
  const readyzSamples: number[] = [];
  try {
    await until('writes before the failover', () => writes.acked.size >= 20, 30_000);
    if (how === 'kill') await c.kill9(leader);
    else await c.switchover(leader, sync);
    // Killed: nothing is written on the old primary from here on. Switched
    // over: the old primary takes writes until it steps down, so only writes
    // sent once the new primary is up count.
    const lostAt = Date.now();
    let promotedAt: number | undefined;
    let firstWrite: number | undefined;
    while (firstWrite === undefined && Date.now() - lostAt < 2 * FAILOVER_LIMIT_MS) {
      readyzSamples.push(await readyz());
      if (promotedAt === undefined && await c.isPrimary(sync)) promotedAt = Date.now();
      firstWrite = writes.firstSuccessSince(how === 'kill' ? lostAt : promotedAt ?? Infinity);
      await sleep(250);
    }
    await sleep(2000); // and keep writing on the new primary for a moment
    await writes.stop();

    assert.deepEqual(writes.wrong.slice(0, 5), [], `every write answered 201 or a retryable 503 problem; Tresor's log:\n${serverLog.slice(-4000)}`);
    assert.ok(firstWrite !== undefined, `no write succeeded within ${2 * FAILOVER_LIMIT_MS} ms of losing node${leader}`);
    const failoverMs = firstWrite - lostAt;
    note(`${how} of node${leader}, new primary node${sync} at position ${position} of the host list: first write after ${failoverMs} ms; ` +
      `${writes.acked.size} acknowledged, ${writes.unavailable()} answered 503 meanwhile`);
    assert.ok(failoverMs <= FAILOVER_LIMIT_MS, `first write ${failoverMs} ms after losing the primary (limit ${FAILOVER_LIMIT_MS})`);
    assert.equal(await c.isPrimary(sync), true, `node${sync} (the synchronous standby) is the new primary`);
    assert.deepEqual((await missingWrites(tenant, writes.acked)).slice(0, 5), [], 'every acknowledged write is on the new primary');
    assert.equal(await readyz(), 200, '/readyz is ready again');
    if (how === 'kill') assert.ok(readyzSamples.some((s) => s !== 200), `/readyz reported the outage (samples: ${readyzSamples.join(',')})`);
    // The evidence follows the failover, also when the lost node is the first Patroni API in the list.
    let after = await failoverEvidence();
    for (let i = 0; i < 60 && !(after.status === 'met' && after.facts.leader === `node${sync}`); i++) { await sleep(500); after = await failoverEvidence(); }
    assert.equal(after.status, 'met', JSON.stringify(after));
    assert.equal(after.facts.leader, `node${sync}`, after.summary.en);
    note(`TOM failover evidence after it: ${after.summary.en}`);
    return failoverMs;
  } finally {
    await writes.stop();
    if (how === 'kill') await c.start(leader);
  }
}

describe('failover on a Patroni cluster (npm run test:ha)', { timeout: 20 * 60_000 }, () => {
  before(async () => {
    cluster = await startCluster({ nodes: 3, sync: true });
  });
  after(async () => {
    await server?.stop().catch(() => {});
    await cluster?.stop();
    dirs.remove();
  });

  const failovers: number[] = [];

  for (const position of [3, 2]) {
    it(`kill -9 of the primary node, new primary at position ${position} of the host list`, async (t) => {
      failovers.push(await loseThePrimary('kill', position, (m) => t.diagnostic(m)));
    });
  }

  it('planned switchover, new primary at position 1 of the host list', async (t) => {
    await loseThePrimary('switchover', 1, (m) => t.diagnostic(m));
  });

  it('etcd down: the primary keeps its role and Tresor keeps taking writes', async (t) => {
    const c = cluster!;
    await c.healthy();
    const { leader } = await c.roles();
    await tresorOn([1, 2, 3]);
    const writes = writeContinuously(tenant, runTag());
    try {
      await until('writes before etcd stops', () => writes.acked.size >= 20, 30_000);
      await c.etcd('stop');
      const before = writes.acked.size;
      await sleep(30_000); // longer than the leader key's ttl (20 s): without failsafe mode the primary would demote itself
      assert.ok(await c.isPrimary(leader), `node${leader} is still the primary with etcd down`);
      await writes.stop();
      assert.deepEqual(writes.wrong.slice(0, 5), []);
      assert.equal(writes.unavailable(), 0, 'no write failed while etcd was down');
      assert.ok(writes.acked.size > before, 'writes kept being acknowledged');
      assert.deepEqual((await missingWrites(tenant, writes.acked)).slice(0, 5), []);
      t.diagnostic(`etcd down 30 s: node${leader} stayed primary, ${writes.acked.size - before} writes acknowledged meanwhile, none failed`);
    } finally {
      await writes.stop();
      await c.etcd('start');
    }
  });

  it('prints the failover time (kill -9 to first acknowledged write)', (t) => {
    assert.equal(failovers.length, 2, 'both kill -9 rounds ran');
    const line = `failover: ${failovers.map((ms) => `${(ms / 1000).toFixed(1)} s`).join(', ')} (kill -9 of the primary to the first acknowledged write, limit ${FAILOVER_LIMIT_MS / 1000} s)`;
    t.diagnostic(line);
    console.log(line);
  });
});

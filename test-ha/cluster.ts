import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import postgres from 'postgres';

// The lab cluster of ops/patroni/, driven through the same scripts an operator
// runs (cluster-start.sh, node.sh, cluster-stop.sh) and Patroni's REST API.

const run = promisify(execFile);
const scripts = new URL('../ops/patroni/', import.meta.url).pathname;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface Member { name: string; role: 'leader' | 'sync_standby' | 'replica' | string; state: string; port: number }

export interface Cluster {
  dir: string;
  nodes: number;
  /** libpq-style URL listing the nodes in this order (node numbers, 1-based). */
  url(order: number[]): string;
  /** Base URL of node n's Patroni REST API. */
  api(node: number): string;
  members(): Promise<Member[]>;
  /** Number of the node holding the leader key, and of the synchronous standby. */
  roles(): Promise<{ leader: number; sync: number | undefined }>;
  kill9(node: number): Promise<void>;
  start(node: number): Promise<void>;
  /** Takes node n off the network (clusters started with netns), checked from both sides; and back. */
  cut(node: number): Promise<void>;
  heal(node: number): Promise<void>;
  /** Whether a TCP connection from here (the root namespace, where Tresor runs) reaches node n's PostgreSQL within 2 s. */
  reachable(node: number): Promise<boolean>;
  /** A query on node n's PostgreSQL from inside its own namespace (works while it is cut off): its output, or the error. */
  sqlInside(node: number, query: string): Promise<{ ok: true; out: string } | { ok: false; error: string }>;
  /** A query on node n's PostgreSQL from here: the rows. */
  query(node: number, query: string): Promise<Record<string, unknown>[]>;
  etcd(action: 'stop' | 'start'): Promise<void>;
  switchover(leader: number, candidate: number): Promise<void>;
  /** Waits until every node runs and replicates (with a synchronous standby in synchronous mode). */
  healthy(timeoutMs?: number): Promise<void>;
  /** Whether node n is a primary, asked of its PostgreSQL directly. */
  isPrimary(node: number): Promise<boolean>;
  stop(): Promise<void>;
}

async function portsFree(base: number): Promise<boolean> {
  for (const p of [1, 2, 3, 11, 12, 13, 20, 21].map((o) => base + o)) {
    const free = await new Promise<boolean>((resolve) => {
      const srv = createServer();
      srv.once('error', () => resolve(false));
      srv.listen(p, '127.0.0.1', () => srv.close(() => resolve(true)));
    });
    if (!free) return false;
  }
  return true;
}

async function freeBase(): Promise<number> {
  for (let i = 0; i < 50; i++) {
    const base = 41000 + 100 * Math.floor(Math.random() * 180);
    if (await portsFree(base)) return base;
  }
  throw new Error('no free port range for the cluster');
}

/** netns: each node in a network namespace of its own (HA_NETNS=on), so that it can be cut off. */
export async function startCluster(opts: { nodes?: number; sync?: boolean; netns?: boolean } = {}): Promise<Cluster> {
  const nodes = opts.nodes ?? 3;
  const env: NodeJS.ProcessEnv = {
    ...process.env, HA_NODES: String(nodes), HA_SYNC: opts.sync === false ? 'off' : 'on', HA_PORT_BASE: String(await freeBase()),
    HA_NETNS: opts.netns ? 'on' : 'off',
  };
  delete env.HA_DIR;
  delete env.HA_SUBNET;
  const started = await run(join(scripts, 'cluster-start.sh'), [], { env, maxBuffer: 1 << 20 }).catch((err) => {
    throw new Error(`cluster-start.sh failed: ${err.stderr ?? err}`);
  });
  const dir = started.stdout.trim().split('\n').pop()!;
  const vars = Object.fromEntries(readFileSync(join(dir, 'cluster.env'), 'utf8').trim().split('\n').map((l) => l.split(/=(.*)/s).slice(0, 2)));
  const base = Number(vars.HA_PORT_BASE);
  const password = vars.HA_SUPERUSER_PASSWORD;
  const nodeEnv = { ...process.env, HA_DIR: dir };
  const script = (name: string, ...args: string[]) => run(join(scripts, name), args, { env: nodeEnv }).then(() => {}, (err) => {
    throw new Error(`${name} ${args.join(' ')} failed: ${err.stderr || err.message}`);
  });
  const addr = (n: number) => (vars.HA_SUBNET ? `${vars.HA_SUBNET}.${n}` : '127.0.0.1');
  const api = (n: number) => `http://${addr(n)}:${base + 10 + n}`;
  const nodeOf = (name: string) => Number(name.replace('node', ''));

  const members = async (): Promise<Member[]> => {
    for (let n = 1; n <= nodes; n++) {
      const res = await fetch(`${api(n)}/cluster`, { signal: AbortSignal.timeout(2000) }).catch(() => undefined);
      if (res?.ok) return ((await res.json()) as { members: Member[] }).members;
    }
    return [];
  };
  const roles = async () => {
    const ms = await members();
    const leader = ms.find((m) => m.role === 'leader');
    const sync = ms.find((m) => m.role === 'sync_standby');
    return { leader: leader ? nodeOf(leader.name) : 0, sync: sync ? nodeOf(sync.name) : undefined };
  };
  const query = async (n: number, text: string) => {
    const sql = postgres({ host: addr(n), port: base + n, user: 'postgres', password, database: 'tresor', max: 1, connect_timeout: 3, onnotice: () => {} });
    try {
      return [...await sql.unsafe(text)] as Record<string, unknown>[];
    } finally {
      await sql.end({ timeout: 1 });
    }
  };
  const isPrimary = (n: number) => query(n, 'select pg_is_in_recovery() as standby').then(([row]) => row.standby === false, () => false);
  const reachable = (n: number) => new Promise<boolean>((resolve) => {
    const socket = connect({ host: addr(n), port: base + n, timeout: 2000 });
    const done = (ok: boolean) => { socket.destroy(); resolve(ok); };
    socket.once('connect', () => done(true)).once('timeout', () => done(false)).once('error', () => done(false));
  });
  return {
    dir,
    nodes,
    api,
    url: (order) => `postgres://postgres:${password}@${order.map((n) => `${addr(n)}:${base + n}`).join(',')}/tresor?target_session_attrs=read-write`,
    members,
    roles,
    kill9: (n) => script('node.sh', 'kill9', String(n)),
    start: (n) => script('node.sh', 'start', String(n)),
    cut: (n) => script('node.sh', 'cut', String(n)),
    heal: (n) => script('node.sh', 'heal', String(n)),
    reachable,
    sqlInside: (n, text) => run(join(scripts, 'node.sh'), ['sql', String(n), text], { env: nodeEnv, timeout: 10_000 })
      .then((r) => ({ ok: true as const, out: r.stdout.trim() }), (err) => ({ ok: false as const, error: String(err.stderr || err.message).trim() })),
    query,
    etcd: (action) => script('node.sh', `etcd-${action}`),
    switchover: async (leader, candidate) => {
      const res = await fetch(`${api(leader)}/switchover`, {
        method: 'POST', headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ leader: `node${leader}`, candidate: `node${candidate}` }),
      });
      if (!res.ok) throw new Error(`switchover answered ${res.status}: ${await res.text()}`);
    },
    healthy: async (timeoutMs = 120_000) => {
      const until = Date.now() + timeoutMs;
      let last: Member[] = [];
      while (Date.now() < until) {
        last = await members();
        const running = last.filter((m) => m.state === 'running' || m.state === 'streaming');
        const sync = vars.HA_SYNC_BOOL === 'true' ? last.some((m) => m.role === 'sync_standby') : true;
        if (last.length === nodes && running.length === nodes && sync && last.some((m) => m.role === 'leader')) return;
        await sleep(500);
      }
      throw new Error(`cluster not healthy in ${timeoutMs} ms: ${JSON.stringify(last)}`);
    },
    isPrimary,
    stop: () => script('cluster-stop.sh'),
  };
}

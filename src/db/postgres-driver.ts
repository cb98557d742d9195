import postgres from 'postgres';
import { isIP } from 'node:net';
import { checkServerIdentity, type ConnectionOptions } from 'node:tls';
import { type Db, type LeaderLease, type Row, type TenantTx, type Tx, auditCollector, auditInsertStatement, tenantTx, transactionCounter } from './db.ts';
import { canonicalId } from '../crypto/encoding.ts';

// Errors after which the connection is gone (socket closed, backend
// terminated). postgres.js 3.4 has already moved such a connection to its
// closed set; a further write on the reserved handle (ROLLBACK, or release()
// putting it back into the open set) throws from a timer, uncatchably, and
// crashes the process (porsager/postgres#1208).
const CONNECTION_GONE = new Set(['CONNECTION_CLOSED', 'CONNECTION_ENDED', 'CONNECTION_DESTROYED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', '57P01', '57P02', '57P03']);
const connectionGone = (err: unknown) => CONNECTION_GONE.has((err as { code?: string })?.code ?? '') || /^08/.test((err as { code?: string })?.code ?? '');

/**
 * postgres.js 3.4.9 hands a query on a reserved connection straight to that
 * connection even after its socket closed silently (the server died between
 * two statements of a transaction): its write timer then throws
 * "Cannot read properties of null (reading 'write')" from nextWrite, outside
 * any promise, and the process dies. Nothing was sent, the statement's
 * transaction is lost either way, and the caller gets a retryable 503 when the
 * transaction deadline passes, which also replaces the pool. Only that error
 * is swallowed; any other uncaught exception still ends the process as Node
 * would.
 */
export function isPostgresWriteAfterClose(err: unknown): boolean {
  const stack = (err as Error)?.stack ?? '';
  return err instanceof TypeError && /reading 'write'/.test(err.message)
    && /at (Immediate\.)?nextWrite \([^)]*postgres[/\\]src[/\\]connection\.js/.test(stack.split('\n')[1] ?? '');
}

// Node's certificate verification failures (chain, expiry, host name).
const TLS_VERIFY = /^(ERR_TLS_CERT_ALTNAME_INVALID|SELF_SIGNED_CERT_IN_CHAIN|DEPTH_ZERO_SELF_SIGNED_CERT|UNABLE_TO_(GET_ISSUER_CERT(_LOCALLY)?|VERIFY_LEAF_SIGNATURE)|CERT_[A-Z_]+)$/;
export const isTlsVerifyError = (err: unknown) => TLS_VERIFY.test((err as { code?: string })?.code ?? '');

/** PostgreSQL's certificate failed verify-full: a start-up error (docs/errors.md), with Node's reason. */
export class StoreTlsError extends Error {
  readonly code = 'store.tls_failed';
  constructor(cause: Error) {
    super(`PostgreSQL's certificate was not accepted (${(cause as { code?: string }).code}: ${cause.message}); ` +
      'check TRESOR_DATABASE_CA_FILE and that the host in DATABASE_URL is named in the certificate');
  }
}

/**
 * The TLS options of verify-full with a CA file. postgres.js sends no SNI
 * name for an IP host, and Node then checks the certificate against
 * "localhost": so an IP host is checked here against the URL's IP host(s)
 * (with several, the certificate must name one of them). Without a CA file
 * (sslmode=verify-full in the URL alone) the system's CAs are the roots.
 */
function verifyFull(url: string, ca: string | undefined): ConnectionOptions {
  const authority = /^postgres(?:ql)?:\/\/(?:[^@/]*@)?([^/?]*)/.exec(url)?.[1] ?? '';
  const hosts = authority.split(',').map((h) => h.replace(/:\d*$/, '').replace(/^\[|\]$/g, '')).filter(Boolean)
    .map((h) => decodeURIComponent(h));
  return {
    ...(ca ? { ca } : {}), rejectUnauthorized: true,
    checkServerIdentity: (name, cert) => {
      // A DNS host is sent as SNI, so `name` is the host connected to: check it alone. Only for IP
      // hosts (no SNI) is the connected one unknown here, and then one of the URL's IPs must match.
      if (hosts.includes(name)) return checkServerIdentity(name, cert);
      const ips = hosts.filter((h) => isIP(h));
      const errors = (ips.length ? ips : [name]).map((h) => checkServerIdentity(h, cert));
      return errors.includes(undefined) ? undefined : errors[0];
    },
  };
}

export interface PostgresOptions {
  url: string;
  /** PEM CA certificates: TLS with the chain and the host name verified (sslmode=verify-full). */
  ca?: string;
  /** A unix socket to connect through instead of the URL's host (restore verification's scratch cluster). */
  socketPath?: string;
  poolMax: number;
  connectTimeoutMs: number;
  statementTimeoutMs: number;
}

type Sql = postgres.Sql | postgres.TransactionSql;

function queriesOf(sql: Sql): Omit<Tx, 'audit'> {
  const query: Tx['query'] = (text, params = []) => sql.unsafe(text, params as any[], { prepare: true }) as any;
  return { query, exec: async (text) => { await sql.unsafe(text); }, last: query };
}

/** A platform transaction (sql.begin): its audit entries are written when fn is done, before postgres.js commits. */
async function platformTransaction<T>(sql: postgres.TransactionSql, fn: (tx: Tx) => Promise<T>): Promise<T> {
  const entries = auditCollector();
  const q = queriesOf(sql);
  const result = await fn({ ...q, last: (text, params) => { entries.seal(); return q.query(text, params); }, audit: entries.audit });
  const insert = entries.seal();
  if (insert) await q.query(insert.text, insert.params);
  return result;
}

// BEGIN, the tenant context and the callback's first statement leave in one
// burst on a reserved connection, and a final statement (tx.last) takes its
// COMMIT along: a one-statement transaction costs one round trip. The tenant
// id is spliced into the simple-protocol text only after a strict UUID check.
// After the final statement the tx refuses further queries: they would run
// outside the transaction, without the RLS role.
async function pipelinedTransaction<T>(conn: postgres.ReservedSql, tenantId: string, fn: (tx: TenantTx) => Promise<T>): Promise<T> {
  let commit: Promise<unknown> | undefined;
  const entries = auditCollector();
  const query: Tx['query'] = (text, params = []) => {
    if (commit) return Promise.reject(new Error('transaction already ended by its final statement'));
    return conn.unsafe(text, params as any[], { prepare: true }).execute() as any;
  };
  // The audit INSERT (if any) and COMMIT are queued right behind the final
  // statement: one round trip for all three. If the INSERT fails, PostgreSQL
  // answers the COMMIT with a rollback and the INSERT's error is thrown.
  let written: Promise<unknown> = Promise.resolve();
  const end = () => {
    const insert = entries.seal();
    if (insert) written = query(insert.text, insert.params);
    commit = conn.unsafe('commit').execute();
    // Not awaited when the transaction fails on a lost connection: without
    // a handler their rejection would be unhandled and end the process.
    written.catch(() => {});
    commit.catch(() => {});
  };
  const tx: TenantTx = tenantTx({
    query,
    exec: async (text) => { await query(text); },
    last: <R extends Row = Row>(text: string, params: unknown[] = []) => {
      const result = query<R>(text, params);
      if (!commit) end();
      return result;
    },
    audit: entries.audit,
  }, tenantId);
  // postgres.js queries are lazy: execute() queues BEGIN and the context now,
  // ahead of fn's first statement. Left to Promise.all they would be queued
  // after it, and that statement would run outside the transaction as the
  // session user, without RLS (test/security/rls.test.ts).
  const begin = conn.unsafe(`begin; select set_config('app.tenant_id', '${tenantId}', true), set_config('role', 'tresor_app', true)`).execute();
  let result: T;
  try {
    [, result] = await Promise.all([begin, fn(tx)]);
    if (!commit) end();
    await written;
  } catch (err) {
    // A failed statement turns a pipelined COMMIT into a rollback; on a
    // connection that is gone nothing more may be written.
    if (!connectionGone(err)) await (commit ?? conn.unsafe('rollback')).catch(() => {});
    throw err;
  }
  await (commit ?? conn.unsafe('commit'));
  return result;
}

/** Rejects with a retryable TRANSACTION_TIMEOUT once ms pass; the work itself is left to finish or fail. */
function withDeadline<T>(ms: number, work: () => Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const running = work();
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(Object.assign(new Error(`database transaction took longer than ${ms} ms`), { code: 'TRANSACTION_TIMEOUT' })), ms);
  });
  running.catch(() => {}); // settled after the deadline: nobody awaits it any more
  return Promise.race([running, expired]).finally(() => clearTimeout(timer));
}

// A session advisory lock lives as long as its session, so leadership uses a
// client of its own with one connection (a pooled or reserved connection that
// dies cannot be written to safely, porsager/postgres#1208). Each check asks
// "does this session hold the lock, else can it take it": after a lost
// connection the client reconnects as a new session, which leads again only if
// no other node took the lock meanwhile.
const HOLD_OR_TAKE = `select case when exists (select 1 from pg_locks where locktype = 'advisory' and classid = 0
  and objid::bigint = $1::bigint and objsubid = 1 and pid = pg_backend_pid() and granted) then true else pg_try_advisory_lock($1::bigint) end as ok`;

function leaderLocks(open: () => postgres.Sql) {
  let client: postgres.Sql | undefined;
  const holds = async (key: number) => {
    client ??= open();
    const [row] = await client.unsafe(HOLD_OR_TAKE, [key]);
    return row.ok === true;
  };
  const end = async () => { const c = client; client = undefined; await c?.end({ timeout: 5 }); };
  return {
    async lock(key: number): Promise<LeaderLease | null> {
      if (!(await holds(key))) return null;
      return { alive: () => holds(key).catch(() => false), release: end };
    },
    end,
  };
}

// libpq's target_session_attrs=read-write asks the server whether a session
// would be read-only; postgres.js 3.4 answers from default_transaction_read_only
// instead, which is off on a hot standby, so after a failover it settled on a
// standby and every write failed. For the servers Tresor supports (PostgreSQL
// >= 15 report in_hot_standby) `primary` asks the question libpq asks.
export function sessionTarget(url: string): 'primary' | undefined {
  const query = url.includes('?') ? new URLSearchParams(url.slice(url.indexOf('?') + 1)) : undefined;
  return query?.get('target_session_attrs') === 'read-write' ? 'primary' : undefined;
}

const RETIRES_POOL = new Set(['25006', 'TRANSACTION_TIMEOUT']);
const retiresPool = (err: unknown) => RETIRES_POOL.has((err as { code?: string })?.code ?? '');

// A pool whose connections sit on a demoted node keeps failing writes with
// 25006 (read-only transaction); one whose transaction outlived the deadline
// holds a connection to a node that stopped answering (frozen, cut off) and
// will not give it back. Its connections were all opened against the cluster
// as it was, so the whole pool is replaced: new connections look for the
// primary again, and the old pool's sockets are closed after 5 s.
function recyclingPool(open: () => postgres.Sql) {
  let current = open();
  const retired = new Set<Promise<void>>();
  const recycle = (failed: postgres.Sql) => {
    if (current !== failed) return; // another caller already replaced it
    current = open();
    const ending = failed.end({ timeout: 5 }).catch(() => {});
    retired.add(ending);
    ending.finally(() => retired.delete(ending));
  };
  return {
    /** Runs work on the current pool; a read-only error or a missed deadline retires that pool. */
    use<T>(work: (sql: postgres.Sql) => Promise<T>): Promise<T> {
      const sql = current;
      return work(sql).catch((err) => {
        if (retiresPool(err)) recycle(sql);
        throw err;
      });
    },
    end: async () => { await Promise.all([current.end({ timeout: 5 }), ...retired]); },
  };
}

// reserve() waits for a connection to the primary; while a failover runs every
// host may be down or a standby and postgres.js keeps trying without a bound.
// The caller gets a retryable CONNECT_TIMEOUT after connectTimeoutMs, and a
// connection that arrives after that goes straight back to the pool.
async function reserveWithin(sql: postgres.Sql, ms: number): Promise<postgres.ReservedSql> {
  let late = false;
  const reserving = sql.reserve();
  reserving.then((conn) => { if (late) conn.release(); }, () => {});
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      late = true;
      reject(Object.assign(new Error(`no connection to the primary within ${ms} ms`), { code: 'CONNECT_TIMEOUT' }));
    }, ms);
  });
  try {
    return await Promise.race([reserving, expired]);
  } finally {
    clearTimeout(timer);
  }
}

export function openPostgres(opts: PostgresOptions): Db {
  const connect = (max: number, idleTimeout: number) => postgres(opts.url, {
    max,
    ...(opts.socketPath ? { path: opts.socketPath } : {}),
    ...(opts.ca || /[?&](sslmode=verify-full|sslrootcert=system)(&|$)/.test(opts.url) ? { ssl: verifyFull(opts.url, opts.ca) } : {}),
    connect_timeout: Math.ceil(opts.connectTimeoutMs / 1000),
    idle_timeout: idleTimeout,
    target_session_attrs: sessionTarget(opts.url),
    onnotice: () => {},
    connection: {
      application_name: 'tresor',
      statement_timeout: opts.statementTimeoutMs,
      idle_in_transaction_session_timeout: opts.statementTimeoutMs,
    },
  });
  const pool = recyclingPool(() => connect(opts.poolMax, 60));
  // The leader's one connection never idles out: its session is the lock.
  const leader = leaderLocks(() => connect(1, 0));
  // Server-side timeouts bound each statement; this bounds the wait for a
  // connection and the whole transaction on our side, so a caller never waits
  // forever on a connection the driver lost track of (or on a primary that a
  // failover has not elected yet).
  const deadlineMs = opts.connectTimeoutMs + 2 * opts.statementTimeoutMs;
  const query: Tx['query'] = (text, params) => pool.use((sql) => withDeadline(deadlineMs, () => queriesOf(sql).query(text, params)));
  const open = transactionCounter();
  return {
    kind: 'postgres',
    query,
    last: query,
    transactionsInFlight: open.count,
    // Not under the deadline: migrations run here and may legitimately take long.
    transaction: (fn) => open.track(() => pool.use((sql) => sql.begin((tx) => platformTransaction(tx, fn)) as Promise<any>)),
    appendAudit: (entries) => pool.use(async (sql) => {
      const insert = auditInsertStatement(entries);
      await sql.unsafe(insert.text, insert.params as any[], { prepare: true });
    }),
    withTenant: (tenantId, fn) => open.track(() => pool.use((sql) => withDeadline(deadlineMs, async () => {
      canonicalId(tenantId, 'withTenant: tenant id');
      const conn = await reserveWithin(sql, opts.connectTimeoutMs);
      let gone = false;
      try {
        return await pipelinedTransaction(conn, tenantId, fn);
      } catch (err) {
        gone = connectionGone(err);
        throw err;
      } finally {
        if (!gone) conn.release();
      }
    }))),
    leaderLock: leader.lock,
    exec: (text) => pool.use((sql) => queriesOf(sql).exec(text)),
    close: async () => { await leader.end(); await pool.end(); },
  };
}

import postgres from 'postgres';
import type { Db, Tx } from './db.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface PostgresOptions {
  url: string;
  poolMax: number;
  connectTimeoutMs: number;
  statementTimeoutMs: number;
}

type Sql = postgres.Sql | postgres.TransactionSql;

function txOf(sql: Sql): Tx {
  return {
    query: (text, params = []) => sql.unsafe(text, params as any[], { prepare: true }) as any,
    exec: async (text) => { await sql.unsafe(text); },
  };
}

export function openPostgres(opts: PostgresOptions): Db {
  const sql = postgres(opts.url, {
    max: opts.poolMax,
    connect_timeout: Math.ceil(opts.connectTimeoutMs / 1000),
    idle_timeout: 60,
    onnotice: () => {},
    connection: {
      application_name: 'tresor',
      statement_timeout: opts.statementTimeoutMs,
      idle_in_transaction_session_timeout: opts.statementTimeoutMs,
    },
  });
  const base = txOf(sql);
  return {
    kind: 'postgres',
    query: base.query,
    transaction: (fn) => sql.begin((tx) => fn(txOf(tx))) as Promise<any>,
    withTenant: async (tenantId, fn) => {
      // BEGIN, the tenant context and the callback's first statement leave in
      // one pipelined burst on a reserved connection: one round trip and one
      // socket write instead of three. The tenant id is spliced into the
      // simple-protocol text only after a strict UUID check.
      if (!UUID.test(tenantId)) throw new Error('withTenant: tenant id must be a UUID');
      const conn = await sql.reserve();
      try {
        // postgres.js queries are lazy: execute() queues BEGIN and the context
        // now, ahead of fn's first statement. Left to Promise.all, they would
        // be queued after it, and that statement would run outside the
        // transaction as the session user, without RLS.
        const begin = conn.unsafe(`begin; select set_config('app.tenant_id', '${tenantId}', true), set_config('role', 'tresor_app', true)`).execute();
        let result;
        try {
          [, result] = await Promise.all([begin, fn(txOf(conn))]);
        } catch (err) {
          await conn.unsafe('rollback').catch(() => {});
          throw err;
        }
        await conn.unsafe('commit');
        return result;
      } finally {
        conn.release();
      }
    },
    exec: base.exec,
    close: () => sql.end({ timeout: 5 }),
  };
}

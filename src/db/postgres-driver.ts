import postgres from 'postgres';
import { type Db, type Tx, TENANT_CONTEXT_SQL } from './db.ts';

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
    withTenant: (tenantId, fn) =>
      sql.begin(async (tx) => {
        // Sent without waiting, so the context and the first statement travel
        // in one round trip (postgres.js pipelines on the reserved connection).
        const context = tx.unsafe(TENANT_CONTEXT_SQL, [tenantId], { prepare: true });
        const [, result] = await Promise.all([context, fn(txOf(tx))]);
        return result;
      }) as Promise<any>,
    exec: base.exec,
    close: () => sql.end({ timeout: 5 }),
  };
}

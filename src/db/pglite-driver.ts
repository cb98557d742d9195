import { mkdirSync } from 'node:fs';
import { PGlite, type Transaction } from '@electric-sql/pglite';
import { type Db, type Tx, TENANT_CONTEXT_SQL, tenantTx, transactionCounter } from './db.ts';
import { canonicalId } from '../crypto/encoding.ts';

function txOf(pg: PGlite | Transaction): Tx {
  const query: Tx['query'] = async (text, params = []) => (await pg.query<any>(text, params as any[])).rows;
  return { query, exec: async (text) => { await pg.exec(text); }, last: query };
}

/** dataDir undefined → an in-memory store (tests). */
export async function openPglite(dataDir: string | undefined): Promise<Db> {
  // PGlite creates only the last path segment; the parents may not exist yet.
  if (dataDir) mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const pg = await PGlite.create(dataDir ? { dataDir } : {});
  const base = txOf(pg);
  const open = transactionCounter();
  return {
    kind: 'pglite',
    query: base.query,
    last: base.query,
    transactionsInFlight: open.count,
    transaction: (fn) => open.track(() => pg.transaction((tx) => fn(txOf(tx)))),
    withTenant: async (tenantId, fn) => {
      canonicalId(tenantId, 'withTenant: tenant id');
      return open.track(() => pg.transaction(async (tx) => {
        await tx.query(TENANT_CONTEXT_SQL, [tenantId]);
        return fn(tenantTx(txOf(tx), tenantId));
      }));
    },
    // The embedded store has one owner process (the data-dir lock): it always leads.
    leaderLock: async () => ({ alive: async () => !pg.closed, release: async () => {} }),
    exec: base.exec,
    close: async () => {
      if (pg.closed) return;
      await pg.query('checkpoint');
      await pg.close();
    },
  };
}

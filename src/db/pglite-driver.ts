import { mkdirSync } from 'node:fs';
import { PGlite, type Transaction } from '@electric-sql/pglite';
import { type Db, type Tx, TENANT_CONTEXT_SQL, auditCollector, auditInsertStatement, tenantTx, transactionCounter } from './db.ts';
import { canonicalId } from '../crypto/encoding.ts';

type Queries = Omit<Tx, 'audit'>;

function queriesOf(pg: PGlite | Transaction): Queries {
  const query: Tx['query'] = async (text, params = []) => (await pg.query<any>(text, params as any[])).rows;
  return { query, exec: async (text) => { await pg.exec(text); }, last: query };
}

/**
 * Runs fn in the transaction and writes its audit entries last, before
 * PGlite commits. As on PostgreSQL, no entry is taken after the final
 * statement, so code behaves the same on both stores.
 */
async function auditedTransaction<T>(pg: Transaction, fn: (tx: Tx) => Promise<T>): Promise<T> {
  const entries = auditCollector();
  const q = queriesOf(pg);
  const tx: Tx = {
    ...q,
    last: (text, params) => { entries.seal(); return q.query(text, params); },
    audit: entries.audit,
  };
  const result = await fn(tx);
  const insert = entries.seal();
  if (insert) await pg.query(insert.text, insert.params as any[]);
  return result;
}

/** dataDir undefined → an in-memory store (tests). loadDataDir: a snapshot (tar) to start from (restore). */
export async function openPglite(dataDir: string | undefined, opts: { loadDataDir?: Blob } = {}): Promise<Db> {
  // PGlite creates only the last path segment; the parents may not exist yet.
  if (dataDir) mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const pg = await PGlite.create({ ...(dataDir ? { dataDir } : {}), ...(opts.loadDataDir ? { loadDataDir: opts.loadDataDir } : {}) });
  const base = queriesOf(pg);
  const open = transactionCounter();
  return {
    kind: 'pglite',
    query: base.query,
    last: base.query,
    transactionsInFlight: open.count,
    transaction: (fn) => open.track(() => pg.transaction((tx) => auditedTransaction(tx, fn))),
    appendAudit: async (entries) => {
      const insert = auditInsertStatement(entries);
      await pg.query(insert.text, insert.params as any[]);
    },
    withTenant: async (tenantId, fn) => {
      canonicalId(tenantId, 'withTenant: tenant id');
      return open.track(() => pg.transaction(async (pgTx) => {
        await pgTx.query(TENANT_CONTEXT_SQL, [tenantId]);
        return auditedTransaction(pgTx, (tx) => fn(tenantTx(tx, tenantId)));
      }));
    },
    // The embedded store has one owner process (the data-dir lock): it always leads.
    leaderLock: async () => ({ alive: async () => !pg.closed, release: async () => {} }),
    exec: base.exec,
    // Inside a transaction no other one can start (PGlite runs one at a time),
    // and dumpDataDir copies the files between statements: the copy is the
    // committed state plus this read-only transaction, which recovery discards.
    // The checkpoint first leaves little WAL to replay on restore.
    snapshot: (read) => open.track(() => pg.transaction(async (tx) => {
      await tx.query('checkpoint');
      const result = await read(queriesOf(tx));
      return { result, tar: await pg.dumpDataDir('none') };
    })),
    close: async () => {
      if (pg.closed) return;
      await pg.query('checkpoint');
      await pg.close();
    },
  };
}

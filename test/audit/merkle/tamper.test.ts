import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { backends, copyStore, type BackendName, type TestStore } from '../../helpers/backends.ts';
import { startTestApp } from '../../helpers/test-app.ts';
import { tresor } from '../../cli/run-cli.ts';
import { writeEntries } from './entries.ts';
import { signingKeyFor, signingKeyFromSeed } from '../../../src/crypto/signing.ts';
import { AUDIT_SIGNING_PURPOSE, treeHeadInput } from '../../../src/audit/merkle/tree-head.ts';
import type { Db, Tx } from '../../../src/db/db.ts';
import { verifyLog } from '../../../src/audit/merkle/verify.ts';
import { openRootKey } from '../../../src/keys/root-key.ts';
import { readSavedHead } from '../../../src/cli/audit-commands.ts';

// The tampering runs on the owner's (superuser's) connection with triggers
// off, as a database administrator could; `tresor audit verify` must name
// the first bad seq. 40 entries in batches of 8: heads at 0, 8, 16, 24, 32, 40.
// Every case is checked with the verifier the CLI runs (verifyLog, with the
// public key the CLI derives from the root key) on the tampered copy; the CLI
// itself runs for the untouched log and for the truncated tail caught by a
// saved head, so its exit codes, --json, --head and stderr stay covered.
const ENTRIES = 40;

// Entries the app itself wrote while being set up come first: seqs below are counted from them.
let base = 0;

/**
 * One store for every case: the 40 entries written and sequenced, a head
 * saved; then this process lets go of it, and each case changes a copy.
 */
async function arrange(backend: BackendName) {
  const t = await startTestApp(backend, { onDisk: true, env: { TRESOR_AUDIT_SEQUENCE_BATCH: '8' } });
  // Whatever the set-up wrote (request-log entries are written on a timer) is
  // written and sequenced now, and no request is made until the 40 are, so
  // nothing lands among them.
  await t.services.requestLog.flush();
  await t.services.sequencer.sequence();
  base = (await t.store.db.query<{ n: number }>('select count(*)::int as n from audit_log'))[0]!.n;
  await t.store.db.transaction((tx) => writeEntries(tx, null, ENTRIES));
  await t.services.sequencer.sequence();
  const headFile = join(t.store.dir, 'head.json');
  writeFileSync(headFile, (await t.call('GET', '/v1/audit/tree-head')).body);
  if (JSON.parse(readFileSync(headFile, 'utf8')).treeSize !== base + ENTRIES) {
    await t.close(); // an app left open would keep the test process alive
    assert.fail(`the saved head should cover ${base + ENTRIES} entries`);
  }
  await t.services.rotation.idle();
  await t.app.close();
  await t.store.db.close();
  return { store: t.store, headFile };
}

const tamper = (db: Db, fn: (tx: Tx) => Promise<unknown>) => db.transaction(async (tx) => {
  await tx.query("set local session_replication_role = 'replica'");
  await fn(tx);
});

const entryOf = async (tx: Tx, seq: number) => Number((await tx.query('select entry_id::text as id from audit_log where seq = $1', [base + seq]))[0]!.id);

/** Runs the CLI on a copy of the arranged store, changed first by `act` when given. */
async function verify(store: TestStore, act: ((tx: Tx) => Promise<unknown>) | null, args: string[] = []) {
  const copy = await copyStore(store);
  try {
    if (act) {
      const db = await copy.open();
      try { await tamper(db, act); } finally { await db.close(); }
    }
    return await tresor(['audit', 'verify', ...args], { TRESOR_DATA_DIR: join(store.dir, 'data'), ...copy.env,
      TRESOR_KEY_FILE: join(store.dir, 'keys', 'root.key'), LOG_LEVEL: 'silent' });
  } finally {
    await copy.drop();
  }
}

const firstBad = (stderr: string) => Number(/first bad seq (\d+)/.exec(stderr)?.[1]);

const AUDIT_TABLES = ['audit_entries', 'audit_log', 'audit_tree_nodes', 'audit_tree_heads'];

/**
 * What `tresor audit verify` computes, run in this process on one copy of the
 * arranged store: the audit tables are kept aside once, and put back (with
 * triggers off, as the tampering) after each case, which must then verify again.
 */
async function inProcessVerifier(store: TestStore, headFile: string) {
  const copy = await copyStore(store);
  const db = await copy.open(); // one connection (PostgreSQL too): a case's temp table is dropped on it
  const publicKey = signingKeyFor(await openRootKey(store.config, db), AUDIT_SIGNING_PURPOSE).publicKey;
  const saved = readSavedHead(headFile); // as the CLI reads it for --head
  await db.transaction(async (tx) => { for (const t of AUDIT_TABLES) await tx.query(`create table kept_${t} as select * from ${t}`); });
  const firstBad = async (withHead: boolean) => (await verifyLog(db, publicKey, { saved: withHead ? saved : undefined })).firstBad?.seq ?? null;
  assert.equal(await firstBad(true), null, 'the copy verifies before any change');
  return {
    /** The first bad seq of the copy changed by `act`, or null. */
    async run(act: (tx: Tx) => Promise<unknown>, withHead: boolean) {
      try {
        await tamper(db, act);
        return await firstBad(withHead);
      } finally {
        await tamper(db, async (tx) => {
          await tx.query('drop table if exists moved');
          for (const t of AUDIT_TABLES) await tx.query(`delete from ${t}`);
          for (const t of AUDIT_TABLES) await tx.query(`insert into ${t} select * from kept_${t}`);
        });
        assert.equal(await firstBad(true), null, 'the copy is put back as it was');
      }
    },
    close: async () => { await db.close(); await copy.drop(); },
  };
}

const cases: { name: string; seq: number; withHead?: boolean; act: (tx: Tx) => Promise<unknown> }[] = [
  { name: 'one field of one entry changed', seq: 13, act: async (tx) =>
    tx.query(`update audit_entries set leaf = convert_to(replace(convert_from(leaf, 'UTF8'), 'records.read', 'records.list'), 'UTF8') where id = $1`, [await entryOf(tx, 13)]) },
  { name: 'one entry deleted', seq: 21, act: async (tx) => tx.query('delete from audit_entries where id = $1', [await entryOf(tx, 21)]) },
  { name: 'one entry and its log row deleted, later seqs moved down', seq: 9, act: async (tx) => {
    await tx.query('delete from audit_entries where id = $1', [await entryOf(tx, 9)]);
    await tx.query('create temp table moved as select seq - 1 as seq, entry_id from audit_log where seq > $1', [base + 9]);
    await tx.query('delete from audit_log where seq >= $1', [base + 9]);
    await tx.query('insert into audit_log select * from moved');
  } },
  { name: 'a forged entry inserted, later seqs moved up', seq: 17, act: async (tx) => {
    const leaf = Buffer.from(JSON.stringify({ action: 'records.read', actor: 'nobody', at: 16.5, tenant: null }));
    const [forged] = await tx.query(`insert into audit_entries (tenant_id, created_at, kind, action, leaf, leaf_hash)
      values (null, now(), 'data', 'records.read', $1, sha256('\\x00'::bytea || $1)) returning id::text as id`, [leaf]);
    await tx.query('create temp table moved as select seq + 1 as seq, entry_id from audit_log where seq >= $1', [base + 17]);
    await tx.query('delete from audit_log where seq >= $1', [base + 17]);
    await tx.query('insert into audit_log select * from moved');
    await tx.query('insert into audit_log values ($1, $2)', [base + 17, Number(forged!.id)]);
  } },
  { name: 'a forged entry inserted behind the sequencer', seq: 0, act: (tx) => tx.query(`insert into audit_entries (id, tenant_id, created_at, kind, action, leaf, leaf_hash)
      values (0, null, now(), 'data', 'records.read', '\\x7b7d', sha256('\\x007b7d'::bytea))`) },
  { name: 'two entries swapped', seq: 5, act: async (tx) => {
    const [a, b] = [await entryOf(tx, 5), await entryOf(tx, 6)];
    await tx.query('update audit_log set entry_id = -1 where seq = $1', [base + 5]);
    await tx.query('update audit_log set entry_id = $1 where seq = $2', [a, base + 6]);
    await tx.query('update audit_log set entry_id = $1 where seq = $2', [b, base + 5]);
  } },
  { name: 'tail truncated (entries, log, subtrees and heads), caught with the saved head', seq: 30, withHead: true, act: async (tx) => {
    await tx.query('delete from audit_entries where id in (select entry_id from audit_log where seq >= $1)', [base + 30]);
    await tx.query('delete from audit_log where seq >= $1', [base + 30]);
    await tx.query('delete from audit_tree_nodes where (index + 1) * (2 ^ level)::bigint > $1', [base + 30]);
    await tx.query('delete from audit_tree_heads where tree_size > $1', [base + 30]);
  } },
  { name: 'a tree head\'s root altered', seq: 16, act: (tx) => tx.query(`update audit_tree_heads set root_hash = sha256(root_hash) where tree_size = $1`, [base + 24]) },
  { name: 'a tree head\'s signature altered', seq: 24, act: (tx) => tx.query(`update audit_tree_heads set signature = overlay(signature placing '\\x00' from 1 for 1) where tree_size = $1`, [base + 32]) },
  { name: 'a tree head re-signed with another key', seq: 8, act: async (tx) => {
    const other = signingKeyFromSeed(randomBytes(32));
    const [h] = await tx.query('select timestamp_ms::text as ts, root_hash as root from audit_tree_heads where tree_size = $1', [base + 16]);
    const root = Buffer.from(randomBytes(32));
    const sig = other.sign(treeHeadInput(base + 16, Number(h!.ts), root));
    await tx.query('update audit_tree_heads set root_hash = $1, signature = $2, key_id = $3 where tree_size = $4', [root, sig, other.keyId, base + 16]);
  } },
];
const truncated = cases.find((c) => c.withHead)!;

for (const backend of backends) {
  describe(`[${backend}] tresor audit verify: the tamper matrix`, () => {
    let arranged: Awaited<ReturnType<typeof arrange>>;
    let verifier: Awaited<ReturnType<typeof inProcessVerifier>>;
    before(async () => {
      arranged = await arrange(backend);
      verifier = await inProcessVerifier(arranged.store, arranged.headFile);
    });
    after(async () => { await verifier?.close(); await arranged?.store.close(); });

    test('an untouched log verifies (exit 0), against its stored heads and a saved head', async () => {
      const run = await verify(arranged.store, null, ['--head', arranged.headFile, '--json']);
      assert.equal(run.code, 0, run.stderr + run.stdout);
      const out = JSON.parse(run.stdout);
      assert.equal(out.ok, true);
      assert.equal(out.entries, base + ENTRIES);
    });

    for (const c of cases) {
      test(`${c.name}: first bad seq ${c.seq}`, async () => {
        // Behind the sequencer (id 0) sorts before everything: seq 0 whatever came first.
        assert.equal(await verifier.run(c.act, !!c.withHead), c.seq === 0 ? 0 : base + c.seq);
      });
    }

    test(`the CLI on "${truncated.name}": exit 1, first bad seq ${truncated.seq} on stderr`, async () => {
      const run = await verify(arranged.store, truncated.act, ['--head', arranged.headFile]);
      assert.equal(run.code, 1, run.stdout + run.stderr);
      assert.equal(firstBad(run.stderr), base + truncated.seq, run.stderr);
    });

    test('a truncated tail without a saved head is not detectable: the saved head is what proves it', async () => {
      assert.equal(await verifier.run(truncated.act, false), null);
    });
  });
}

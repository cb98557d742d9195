import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { backends } from '../../helpers/backends.ts';
import { startTestApp, seedTenant, type TestApp } from '../../helpers/test-app.ts';
import { assertProblem } from '../../helpers/problem.ts';
import { leafHash, verifyConsistency, verifyInclusion } from '../../../src/audit/merkle/tree.ts';
import { treeHeadInput } from '../../../src/audit/merkle/tree-head.ts';
import { verifyEd25519 } from '../../../src/crypto/signing.ts';
import { writeEntries } from './entries.ts';

const b = (s: string) => Buffer.from(s, 'base64');

for (const backend of backends) {
  describe(`[${backend}] audit log API`, () => {
    let t: TestApp;
    let acme: Awaited<ReturnType<typeof seedTenant>>;
    let other: Awaited<ReturnType<typeof seedTenant>>;
    before(async () => {
      t = await startTestApp(backend, { env: { TRESOR_AUDIT_SEQUENCE_BATCH: '7' } });
      acme = await seedTenant(t, 'Acme');
      other = await seedTenant(t, 'Other');
    });
    after(() => t.close());

    test('before the sequencer ran there is no head; its first run signs the empty tree', async () => {
      assertProblem(await t.call('GET', '/v1/audit/tree-head'), 404, 'audit.no_tree_head');
      await t.services.sequencer.sequence();
      const head = (await t.call('GET', '/v1/audit/tree-head')).json();
      assert.ok(head.treeSize >= 0);
    });

    test('entries get seqs in batches; every head is signed over the 50 documented bytes by the published key', async () => {
      await t.store.db.transaction(async (tx) => { await writeEntries(tx, acme.tenantId, 10); await writeEntries(tx, other.tenantId, 10, 10); });
      const before = (await t.call('GET', '/v1/audit/tree-head')).json().treeSize;
      // The request log writes its entries on a timer: written now, none arrives between the two runs below.
      await t.services.requestLog.flush();
      const sequenced = await t.services.sequencer.sequence();
      // At least ours: the request log's flushed entries come along.
      assert.ok(sequenced >= 20);
      assert.equal(await t.services.sequencer.sequence(), 0);
      const pub = (await t.call('GET', '/v1/audit/public-key', { token: 'none' })).json();
      assert.equal(pub.algorithm, 'Ed25519');
      const head = (await t.call('GET', '/v1/audit/tree-head')).json();
      assert.equal(head.treeSize, before + sequenced);
      assert.equal(head.keyId, pub.keyId);
      const input = treeHeadInput(head.treeSize, head.timestamp, b(head.rootHash));
      assert.equal(input.length, 50);
      assert.equal(verifyEd25519(b(pub.publicKey), input, b(head.signature)), true);
    });

    test('an entry by seq carries the very bytes hashed; its inclusion proof verifies against the signed root', async () => {
      const head = (await t.call('GET', '/v1/audit/tree-head')).json();
      for (let seq = 0; seq < head.treeSize; seq += 3) {
        const entry = (await t.call('GET', `/v1/audit/entries/${seq}`)).json();
        assert.equal(entry.seq, seq);
        assert.deepEqual(entry.entry, JSON.parse(b(entry.leaf).toString('utf8')));
        const proof = (await t.call('GET', `/v1/audit/proofs/inclusion?seq=${seq}&treeSize=${head.treeSize}`)).json();
        assert.equal(verifyInclusion(seq, head.treeSize, leafHash(b(entry.leaf)), proof.auditPath.map(b), b(head.rootHash)), true, `seq ${seq}`);
      }
    });

    test('consistency proofs link every earlier head to the latest', async () => {
      const old = (await t.call('GET', '/v1/audit/tree-head')).json();
      await t.store.db.transaction((tx) => writeEntries(tx, acme.tenantId, 5, 100));
      await t.services.sequencer.sequence();
      const now = (await t.call('GET', '/v1/audit/tree-head')).json();
      const res = (await t.call('GET', `/v1/audit/proofs/consistency?first=${old.treeSize}&second=${now.treeSize}`)).json();
      assert.equal(verifyConsistency(old.treeSize, now.treeSize, b(old.rootHash), b(now.rootHash), res.proof.map(b)), true);
    });

    test('a tenant key reads only its own tenant\'s entries; another tenant\'s seq answers 404', async () => {
      // The first entries of each tenant are those seedTenant's API calls left (tenant.create, …).
      const size = (await t.call('GET', '/v1/audit/tree-head')).json().treeSize;
      const tenantAt: Array<string | null> = [];
      for (let seq = 0; seq < size; seq++) tenantAt.push((await t.call('GET', `/v1/audit/entries/${seq}`)).json().entry.tenantId ?? null);
      const [acmeSeq, otherSeq] = [tenantAt.indexOf(acme.tenantId), tenantAt.indexOf(other.tenantId)];
      assert.ok(acmeSeq >= 0 && otherSeq >= 0);
      const own = await t.call('GET', `/v1/audit/entries/${acmeSeq}`, { token: acme.adminKey });
      assert.equal(own.statusCode, 200);
      assert.equal(own.json().entry.tenantId, acme.tenantId);
      assertProblem(await t.call('GET', `/v1/audit/entries/${otherSeq}`, { token: acme.adminKey }), 404, 'audit.entry_not_found');
      assert.equal((await t.call('GET', `/v1/audit/entries/${otherSeq}`, { token: other.adminKey })).statusCode, 200);
      assertProblem(await t.call('GET', '/v1/audit/tree-head', { token: acme.key.replace(/.$/, 'x') }), 401, 'auth.invalid_credentials');
    });

    test('out-of-range seqs and sizes answer problems', async () => {
      const size = (await t.call('GET', '/v1/audit/tree-head')).json().treeSize;
      assertProblem(await t.call('GET', `/v1/audit/entries/${size}`), 404, 'audit.entry_not_found');
      assertProblem(await t.call('GET', `/v1/audit/proofs/inclusion?seq=3&treeSize=${size + 1}`), 422, 'audit.tree_size_out_of_range');
      assertProblem(await t.call('GET', '/v1/audit/proofs/inclusion?seq=3&treeSize=3'), 422, 'audit.seq_out_of_range');
      assertProblem(await t.call('GET', '/v1/audit/proofs/consistency?first=5&second=4'), 422, 'audit.tree_size_out_of_range');
      assertProblem(await t.call('GET', '/v1/audit/proofs/inclusion?seq=-1&treeSize=3'), 400, 'request.validation_failed');
    });

    test('the log tables are append-only, even for the owner', async () => {
      await assert.rejects(t.store.db.query('update audit_log set entry_id = entry_id + 1 where seq = 0'), /append-only/);
      await assert.rejects(t.store.db.query('delete from audit_tree_heads'), /append-only/);
      await assert.rejects(t.store.db.query('truncate audit_tree_nodes'), /append-only/);
    });
  });
}

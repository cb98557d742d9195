// The seam every audited change goes through: tx.audit(entry) collects entries
// that the driver writes just before COMMIT, so an entry commits with its
// change or not at all, and the table only ever grows.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { v7 as uuidv7 } from 'uuid';
import { backends, openTestStore, type TestStore } from '../helpers/backends.ts';
import { canonicalJson, leafHash } from '../../src/audit/audit-leaf.ts';

const actor = { type: 'api_key' as const, id: '0190a000-0000-7000-8000-000000000001', role: 'admin', name: 'not in the log', tenantId: null };

for (const backend of backends) {
  describe(`tx.audit [${backend}]`, () => {
    let s: TestStore;
    const tenantA = uuidv7();
    const tenantB = uuidv7();
    const entriesOf = async (tenantId: string) =>
      s.db.query<{ action: string; leaf: Uint8Array; leaf_hash: Uint8Array; record_ids: unknown }>(
        `select action, leaf, leaf_hash, (select coalesce(jsonb_agg(r.record_id), '[]') from audit_record_refs r where r.entry_id = e.id) as record_ids
         from audit_entries e where tenant_id = $1 order by id`, [tenantId]);

    before(async () => {
      s = await openTestStore(backend);
      await s.db.query("insert into tenants (id, name) values ($1, 'A'), ($2, 'B')", [tenantA, tenantB]);
    });
    after(async () => s.close());

    it('writes the entries of a committed tenant transaction, leaf = canonical JSON, leaf_hash = SHA-256(0x00 ‖ leaf)', async () => {
      const recordId = uuidv7();
      await s.db.withTenant(tenantA, async (tx) => {
        tx.audit({ action: 'record.create', actor, collection: 'customers', recordIds: [recordId], fields: ['name', 'email'] });
        tx.audit({ action: 'record.read', actor, collection: 'customers', recordIds: [recordId] });
        await tx.last("select set_config('app.x', 'y', true)");
      });
      const rows = await entriesOf(tenantA);
      assert.deepEqual(rows.map((r) => r.action), ['record.create', 'record.read']);
      const text = Buffer.from(rows[0].leaf).toString('utf8');
      const parsed = JSON.parse(text);
      assert.equal(text, canonicalJson(parsed), 'leaf bytes are canonical (sorted keys, no spaces)');
      assert.deepEqual(Object.keys(parsed), [...Object.keys(parsed)].sort());
      assert.deepEqual(parsed.actor, { type: 'api_key', id: actor.id, role: 'admin' }, 'the actor is ids only');
      assert.equal(parsed.tenantId, tenantA);
      assert.deepEqual(parsed.fields, ['name', 'email']);
      assert.deepEqual(rows[0].record_ids, [recordId]);
      assert.deepEqual(Buffer.from(rows[0].leaf_hash), leafHash(Buffer.from(rows[0].leaf)));
    });

    it('writes nothing when the transaction rolls back, nor when its final statement fails', async () => {
      const before = (await entriesOf(tenantB)).length;
      await assert.rejects(s.db.withTenant(tenantB, async (tx) => {
        tx.audit({ action: 'record.delete', actor, collection: 'customers', recordIds: [uuidv7()] });
        await tx.query('select 1');
        throw new Error('change refused');
      }), /change refused/);
      await assert.rejects(s.db.withTenant(tenantB, async (tx) => {
        tx.audit({ action: 'record.create', actor, collection: 'customers', recordIds: [uuidv7()] });
        await tx.last('select 1 / 0');
      }), /division by zero/);
      assert.equal((await entriesOf(tenantB)).length, before);
    });

    it('refuses an entry added after the final statement (it would miss the commit)', async () => {
      await assert.rejects(s.db.withTenant(tenantB, async (tx) => {
        await tx.last('select 1');
        tx.audit({ action: 'record.read', actor, collection: 'customers', recordIds: [] });
      }), /after the transaction's final statement/);
    });

    it('writes the entries of a platform transaction, with the tenant it names or none', async () => {
      await s.db.transaction(async (tx) => {
        tx.audit({ action: 'operator_key.create', actor, tenantId: null, target: { type: 'api_key', id: uuidv7() } });
        tx.audit({ action: 'tenant.create', actor, tenantId: tenantB, target: { type: 'tenant', id: tenantB } });
      });
      const platform = await s.db.query<{ n: number }>("select count(*)::int as n from audit_entries where tenant_id is null and action = 'operator_key.create'");
      assert.equal(platform[0].n, 1);
      assert.ok((await entriesOf(tenantB)).some((r) => r.action === 'tenant.create'));
    });

    it('a tenant transaction sees only its own tenant\'s entries and cannot write another\'s', async () => {
      const seen = await s.db.withTenant(tenantA, (tx) => tx.query<{ tenant_id: string }>('select tenant_id from audit_entries'));
      assert.ok(seen.length > 0);
      assert.deepEqual([...new Set(seen.map((r) => r.tenant_id))], [tenantA]);
      await assert.rejects(s.db.withTenant(tenantA, (tx) => tx.query(
        `insert into audit_entries (tenant_id, created_at, kind, action, leaf, leaf_hash) values ($1, now(), 'data', 'x', '\\x7b7d', sha256('\\x007b7d'::bytea))`,
        [tenantB])), /row-level security/);
    });

    it('is append-only: UPDATE, DELETE and TRUNCATE are refused to the app role and to the owner', async () => {
      for (const sql of ["update audit_entries set action = 'forged'", 'delete from audit_entries', 'delete from audit_record_refs']) {
        await assert.rejects(s.db.withTenant(tenantA, (tx) => tx.query(sql)), /permission denied/, `app role: ${sql}`);
        await assert.rejects(s.db.query(sql), /append-only/, `owner: ${sql}`);
      }
      await assert.rejects(s.db.withTenant(tenantA, (tx) => tx.query('truncate audit_entries')), /permission denied/);
      // Both at once, so it is the trigger that refuses, not the foreign key between them.
      await assert.rejects(s.db.query('truncate audit_entries, audit_record_refs'), /append-only/);
      await assert.rejects(s.db.query('truncate audit_record_refs'), /append-only/);
      // Even with retention's switch on, the owner may only blank an entry, never alter it.
      await assert.rejects(s.db.transaction(async (tx) => {
        await tx.query("select set_config('tresor.audit_redact', 'on', true)");
        await tx.query("update audit_entries set action = 'forged'");
      }), /append-only/);
      assert.equal((await s.db.query("select count(*)::int as n from audit_entries where action = 'forged'"))[0].n, 0);
    });
  });
}

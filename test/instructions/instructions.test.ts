// Order control: a tenant's instructions, versioned and confirmed by an
// operator, decide which purposes records are processed for. This file runs
// with the production default (TRESOR_REQUIRE_INSTRUCTION unset).
import { randomUUID } from 'node:crypto';
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { backends, testConfig } from '../helpers/backends.ts';
import { type TestApp, startTestApp } from '../helpers/test-app.ts';
import { assertProblem } from '../helpers/problem.ts';
import { type Listener, listen } from '../helpers/listeners.ts';
import { instructionRequired } from '../../src/config.ts';
import { TransferError } from '../../src/transfer/egress.ts';

const instruction = (purposes: string[], transfers: unknown[] = []) => ({
  purposes: purposes.map((id) => ({ id, description: `processing for ${id}` })),
  dataCategories: ['contact data'], retention: '24 months after the end of the contract', recipients: ['tax advisor'], transfers,
});
const fields = [{ name: 'email', type: 'email', unique: true }, { name: 'plan', type: 'string', classification: 'none' }];

describe('TRESOR_REQUIRE_INSTRUCTION', () => {
  it('is on by default in production, off in staging and test, and can be set either way', () => {
    const unset = { TRESOR_REQUIRE_INSTRUCTION: '' };
    assert.equal(instructionRequired(testConfig('/tmp/x', unset)), true);
    assert.equal(instructionRequired(testConfig('/tmp/x', { ...unset, TRESOR_ENVIRONMENT: 'staging' })), false);
    assert.equal(instructionRequired(testConfig('/tmp/x', { ...unset, TRESOR_ENVIRONMENT: 'test' })), false);
    assert.equal(instructionRequired(testConfig('/tmp/x', { TRESOR_REQUIRE_INSTRUCTION: 'off' })), false);
    assert.equal(instructionRequired(testConfig('/tmp/x', { TRESOR_ENVIRONMENT: 'test', TRESOR_REQUIRE_INSTRUCTION: 'on' })), true);
    assert.throws(() => testConfig('/tmp/x', { TRESOR_REQUIRE_INSTRUCTION: 'yes' }), /must be one of on, off/);
  });
});

for (const backend of backends) {
  describe(`instructions [${backend}]`, () => {
    let t: TestApp;
    let us: Listener;
    let tenantId: string, owner: string, admin: string, otherAdmin: string;
    const base = () => `/v1/tenants/${tenantId}`;
    const create = (collection: string, token = admin) => t.call('POST', `${base()}/collections/${collection}/records`, { token, body: { data: { email: `${randomUUID()}@example.com`, plan: 'basic' } } });
    const events = async (type: string) => ((await t.call('GET', `${base()}/security-events?type=${type}`, { token: owner })).json().items as
      { type: string; actor: { id: string }; detail: Record<string, unknown> }[]);

    before(async () => {
      us = await listen();
      t = await startTestApp(backend, { env: { TRESOR_REQUIRE_INSTRUCTION: '', TRESOR_EGRESS_ALLOW: `US ${us.origin}/ internal` } });
      tenantId = (await t.call('POST', '/v1/tenants', { body: { name: 'Acme' } })).json().id;
      owner = (await t.call('POST', `${base()}/api-keys`, { body: { name: 'owner', role: 'owner' } })).json().key;
      admin = (await t.call('POST', `${base()}/api-keys`, { body: { name: 'admin', role: 'admin' } })).json().key;
      const other = (await t.call('POST', '/v1/tenants', { body: { name: 'Other' } })).json().id;
      otherAdmin = (await t.call('POST', `/v1/tenants/${other}/api-keys`, { body: { name: 'admin', role: 'admin' } })).json().key;
      for (const [name, purposes] of [['customers', ['billing']], ['prospects', ['newsletter']], ['scratch', undefined]] as const) {
        const res = await t.call('POST', `${base()}/collections`, { token: admin, body: { name, fields, ...(purposes ? { purposes } : {}) } });
        assert.equal(res.statusCode, 201, res.body);
        assert.deepEqual(res.json().purposes, purposes ?? []);
      }
    });
    after(async () => { await t.close(); await us.close(); });

    it('without a confirmed instruction, production refuses processing with 403 instruction.not_covered, recorded and audited', async () => {
      assertProblem(await create('customers'), 403, 'instruction.not_covered');
      assertProblem(await t.call('GET', `${base()}/collections/customers/records`, { token: admin }), 403, 'instruction.not_covered');
      const [e] = await events('instruction.not_covered');
      assert.deepEqual(e.detail, { reason: 'no_confirmed_instruction', collection: 'customers', operation: 'read', purposes: ['billing'], version: null });
      const audit = (await t.call('GET', `${base()}/audit?action=security_event.instruction.not_covered`, { token: owner })).json().items;
      assert.equal(audit.length, 2);
      assert.equal((await t.call('GET', `${base()}/instructions`, { token: owner })).json().current, null);
    });

    it('an entered but unconfirmed version does not count', async () => {
      const res = await t.call('POST', `${base()}/instructions`, { token: owner, body: instruction(['billing']) });
      assert.equal(res.statusCode, 201, res.body);
      assert.deepEqual([res.json().version, res.json().confirmed, res.json().enteredBy.role], [1, false, 'owner']);
      assertProblem(await create('customers'), 403, 'instruction.not_covered');
    });

    it('only an operator confirms: the owner and the admin get 403, another tenant 404', async () => {
      assertProblem(await t.call('POST', `${base()}/instructions/1/confirm`, { token: owner }), 403, 'auth.forbidden');
      assertProblem(await t.call('POST', `${base()}/instructions/1/confirm`, { token: admin }), 403, 'auth.forbidden');
      assertProblem(await t.call('GET', `${base()}/instructions`, { token: otherAdmin }), 404, 'tenant.not_found');
      assertProblem(await t.call('POST', `${base()}/instructions/1/confirm`, { token: otherAdmin }), 404, 'tenant.not_found');
      assert.equal((await t.call('GET', `${base()}/instructions/1`, { token: owner })).json().confirmed, false);
    });

    it('once an operator confirms, the owner sees the confirmation and covered purposes are processed at once', async () => {
      const res = await t.call('POST', `${base()}/instructions/1/confirm`);
      assert.equal(res.statusCode, 200, res.body);
      const seen = (await t.call('GET', `${base()}/instructions`, { token: owner })).json();
      assert.equal(seen.current, 1);
      assert.equal(seen.items[0].confirmedBy.type, 'api_key');
      assert.ok(seen.items[0].confirmedAt);
      assert.deepEqual((await events('instruction.confirmed')).map((e) => e.detail), [{ version: 1 }]);
      assert.equal((await create('customers')).statusCode, 201);
      assertProblem(await t.call('POST', `${base()}/instructions/1/confirm`), 409, 'instruction.already_confirmed');
      assertProblem(await t.call('POST', `${base()}/instructions/9/confirm`), 404, 'instruction.not_found');
    });

    it('a collection whose purposes the instruction does not name is refused on every path: write, read, search, import', async () => {
      assertProblem(await create('prospects'), 403, 'instruction.not_covered');
      assertProblem(await t.call('GET', `${base()}/collections/prospects/records`, { token: admin }), 403, 'instruction.not_covered');
      assertProblem(await t.call('POST', `${base()}/collections/prospects/records/search`, { token: admin, body: { where: { email: 'a@example.com' } } }),
        403, 'instruction.not_covered');
      const imported = await t.app.inject({ method: 'POST', url: `${base()}/collections/prospects/records/import`,
        headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/x-ndjson' }, payload: '{"email":"b@example.com"}\n' });
      assertProblem(imported, 403, 'instruction.not_covered');
      assertProblem(await create('scratch'), 403, 'instruction.not_covered');
      const details = (await events('instruction.not_covered')).slice(0, 5).map((e) => [e.detail.reason, e.detail.operation, e.detail.collection]);
      assert.deepEqual(details, [['no_purpose', 'write', 'scratch'], ['purpose_not_covered', 'import', 'prospects'],
        ['purpose_not_covered', 'search', 'prospects'], ['purpose_not_covered', 'read', 'prospects'], ['purpose_not_covered', 'write', 'prospects']]);
    });

    it('an API key bound to purposes acts only for those its collection serves', async () => {
      const bound = async (purposes: string[]) => {
        const res = await t.call('POST', `${base()}/api-keys`, { token: admin, body: { name: `for ${purposes}`, role: 'editor', purposes } });
        assert.equal(res.statusCode, 201, res.body);
        assert.deepEqual(res.json().purposes, purposes);
        return res.json().key as string;
      };
      assertProblem(await create('customers', await bound(['analytics'])), 403, 'instruction.not_covered');
      assert.equal((await create('customers', await bound(['billing', 'analytics']))).statusCode, 201);
      const [e] = await events('instruction.not_covered');
      assert.deepEqual([e.detail.reason, e.detail.purposes], ['no_purpose', []]);
    });

    it('a newer version counts only once confirmed, and then covers what it names', async () => {
      assert.equal((await t.call('POST', `${base()}/instructions`, { token: admin, body: instruction(['billing', 'newsletter']) })).json().version, 2);
      assertProblem(await create('prospects'), 403, 'instruction.not_covered');
      assert.equal((await t.call('POST', `${base()}/instructions/2/confirm`)).statusCode, 200);
      assert.equal((await create('prospects')).statusCode, 201);
      const history = (await t.call('GET', `${base()}/instructions`, { token: owner })).json();
      assert.deepEqual([history.current, history.items.map((i: { version: number }) => i.version)], [2, [2, 1]]);
    });

    it('bad instructions are refused with 422 and change nothing', async () => {
      assertProblem(await t.call('POST', `${base()}/instructions`, { token: owner, body: instruction(['a', 'a']) }), 422, 'instruction.invalid');
      assertProblem(await t.call('POST', `${base()}/instructions`, { token: owner,
        body: instruction(['a'], [{ destination: 'ftp://x.example/', country: 'US', mechanism: 'scc' }]) }), 422, 'instruction.invalid');
      assertProblem(await t.call('POST', `${base()}/instructions`, { token: owner,
        body: instruction(['a'], [{ destination: 'https://x.example/', country: 'US', mechanism: 'trust_me' }]) }), 400, 'request.validation_failed');
      assert.equal((await t.call('GET', `${base()}/instructions`, { token: owner })).json().items.length, 2);
    });

    it('a transfer outside the EU/EEA leaves only once a confirmed instruction names the destination with a mechanism', async () => {
      const send = () => t.services.egress.send({ tenantId, purpose: 'test_delivery', url: `${us.origin}/in`, body: '{}' });
      await assert.rejects(send(), (err: unknown) => err instanceof TransferError && err.code === 'transfer.outside_eea');
      const transfers = [{ destination: `${us.origin}/`, country: 'US', mechanism: 'scc' }];
      const v = (await t.call('POST', `${base()}/instructions`, { token: owner, body: instruction(['billing', 'newsletter'], transfers) })).json().version;
      await assert.rejects(send(), (err: unknown) => err instanceof TransferError && err.code === 'transfer.outside_eea'); // not confirmed yet
      assert.equal((await t.call('POST', `${base()}/instructions/${v}/confirm`)).statusCode, 200);
      assert.equal((await send()).status, 204);
      assert.equal(us.received.length, 1);
      const log = (await t.call('GET', `${base()}/audit?action=transfer`, { token: owner })).json().items
        .map((i: { entry: { detail: Record<string, unknown> } }) => [i.entry.detail.outcome, i.entry.detail.country, i.entry.detail.mechanism]);
      assert.deepEqual(log, [['sent', 'US', 'scc'], ['refused', 'US', null], ['refused', 'US', null]]);
    });
  });
}

// Every route that changes (or reads) data leaves its audit entries, visible
// through the audit API; a refused or rolled-back change leaves none. New
// mutating routes fail the coverage check until they get a case here.
import { randomUUID } from 'node:crypto';
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { backends } from '../helpers/backends.ts';
import { seedTenant, startTestApp, type TestApp } from '../helpers/test-app.ts';
import { asUser, login, manualClock, onboard } from '../helpers/people.ts';

type Entry = { action?: string; kind: string; actor: { type: string; id: string } | null; collection?: string; recordIds?: string[];
  fields?: string[]; target?: { type: string; id: string }; detail?: Record<string, unknown> };

const person = (i: number) => ({ email: `walker${i}@audit.example`, name: `Walker ${i}`, phone: '+4930901820', tier: 'gold' });

for (const backend of backends) {
  describe(`audit entries for every data route [${backend}]`, () => {
    let t: TestApp;
    let a: Awaited<ReturnType<typeof seedTenant>>;
    let keyId: string;
    const log = async (tenantId: string, query: string) => {
      const res = await t.call('GET', `/v1/tenants/${tenantId}/audit?limit=500&${query}`);
      assert.equal(res.statusCode, 200, res.body);
      return res.json().items.map((i: { entry: Entry }) => i.entry) as Entry[];
    };
    const platformLog = async (query: string) => {
      const res = await t.call('GET', `/v1/audit/export?limit=500&${query}`);
      assert.equal(res.statusCode, 200, res.body);
      return res.json().items.map((i: { entry: Entry }) => i.entry) as Entry[];
    };
    /** Runs a refused request and checks it added no entry with that action. */
    const leavesNone = async (tenantId: string, action: string, run: () => Promise<{ statusCode: number }>, status: number) => {
      const before = (await log(tenantId, `action=${action}`)).length;
      assert.equal((await run()).statusCode, status);
      assert.equal((await log(tenantId, `action=${action}`)).length, before, `a refused ${action} left an entry`);
    };
    const create = async (i: number) => {
      const res = await t.call('POST', a.base, { token: a.key, body: { data: person(i) } });
      assert.equal(res.statusCode, 201, res.body);
      return res.json().id as string;
    };

    before(async () => {
      t = await startTestApp(backend, { env: { TRESOR_KEY_CACHE_TTL_MS: '100', TRESOR_EGRESS_ALLOW: 'DE http://127.0.0.1:9/ internal' }, now: clock.now });
      a = await seedTenant(t, 'Walked');
      keyId = (await log(a.tenantId, 'action=api_key.create'))[0].target!.id;
    });
    after(async () => t.close());

    // People: one user onboarded through the public API, reused by the identity cases.
    const clock = manualClock(Date.now());
    let person1: Awaited<ReturnType<typeof onboard>> | undefined;
    const owner = async () => (person1 ??= await onboard(t, clock, a.tenantId, { email: 'owner@audit.example', role: 'owner' }));
    const about = async (action: string, userId: string, tenantId: string | null = a.tenantId) =>
      (tenantId ? await log(tenantId, `action=${action}`) : await platformLog(`action=${action}`)).filter((e) => e.target?.id === userId);
    const invited = async (role: string) => {
      const res = await t.call('POST', `/v1/tenants/${a.tenantId}/users`, { token: a.adminKey, body: { email: `${role}-${randomUUID()}@audit.example`, role } });
      assert.equal(res.statusCode, 201, res.body);
      return res.json();
    };
    const subProcessor = { name: 'Walked Hosting', service: 'hosting', country: 'DE', dataCategories: ['all'], dpaDate: '2026-01-15' };
    const addSubProcessor = async () => {
      const res = await t.call('POST', '/v1/sub-processors', { body: subProcessor });
      assert.equal(res.statusCode, 201, res.body);
      return res.json() as { id: string; change: { id: string } };
    };
    const openIncident = async () => {
      const at = new Date(clock.now().getTime() - 3_600_000).toISOString();
      const res = await t.call('POST', '/v1/incidents', { body: { title: 'Walked', category: 'integrity', severity: 'low', detectedAt: at, awareAt: at,
        affectedSystems: [], dataCategories: [], description: 'walk' } });
      assert.equal(res.statusCode, 201, res.body);
      return res.json().id as string;
    };
    const aboutIncident = async (action: string, id: string) => (await platformLog(`action=${action}`)).filter((e) => e.target?.id === id);
    const incidentCases: Record<string, () => Promise<void>> = {
      async openIncident() {
        const id = await openIncident();
        const [entry] = await aboutIncident('incident.open', id);
        assert.deepEqual(entry.detail, { kind: 'opened', seq: 1, category: 'integrity', severity: 'low', rule: null });
        const before = (await platformLog('action=incident.open')).length;
        assert.equal((await t.call('POST', '/v1/incidents', { body: { title: 'x', category: 'integrity', severity: 'low', detectedAt: new Date(clock.now().getTime() + 60_000).toISOString(),
          awareAt: new Date(clock.now().getTime() + 60_000).toISOString(), affectedSystems: [], dataCategories: [], description: 'x' } })).statusCode, 422);
        assert.equal((await platformLog('action=incident.open')).length, before);
      },
      async addIncidentEvent() {
        const id = await openIncident();
        assert.equal((await t.call('POST', `/v1/incidents/${id}/events`, { body: { kind: 'note', note: 'walked' } })).statusCode, 201);
        assert.deepEqual((await aboutIncident('incident.event', id))[0].detail, { kind: 'note', seq: 2 });
      },
      async decideIncident() {
        const id = await openIncident();
        assert.equal((await t.call('POST', `/v1/incidents/${id}/decision`, { body: { notifiable: false, reason: 'walk' } })).statusCode, 200);
        assert.deepEqual((await aboutIncident('incident.decide', id))[0].detail, { kind: 'decision', seq: 2, notifiable: false, authorityNotified: false });
      },
      async computeIncidentAffected() {
        const id = await openIncident();
        const from = new Date(clock.now().getTime() - 3_600_000).toISOString();
        const res = await t.call('POST', `/v1/incidents/${id}/affected`, { body: { actorId: keyId, from, to: clock.now().toISOString() } });
        assert.equal(res.statusCode, 200, res.body);
        assert.equal((await aboutIncident('incident.affected', id)).filter((e) => e.detail!.kind === 'affected_computed').length, 1);
      },
      async closeIncident() {
        const id = await openIncident();
        const before = (await platformLog('action=incident.close')).length;
        assert.equal((await t.call('POST', `/v1/incidents/${id}/close`, { body: { lessonsLearned: 'walk' } })).statusCode, 409);
        assert.equal((await platformLog('action=incident.close')).length, before);
        await t.call('POST', `/v1/incidents/${id}/decision`, { body: { notifiable: false, reason: 'walk' } });
        assert.equal((await t.call('POST', `/v1/incidents/${id}/close`, { body: { lessonsLearned: 'walk' } })).statusCode, 200);
        assert.equal((await aboutIncident('incident.close', id)).length, 1);
      },
    };
    const subProcessorCases: Record<string, () => Promise<void>> = {
      async createSubProcessor() {
        const sp = await addSubProcessor();
        const [entry] = (await platformLog('action=sub_processor.create')).filter((e) => e.target!.id === sp.id);
        assert.equal(entry.detail!.changeId, sp.change.id);
        assert.equal(entry.detail!.country, 'DE');
      },
      async updateSubProcessor() {
        const sp = await addSubProcessor();
        assert.equal((await t.call('PUT', `/v1/sub-processors/${sp.id}`, { body: { ...subProcessor, country: 'FR' } })).statusCode, 200);
        const [entry] = (await platformLog('action=sub_processor.update')).filter((e) => e.target!.id === sp.id);
        assert.equal(entry.detail!.country, 'FR');
      },
      async removeSubProcessor() {
        const sp = await addSubProcessor();
        assert.equal((await t.call('DELETE', `/v1/sub-processors/${sp.id}`)).statusCode, 200);
        assert.equal((await platformLog('action=sub_processor.remove')).filter((e) => e.target!.id === sp.id).length, 1);
        const before = (await platformLog('action=sub_processor.remove')).length;
        assert.equal((await t.call('DELETE', `/v1/sub-processors/${sp.id}`)).statusCode, 404);
        assert.equal((await platformLog('action=sub_processor.remove')).length, before);
      },
      async objectToSubProcessorChange() {
        const sp = await addSubProcessor();
        const owner = (await t.call('POST', `/v1/tenants/${a.tenantId}/api-keys`, { body: { name: 'owner', role: 'owner' } })).json().key;
        const url = `/v1/tenants/${a.tenantId}/sub-processors/objections`;
        const res = await t.call('POST', url, { token: owner, body: { changeId: sp.change.id, reason: 'not this one' } });
        assert.equal(res.statusCode, 201, res.body);
        const [entry] = await log(a.tenantId, 'action=sub_processor.object');
        assert.deepEqual([entry.target, entry.detail], [{ type: 'sub_processor_change', id: sp.change.id }, { objectionId: res.json().id }]);
        await leavesNone(a.tenantId, 'sub_processor.object', () => t.call('POST', url, { token: owner, body: { changeId: sp.change.id, reason: 'twice' } }), 409);
      },
      async setNotificationTarget() {
        const url = `/v1/tenants/${a.tenantId}/notification-target`;
        const res = await t.call('PUT', url, { token: a.adminKey, body: { url: 'http://127.0.0.1:9/walk' } });
        assert.equal(res.statusCode, 200, res.body);
        const [entry] = await log(a.tenantId, 'action=notification_target.set');
        assert.deepEqual(entry.detail, { origin: 'http://127.0.0.1:9' });
        await leavesNone(a.tenantId, 'notification_target.set', () => t.call('PUT', url, { token: a.adminKey, body: { url: 'https://elsewhere.example/' } }), 422);
      },
    };
    const identityCases: Record<string, () => Promise<void>> = {
      async inviteUser() {
        const u = await owner();
        const [entry] = await about('user.invite', u.userId);
        assert.deepEqual(entry.detail, { role: 'owner' });
        assert.doesNotMatch(JSON.stringify(entry), /audit\.example/, 'no e-mail in the log');
      },
      async acceptInvitation() { assert.equal((await about('user.accept_invitation', (await owner()).userId)).length, 1); },
      async enrollMfa() { assert.equal((await about('user.mfa_enroll', (await owner()).userId)).length, 1); },
      async confirmMfaEnrollment() { assert.equal((await about('user.mfa_confirm', (await owner()).userId)).length, 1); },
      async login() {
        const u = await owner();
        await login(t, clock, a.tenantId, 'owner@audit.example', u.secret);
        assert.ok((await about('user.login_password', u.userId)).length >= 1);
      },
      async verifyMfa() {
        const u = await owner();
        const s = await login(t, clock, a.tenantId, 'owner@audit.example', u.secret);
        const me = (await asUser(t, 'GET', '/v1/auth/me', s)).json();
        assert.ok((await about('session.create', u.userId)).some((e) => e.detail?.sessionId === me.sessionId));
      },
      async updateUser() {
        const u = await invited('viewer');
        assert.equal((await t.call('PATCH', `/v1/tenants/${a.tenantId}/users/${u.id}`, { token: a.adminKey, body: { role: 'editor' } })).statusCode, 200);
        assert.deepEqual((await about('user.update', u.id))[0].detail, { role: 'editor', status: 'invited' });
      },
      async resetUserMfa() {
        const u = await invited('viewer');
        assert.equal((await t.call('POST', `/v1/tenants/${a.tenantId}/users/${u.id}/mfa-reset`)).statusCode, 200);
        assert.equal((await about('user.mfa_reset', u.id))[0].actor!.type, 'api_key');
      },
      async issuePasswordReset() {
        const u = await owner();
        const s = await login(t, clock, a.tenantId, 'owner@audit.example', u.secret);
        const target = await onboard(t, clock, a.tenantId, { email: 'reset@audit.example', role: 'viewer', inviter: a.adminKey });
        const issued = await asUser(t, 'POST', `/v1/tenants/${a.tenantId}/users/${target.userId}/password-reset`, s);
        assert.equal(issued.statusCode, 201, issued.body);
        assert.equal((await about('user.password_reset_issue', target.userId))[0].actor!.id, u.userId);
        const done = await asUser(t, 'POST', '/v1/auth/password/reset', null, { token: issued.json().token, newPassword: 'granite lilac meridian 5' });
        assert.equal(done.statusCode, 204, done.body);
      },
      async completePasswordReset() {
        const [target] = (await log(a.tenantId, 'action=user.password_reset_issue'));
        assert.ok(target, 'issuePasswordReset ran first');
        assert.equal((await about('user.password_reset', target.target!.id)).length, 1);
      },
      async changePassword() {
        const u = await onboard(t, clock, a.tenantId, { email: 'changer@audit.example', role: 'viewer', inviter: a.adminKey });
        const res = await asUser(t, 'POST', '/v1/auth/password', u.session, { currentPassword: u.password, newPassword: 'cobalt thistle ember 8' });
        assert.equal(res.statusCode, 204, res.body);
        assert.equal((await about('user.password_change', u.userId)).length, 1);
      },
      async logout() {
        const u = await onboard(t, clock, a.tenantId, { email: 'leaving@audit.example', role: 'viewer', inviter: a.adminKey });
        assert.equal((await asUser(t, 'POST', '/v1/auth/logout', u.session)).statusCode, 204);
        assert.equal((await about('session.end', u.userId))[0].detail?.sessionId !== undefined, true);
      },
      async logoutAll() {
        const u = await onboard(t, clock, a.tenantId, { email: 'everywhere@audit.example', role: 'viewer', inviter: a.adminKey });
        assert.equal((await asUser(t, 'POST', '/v1/auth/logout-all', u.session)).statusCode, 204);
        assert.equal((await about('session.end_all', u.userId)).length, 1);
      },
      async invitePlatformUser() {
        const res = await t.call('POST', '/v1/users', { body: { email: 'support@audit.example', role: 'support' } });
        assert.equal(res.statusCode, 201, res.body);
        assert.deepEqual((await about('user.invite', res.json().id, null))[0].detail, { role: 'support' });
      },
      async updatePlatformUser() {
        const id = (await t.call('POST', '/v1/users', { body: { email: 'ops2@audit.example', role: 'operator' } })).json().id;
        assert.equal((await t.call('PATCH', `/v1/users/${id}`, { body: { status: 'deactivated' } })).statusCode, 200);
        assert.deepEqual((await about('user.update', id, null))[0].detail, { role: 'operator', status: 'deactivated' });
      },
      async resetPlatformUserMfa() {
        const id = (await t.call('POST', '/v1/users', { body: { email: 'ops3@audit.example', role: 'operator' } })).json().id;
        assert.equal((await t.call('POST', `/v1/users/${id}/mfa-reset`)).statusCode, 200);
        assert.equal((await about('user.mfa_reset', id, null)).length, 1);
      },
    };

    const supportGrant = async () => {
      const support = (await t.call('POST', '/v1/operator-keys', { body: { name: 'helpdesk', role: 'support' } })).json().key;
      const res = await t.call('POST', `/v1/tenants/${a.tenantId}/support-grants`, { token: support, body: { reason: 'ticket 4711', minutes: 30 } });
      assert.equal(res.statusCode, 201, res.body);
      return res.json() as { id: string };
    };
    const cases: Record<string, () => Promise<void>> = {
      ...identityCases,
      async createTenant() {
        const [tenant] = await log(a.tenantId, 'action=tenant.create');
        assert.deepEqual(tenant.target, { type: 'tenant', id: a.tenantId });
        assert.equal(tenant.actor!.type, 'api_key');
        assert.deepEqual((await log(a.tenantId, 'action=key.create')).map((e) => e.target!.type).sort(), ['data_key', 'index_key']);
      },
      async createApiKey() {
        const res = await t.call('POST', `/v1/tenants/${a.tenantId}/api-keys`, { body: { name: 'Key named after a person', role: 'viewer' } });
        const [entry] = await log(a.tenantId, 'action=api_key.create');
        assert.deepEqual(entry.target, { type: 'api_key', id: res.json().id });
        assert.deepEqual(entry.detail, { role: 'viewer' });
        assert.doesNotMatch(JSON.stringify(entry), /named after/, 'a key name is not logged');
        // For a tenant that does not exist the insert fails after the entry was
        // added: the rollback takes the entry with it.
        const before = (await platformLog('action=api_key.create')).length;
        const missing = await t.call('POST', '/v1/tenants/0190a000-0000-7000-8000-00000000beef/api-keys', { body: { name: 'x', role: 'viewer' } });
        assert.equal(missing.statusCode, 404, missing.body);
        assert.equal((await platformLog('action=api_key.create')).length, before);
      },
      async revokeApiKey() {
        const id = (await t.call('POST', `/v1/tenants/${a.tenantId}/api-keys`, { body: { name: 'short-lived', role: 'viewer' } })).json().id;
        assert.equal((await t.call('DELETE', `/v1/tenants/${a.tenantId}/api-keys/${id}`)).statusCode, 204);
        assert.deepEqual((await log(a.tenantId, 'action=api_key.revoke'))[0].target, { type: 'api_key', id });
        await leavesNone(a.tenantId, 'api_key.revoke', () =>
          t.call('DELETE', `/v1/tenants/${a.tenantId}/api-keys/0190a000-0000-7000-8000-00000000dead`), 404);
      },
      async createSupportGrant() {
        const grant = await supportGrant();
        const [entry] = (await log(a.tenantId, 'action=security_event.support_grant.requested')).filter((e) => e.detail?.grantId === grant.id);
        assert.equal(entry.actor!.type, 'api_key');
        assert.doesNotMatch(JSON.stringify(entry), /ticket 4711/, 'the reason is not logged');
      },
      async approveSupportGrant() {
        const grant = await supportGrant();
        const owner = (await t.call('POST', `/v1/tenants/${a.tenantId}/api-keys`, { body: { name: 'owner', role: 'owner' } })).json().key;
        const res = await t.call('POST', `/v1/tenants/${a.tenantId}/support-grants/${grant.id}/approve`, { token: owner });
        assert.equal(res.statusCode, 200, res.body);
        assert.equal((await log(a.tenantId, 'action=security_event.support_grant.approved')).filter((e) => e.detail?.grantId === grant.id).length, 1);
        await leavesNone(a.tenantId, 'security_event.support_grant.approved', () =>
          t.call('POST', `/v1/tenants/${a.tenantId}/support-grants/${grant.id}/approve`, { token: owner }), 409);
      },
      async setSupportSettings() {
        const owner = (await t.call('POST', `/v1/tenants/${a.tenantId}/api-keys`, { body: { name: 'owner', role: 'owner' } })).json().key;
        const res = await t.call('PUT', `/v1/tenants/${a.tenantId}/support-settings`, { token: owner, body: { preauthorized: false } });
        assert.equal(res.statusCode, 200, res.body);
        const [entry] = await log(a.tenantId, 'action=security_event.support_settings.changed');
        assert.deepEqual(entry.detail?.preauthorized, false);
      },
      async setAuthPolicy() {
        const res = await t.call('PUT', `/v1/tenants/${a.tenantId}/auth-policy`, { token: a.adminKey, body: { passwordHistory: 3 } });
        assert.equal(res.statusCode, 200, res.body);
        const [entry] = await log(a.tenantId, 'action=security_event.auth_policy.changed');
        assert.equal(entry.detail?.passwordHistory, 3);
        await leavesNone(a.tenantId, 'security_event.auth_policy.changed', () =>
          t.call('PUT', `/v1/tenants/${a.tenantId}/auth-policy`, { token: a.adminKey, body: { passwordHistory: 99 } }), 400);
      },
      async createBackup() {
        const res = await t.call('POST', '/v1/backups');
        if (backend === 'postgres') {
          assert.equal(res.statusCode, 409);
          assert.deepEqual(await platformLog('action=backup.create'), [], 'a refused backup leaves no entry');
          return;
        }
        assert.equal(res.statusCode, 202, res.body);
        await t.services.backups.idle();
        const made = (await t.call('GET', `/v1/backups/${res.json().id}/status`)).json().backup;
        const [entry] = (await platformLog('action=backup.create')).filter((e) => e.target!.id === made.id);
        assert.equal(entry.actor!.type, 'api_key');
        assert.equal(entry.detail!.sizeBytes, made.sizeBytes);
      },
      async verifyBackup() {
        const res = await t.call('POST', '/v1/backups/verifications', { body: {} });
        if (backend === 'postgres') {
          assert.equal(res.statusCode, 404);
          assert.deepEqual(await platformLog('action=backup.verify'), []);
          return;
        }
        if (res.statusCode === 404) { await t.call('POST', '/v1/backups'); await t.services.backups.idle(); }
        const run = res.statusCode === 202 ? res.json() : (await t.call('POST', '/v1/backups/verifications', { body: {} })).json();
        await t.services.verifications.idle();
        const v = (await t.call('GET', `/v1/backups/verifications/${run.id}/status`)).json().verification;
        const [entry] = (await platformLog('action=backup.verify')).filter((e) => e.target!.id === v.backupId);
        assert.deepEqual(entry.detail, { result: v.result });
      },
      async createOperatorKey() {
        const id = (await t.call('POST', '/v1/operator-keys', { body: { name: 'second operator' } })).json().id;
        const [entry] = (await platformLog('action=operator_key.create')).filter((e) => e.target!.id === id);
        assert.ok(entry, 'operator key creation is in the platform log');
        assert.equal((entry as Entry & { tenantId: null }).tenantId, null);
      },
      async revokeOperatorKey() {
        const id = (await t.call('POST', '/v1/operator-keys', { body: { name: 'third operator' } })).json().id;
        assert.equal((await t.call('DELETE', `/v1/operator-keys/${id}`)).statusCode, 204);
        assert.ok((await platformLog('action=operator_key.revoke')).some((e) => e.target!.id === id));
      },
      async createCollection() {
        const [entry] = await log(a.tenantId, 'action=collection.create');
        assert.equal(entry.collection, 'customers');
        assert.deepEqual(entry.fields, ['email', 'name', 'phone', 'birthdate', 'address', 'tier']);
        await leavesNone(a.tenantId, 'collection.create', () => t.call('POST', `/v1/tenants/${a.tenantId}/collections`,
          { token: a.adminKey, body: { name: 'customers', fields: [{ name: 'x', type: 'string' }] } }), 409);
      },
      async createRecord() {
        const id = await create(1);
        const [entry] = await log(a.tenantId, `action=record.create&recordId=${id}`);
        assert.deepEqual({ ...entry, actor: entry.actor!.id }, { ...entry, actor: keyId });
        assert.deepEqual(entry.recordIds, [id]);
        assert.deepEqual(entry.fields!.sort(), ['email', 'name', 'phone', 'tier']);
        // A unique violation rolls the insert back, and its entry with it.
        await leavesNone(a.tenantId, 'record.create', () => t.call('POST', a.base, { token: a.key, body: { data: person(1) } }), 409);
        await leavesNone(a.tenantId, 'record.create', () => t.call('POST', a.base, { token: a.key, body: { data: { name: 7 } } }), 422);
      },
      async getRecord() {
        const id = await create(2);
        assert.equal((await t.call('GET', `${a.base}/${id}`, { token: a.key })).statusCode, 200);
        assert.deepEqual((await log(a.tenantId, `action=record.read&recordId=${id}`))[0].recordIds, [id]);
      },
      async listRecords() {
        const res = await t.call('GET', `${a.base}?limit=2`, { token: a.key });
        const [entry] = await log(a.tenantId, 'action=record.list');
        assert.deepEqual(entry.recordIds, res.json().items.map((r: { id: string }) => r.id), 'a list names the records it returned');
      },
      async searchRecords() {
        const id = await create(3);
        const res = await t.call('POST', `${a.base}/search`, { token: a.key, body: { where: { email: 'walker3@audit.example' } } });
        assert.deepEqual(res.json().items.map((r: { id: string }) => r.id), [id]);
        const [entry] = await log(a.tenantId, 'action=record.search');
        assert.deepEqual({ recordIds: entry.recordIds, fields: entry.fields }, { recordIds: [id], fields: ['email'] });
      },
      async findSubject() {
        const id = await create(40);
        const res = await t.call('POST', `/v1/tenants/${a.tenantId}/subjects/find`, { token: a.adminKey, body: { where: { email: 'walker40@audit.example' } } });
        assert.deepEqual(res.json().records, [{ collection: 'customers', id }]);
        const [entry] = await log(a.tenantId, `action=subject.find&recordId=${id}`);
        assert.deepEqual({ collection: entry.collection, fields: entry.fields }, { collection: 'customers', fields: ['email'] });
        assert.doesNotMatch(JSON.stringify(entry), /walker40/, 'the value looked up is not logged');
      },
      async exportSubject() {
        const id = await create(41);
        const res = await t.call('POST', `/v1/tenants/${a.tenantId}/subjects/export`, { token: a.adminKey, body: { where: { email: 'walker41@audit.example' } } });
        assert.equal(res.statusCode, 200, res.body);
        const [entry] = await log(a.tenantId, `action=subject.export&recordId=${id}`);
        assert.deepEqual({ recordIds: entry.recordIds, fields: entry.fields }, { recordIds: [id], fields: ['email'] });
      },
      async eraseSubject() {
        const id = await create(42);
        const erase = () => t.call('POST', `/v1/tenants/${a.tenantId}/subjects/erase`,
          { token: a.adminKey, body: { where: { email: 'walker42@audit.example' }, reason: 'Art. 17 for walker42' } });
        const hold = (await t.call('POST', `/v1/tenants/${a.tenantId}/legal-holds`, { token: a.adminKey, body: { where: { email: 'walker42@audit.example' }, reason: 'x' } })).json();
        await leavesNone(a.tenantId, 'subject.erase', erase, 409);
        assert.equal((await t.call('DELETE', `/v1/tenants/${a.tenantId}/legal-holds/${hold.id}`, { token: a.adminKey })).statusCode, 200);
        const res = await erase();
        assert.equal(res.statusCode, 200, res.body);
        const [entry] = await log(a.tenantId, `action=subject.erase&recordId=${id}`);
        assert.deepEqual({ collection: entry.collection, fields: entry.fields, detail: entry.detail },
          { collection: 'customers', fields: ['email'], detail: { erased: 1, ledgerEntry: res.json().certificate.statement.id } });
        assert.doesNotMatch(JSON.stringify(entry), /walker42/, 'neither the value nor the reason is logged');
      },
      async createLegalHold() {
        const res = await t.call('POST', `/v1/tenants/${a.tenantId}/legal-holds`, { token: a.adminKey, body: { where: { email: 'walker43@audit.example' }, reason: 'case walker43' } });
        assert.equal(res.statusCode, 201, res.body);
        const [entry] = (await log(a.tenantId, 'action=legal_hold.create')).filter((e) => e.target?.id === res.json().id);
        assert.deepEqual({ fields: entry.fields, detail: entry.detail }, { fields: ['email'], detail: { collections: 1 } });
        assert.doesNotMatch(JSON.stringify(entry), /walker43/);
        await leavesNone(a.tenantId, 'legal_hold.create', () => t.call('POST', `/v1/tenants/${a.tenantId}/legal-holds`,
          { token: a.adminKey, body: { where: { nope: 1 }, reason: 'x' } }), 400);
      },
      async releaseLegalHold() {
        const id = (await t.call('POST', `/v1/tenants/${a.tenantId}/legal-holds`, { token: a.adminKey, body: { where: { email: 'walker44@audit.example' }, reason: 'x' } })).json().id;
        assert.equal((await t.call('DELETE', `/v1/tenants/${a.tenantId}/legal-holds/${id}`, { token: a.adminKey })).statusCode, 200);
        assert.equal((await log(a.tenantId, 'action=legal_hold.release')).filter((e) => e.target?.id === id).length, 1);
        await leavesNone(a.tenantId, 'legal_hold.release', () => t.call('DELETE', `/v1/tenants/${a.tenantId}/legal-holds/${id}`, { token: a.adminKey }), 404);
      },
      async updateRecord() {
        const id = await create(4);
        assert.equal((await t.call('PATCH', `${a.base}/${id}`, { token: a.key, body: { data: { tier: 'silver', phone: null } } })).statusCode, 200);
        const [entry] = await log(a.tenantId, `action=record.update&recordId=${id}`);
        assert.deepEqual(entry.fields!.sort(), ['phone', 'tier']);
        await leavesNone(a.tenantId, 'record.update', () =>
          t.call('PATCH', `${a.base}/${id}`, { token: a.key, body: { data: { tier: 'x' } }, headers: { 'if-match': '"1"' } }), 412);
        await leavesNone(a.tenantId, 'record.update', () =>
          t.call('PATCH', `${a.base}/${id}`, { token: a.key, body: { data: { email: 'walker1@audit.example' } } }), 409);
      },
      async deleteRecord() {
        const id = await create(5);
        assert.equal((await t.call('DELETE', `${a.base}/${id}`, { token: a.key })).statusCode, 204);
        assert.equal((await log(a.tenantId, `action=record.delete&recordId=${id}`)).length, 1);
        await leavesNone(a.tenantId, 'record.delete', () => t.call('DELETE', `${a.base}/${id}`, { token: a.key }), 404);
      },
      async importRecords() {
        const body = [person(10), person(11), { name: 5 }, person(12)].map((d) => JSON.stringify({ data: d })).join('\n');
        const res = await t.call('POST', `${a.base}/import`, { token: a.key, body, headers: { 'content-type': 'application/x-ndjson' } });
        assert.equal(res.json().imported, 3, res.body);
        const [entry] = await log(a.tenantId, 'action=record.import');
        assert.equal(entry.recordIds!.length, 3, 'one entry for the batch, naming every record written');
        const found = await t.call('POST', `${a.base}/search`, { token: a.key, body: { where: { email: 'walker11@audit.example' } } });
        assert.ok(entry.recordIds!.includes(found.json().items[0].id));
      },
      async exportTenant() {
        const res = await t.call('POST', `/v1/tenants/${a.tenantId}/export`);
        assert.equal(res.statusCode, 200, res.body);
        const records = res.body.trimEnd().split('\n').filter((l) => JSON.parse(l).type === 'record').length;
        const [start] = await log(a.tenantId, 'action=tenant.export');
        assert.deepEqual(start.target, { type: 'tenant', id: a.tenantId });
        const [end] = await log(a.tenantId, 'action=tenant.export.end');
        assert.deepEqual(end.detail, { collections: 1, records, complete: true });
        await leavesNone(a.tenantId, 'tenant.export', () => t.call('POST', `/v1/tenants/${a.tenantId}/export`, { token: a.adminKey }), 403);
      },
      async rotateKeys() {
        const res = await t.call('POST', `/v1/tenants/${a.tenantId}/keys/rotate`, { token: a.adminKey });
        assert.equal(res.statusCode, 202, res.body);
        assert.deepEqual((await log(a.tenantId, 'action=key.rotate'))[0].target, { type: 'data_key', id: '2' });
        await t.services.rotation.idle();
        const moved = (await log(a.tenantId, 'action=record.reencrypt')).flatMap((e) => e.recordIds!);
        const all = (await t.call('GET', `${a.base}?limit=500`, { token: a.key })).json().items.map((r: { id: string }) => r.id);
        assert.deepEqual(moved.sort(), all.sort(), 'the re-encryption job names every record it moved');
        assert.equal((await log(a.tenantId, 'action=record.reencrypt'))[0].actor!.type, 'system');
      },
      async rotatePseudonymKey() {
        const res = await t.call('POST', `/v1/tenants/${a.tenantId}/pseudonyms/rotate`, { token: a.adminKey });
        assert.equal(res.statusCode, 200, res.body);
        const [entry] = await log(a.tenantId, 'action=pseudonym_key.rotate');
        assert.deepEqual(entry.target, { type: 'pseudonym_key', id: String(res.json().version) });
        assert.equal(entry.detail!.previous, res.json().previous);
        const editor = (await t.call('POST', `/v1/tenants/${a.tenantId}/api-keys`, { body: { name: 'editor', role: 'editor' } })).json().key;
        await leavesNone(a.tenantId, 'pseudonym_key.rotate', () => t.call('POST', `/v1/tenants/${a.tenantId}/pseudonyms/rotate`, { token: editor }), 403);
      },
      async resolvePseudonym() {
        await t.call('POST', `/v1/tenants/${a.tenantId}/collections`, { token: a.adminKey,
          body: { name: 'pseudonymous', fields: [{ name: 'email', type: 'email', pseudonymize: true }] } });
        const rec = await t.call('POST', `/v1/tenants/${a.tenantId}/collections/pseudonymous/records`, { token: a.key, body: { data: { email: 'walker99@audit.example' } } });
        const owner = (await t.call('POST', `/v1/tenants/${a.tenantId}/api-keys`, { body: { name: 'owner', role: 'owner' } })).json().key;
        const body = { collection: 'pseudonymous', field: 'email', pseudonym: rec.json().pseudonyms.email, reason: 'subject access request 17' };
        const res = await t.call('POST', `/v1/tenants/${a.tenantId}/pseudonyms/resolve`, { token: owner, body });
        assert.equal(res.statusCode, 200, res.body);
        const [entry] = await log(a.tenantId, 'action=pseudonym.resolve');
        assert.deepEqual(entry.target, { type: 'pseudonym', id: body.pseudonym });
        assert.equal(entry.detail!.reason, 'subject access request 17');
        assert.doesNotMatch(JSON.stringify(entry), /audit\.example/, 'no value in the log');
        await leavesNone(a.tenantId, 'pseudonym.resolve', () => t.call('POST', `/v1/tenants/${a.tenantId}/pseudonyms/resolve`, { token: a.adminKey, body }), 403);
      },
      async discardUnreadableRecord() {
        const [broken, donor] = [await create(20), await create(21)];
        await t.store.db.withTenant(a.tenantId, (tx) =>
          tx.query('update records r set sealed = o.sealed from records o where r.id = $1 and o.id = $2', [broken, donor]));
        await t.call('POST', `/v1/tenants/${a.tenantId}/keys/rotate`, { token: a.adminKey });
        await t.services.rotation.idle();
        assert.deepEqual((await log(a.tenantId, 'action=record.set_unreadable'))[0].recordIds, [broken]);
        const res = await t.call('POST', `/v1/tenants/${a.tenantId}/keys/unreadable/${broken}/discard`, { token: a.adminKey });
        assert.equal(res.statusCode, 200, res.body);
        assert.deepEqual((await log(a.tenantId, 'action=record.discard_unreadable'))[0].recordIds, [broken]);
        await leavesNone(a.tenantId, 'record.discard_unreadable', () =>
          t.call('POST', `/v1/tenants/${a.tenantId}/keys/unreadable/${donor}/discard`, { token: a.adminKey }), 404);
      },
      // On a tenant of their own: a confirmed instruction changes what the other cases may process.
      async enterInstruction() {
        const b = await seedTenant(t, 'Instructed');
        const body = { purposes: [{ id: 'billing', description: 'invoices' }], dataCategories: [], retention: '1 year', recipients: [], transfers: [] };
        const res = await t.call('POST', `/v1/tenants/${b.tenantId}/instructions`, { token: b.adminKey, body });
        assert.equal(res.statusCode, 201, res.body);
        const [entry] = await log(b.tenantId, 'action=instruction.enter');
        assert.deepEqual([entry.target, entry.detail], [{ type: 'instruction', id: '1' }, { version: 1, purposes: 1, transfers: 0 }]);
        await leavesNone(b.tenantId, 'instruction.enter', () => t.call('POST', `/v1/tenants/${b.tenantId}/instructions`,
          { token: b.adminKey, body: { ...body, purposes: [body.purposes[0], body.purposes[0]] } }), 422);
      },
      async confirmInstruction() {
        const b = await seedTenant(t, 'Confirmed');
        const body = { purposes: [{ id: 'billing', description: 'invoices' }], dataCategories: [], retention: '1 year', recipients: [], transfers: [] };
        await t.call('POST', `/v1/tenants/${b.tenantId}/instructions`, { token: b.adminKey, body });
        assert.equal((await t.call('POST', `/v1/tenants/${b.tenantId}/instructions/1/confirm`)).statusCode, 200);
        const [entry] = await log(b.tenantId, 'action=instruction.confirm');
        assert.deepEqual([entry.actor!.type, entry.detail], ['api_key', { version: 1 }]);
        assert.equal((await log(b.tenantId, 'action=security_event.instruction.confirmed')).length, 1);
        await leavesNone(b.tenantId, 'instruction.confirm', () => t.call('POST', `/v1/tenants/${b.tenantId}/instructions/1/confirm`), 409);
      },
      ...subProcessorCases,
      // The TOM register is the platform's: its entries are platform entries naming no tenant; names and wording stay out of the log.
      async updateTomEntry() {
        assert.equal((await t.call('PATCH', '/v1/tom/entries/access.policy', { body: { owner: 'Data protection officer', reviewIntervalDays: 180 } })).statusCode, 200);
        const [entry] = await platformLog('action=tom.entry.update');
        assert.deepEqual([entry.target, entry.detail], [{ type: 'tom_measure', id: 'access.policy' }, { fields: 'owner,reviewIntervalDays', reviewIntervalDays: 180 }]);
        const before = (await platformLog('action=tom.entry.update')).length;
        assert.equal((await t.call('PATCH', '/v1/tom/entries/no.such', { body: { owner: 'x' } })).statusCode, 404);
        assert.equal((await platformLog('action=tom.entry.update')).length, before);
      },
      async attestTomEntry() {
        const nextReviewAt = new Date(Date.now() + 365 * 86_400_000).toISOString();
        const res = await t.call('POST', '/v1/tom/entries/review.pentest/attestations', { body: { attestedBy: 'Pentest GmbH', nextReviewAt, documentSha256: 'cd'.repeat(32) } });
        assert.equal(res.statusCode, 201, res.body);
        const [entry] = await platformLog('action=tom.attest');
        assert.deepEqual([entry.target, entry.detail], [{ type: 'tom_measure', id: 'review.pentest' }, { attestationId: res.json().id, documentSha256: 'cd'.repeat(32), nextReviewAt }]);
        assert.ok(!JSON.stringify(entry).includes('Pentest GmbH'));
        const before = (await platformLog('action=tom.attest')).length;
        assert.equal((await t.call('POST', '/v1/tom/entries/review.pentest/attestations', { body: { attestedBy: 'x', nextReviewAt: '2000-01-01T00:00:00Z' } })).statusCode, 422);
        assert.equal((await platformLog('action=tom.attest')).length, before);
      },
      ...incidentCases,
      async putRetentionPolicy() {
        const res = await t.call('PUT', `/v1/tenants/${a.tenantId}/collections/customers/retention`, { token: a.adminKey, body: { basis: 'created', days: 3650 } });
        assert.equal(res.statusCode, 200, res.body);
        const [entry] = await log(a.tenantId, 'action=retention.set');
        assert.equal(entry.collection, 'customers');
        assert.deepEqual(entry.detail, { basis: 'created', days: 3650, field: null });
        await leavesNone(a.tenantId, 'retention.set', () => t.call('PUT', `/v1/tenants/${a.tenantId}/collections/customers/retention`,
          { token: a.adminKey, body: { basis: 'field', field: 'email', days: 1 } }), 422);
      },
      async deleteRetentionPolicy() {
        assert.equal((await t.call('DELETE', `/v1/tenants/${a.tenantId}/collections/customers/retention`, { token: a.adminKey })).statusCode, 204);
        assert.equal((await log(a.tenantId, 'action=retention.remove'))[0].collection, 'customers');
        await leavesNone(a.tenantId, 'retention.remove', () => t.call('DELETE', `/v1/tenants/${a.tenantId}/collections/customers/retention`, { token: a.adminKey }), 404);
      },
      async closeTenant() {
        const b = await seedTenant(t, 'Closed for audit');
        assert.equal((await t.call('POST', `/v1/tenants/${b.tenantId}/close`)).statusCode, 200);
        const [entry] = await log(b.tenantId, 'action=tenant.close');
        assert.deepEqual(entry.target, { type: 'tenant', id: b.tenantId });
        assert.equal(entry.detail!.retentionMonths, 13);
        await leavesNone(b.tenantId, 'tenant.close', () => t.call('POST', `/v1/tenants/${b.tenantId}/close`), 409);
      },
      async reopenTenant() {
        const b = await seedTenant(t, 'Reopened for audit');
        await leavesNone(b.tenantId, 'tenant.reopen', () => t.call('POST', `/v1/tenants/${b.tenantId}/reopen`), 409);
        assert.equal((await t.call('POST', `/v1/tenants/${b.tenantId}/close`)).statusCode, 200);
        assert.equal((await t.call('POST', `/v1/tenants/${b.tenantId}/reopen`)).statusCode, 200);
        assert.deepEqual((await log(b.tenantId, 'action=tenant.reopen'))[0].target, { type: 'tenant', id: b.tenantId });
      },
    };

    it('has a case for every route that changes data (POST, PUT, PATCH, DELETE in the OpenAPI document)', async () => {
      const doc = (await t.app.inject({ method: 'GET', url: '/openapi.json' })).json();
      const mutating = Object.values(doc.paths as Record<string, Record<string, { operationId: string }>>)
        .flatMap((ops) => Object.entries(ops).filter(([m]) => ['post', 'put', 'patch', 'delete'].includes(m)).map(([, o]) => o.operationId));
      assert.deepEqual(mutating.filter((op) => !(op in cases)), [],
        'routes that change data without a case here: add one that checks the audit entries the route leaves (and that a refused call leaves none)');
    });

    for (const [op, run] of Object.entries(cases)) it(op, run);

    it('a record\'s history names who created, read, changed and deleted it, newest first', async () => {
      const id = await create(30);
      await t.call('GET', `${a.base}/${id}`, { token: a.key });
      await t.call('PATCH', `${a.base}/${id}`, { token: a.key, body: { data: { tier: 'bronze' } } });
      await t.call('DELETE', `${a.base}/${id}`, { token: a.key });
      const res = await t.call('GET', `${a.base}/${id}/history`, { token: a.adminKey });
      assert.equal(res.statusCode, 200, res.body);
      const entries = res.json().items.map((i: { entry: Entry }) => i.entry) as Entry[];
      assert.deepEqual(entries.map((e) => e.action), ['record.delete', 'record.update', 'record.read', 'record.create']);
      assert.ok(entries.every((e) => e.actor!.id === keyId));
      const viewer = (await t.call('POST', `/v1/tenants/${a.tenantId}/api-keys`, { body: { name: 'v', role: 'viewer' } })).json().key;
      assert.equal((await t.call('GET', `${a.base}/${id}/history`, { token: viewer })).statusCode, 403);
    });
  });
}

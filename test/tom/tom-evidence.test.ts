// TOM evidence as a cluster serves it. What a burst of requests costs: the
// audit log is verified in full at most once per
// TRESOR_TOM_AUDIT_VERIFY_MAX_AGE_MS (the evidence says when), and PDF annexes
// are printed one at a time with a bounded queue; a request beyond it answers
// 503 `tom.pdf_busy` with Retry-After. And a node that never ran the
// retention job reports the run the job leader made.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { backends } from '../helpers/backends.ts';
import { type TestApp, anotherNode, startTestApp } from '../helpers/test-app.ts';
import { manualClock } from '../helpers/people.ts';
import { assertProblem } from '../helpers/problem.ts';

type Evidence = { status: string; facts: Record<string, unknown>; summary: { de: string; en: string } };
const MAX_AGE_MS = 600_000;

for (const backend of backends) {
  describe(`TOM evidence: bounded per request, the same on every node [${backend}]`, () => {
    let t: TestApp;
    const clock = manualClock(Date.now());
    const auditEvidence = async () => {
      const res = await t.call('GET', '/v1/tom/entries');
      assert.equal(res.statusCode, 200, res.body);
      return (res.json().items as { key: string; evidence: Evidence }[]).find((e) => e.key === 'input.change_history')!.evidence;
    };
    const evidenceOf = async (app: TestApp['app'], key: string) => {
      const res = await app.inject({ method: 'GET', url: '/v1/tom/entries', headers: { authorization: `Bearer ${t.operatorKey}` } });
      assert.equal(res.statusCode, 200, res.body);
      return (res.json().items as { key: string; status: string; evidence: Evidence }[]).find((e) => e.key === key)!;
    };

    before(async () => {
      // No browser is needed: a Chromium that cannot start still takes its turn, and fails with tom.pdf_unavailable.
      t = await startTestApp(backend, { now: clock.now, env: { TRESOR_PDF_QUEUE: '1', TRESOR_CHROMIUM_PATH: '/nonexistent/chromium',
        TRESOR_TOM_AUDIT_VERIFY_MAX_AGE_MS: String(MAX_AGE_MS) } });
      await t.call('POST', '/v1/tenants', { body: { name: 'Bounds GmbH' } });
      await t.services.requestLog.flush();
      await t.services.sequencer.sequence();
    });
    after(() => t.close());

    it('a verification serves until it is older than the maximum age; then a changed entry shows as failing', async () => {
      const first = await auditEvidence();
      assert.equal(first.status, 'met', JSON.stringify(first));
      assert.equal(first.facts.verifiedAt, clock.now().toISOString());
      assert.ok(first.summary.en.includes(`verified in full at ${clock.now().toISOString()}`), first.summary.en);
      const head = (await t.call('GET', '/v1/audit/tree-head')).json();
      assert.deepEqual([first.facts.headTreeSize, first.facts.headRootHash], [head.treeSize, head.rootHash], 'the evidence names the newest signed head');

      // An administrator changes a logged entry behind Tresor's back.
      await t.store.db.transaction(async (tx) => {
        await tx.query("set local session_replication_role = 'replica'");
        const [row] = await tx.query(`update audit_entries set leaf = leaf || '\\x20'::bytea
          where id = (select entry_id from audit_log order by seq limit 1) returning id`);
        assert.ok(row, 'a sequenced entry was changed');
      });

      const verifiedAt = first.facts.verifiedAt;
      clock.advance(MAX_AGE_MS - 1);
      const cached = await auditEvidence();
      assert.equal(cached.facts.verifiedAt, verifiedAt, 'within the maximum age the earlier verification is shown, with its time');
      assert.equal(cached.status, 'met');

      clock.advance(1);
      const fresh = await auditEvidence();
      assert.equal(fresh.facts.verifiedAt, clock.now().toISOString());
      assert.equal(fresh.status, 'failing', JSON.stringify(fresh));
      assert.equal(typeof fresh.facts.firstBadSeq, 'number');
      // The server's own verification opens the integrity incident, as `tresor audit verify` does; again later adds to it.
      await t.services.incidentRules.idle();
      const opened = async () => ((await t.call('GET', '/v1/incidents')).json().items as { id: string; rule: string | null }[]).filter((i) => i.rule === 'audit_verify_failed');
      const [incident] = await opened();
      assert.ok(incident, 'an incident was opened by rule audit_verify_failed');
      clock.advance(MAX_AGE_MS);
      assert.equal((await auditEvidence()).status, 'failing');
      await t.services.incidentRules.idle();
      assert.deepEqual((await opened()).map((i) => i.id), [incident.id], 'one open incident, not one per verification');
    });

    it('PDF annexes take turns: one printing, one waiting, the next refused at once with Retry-After; Markdown never waits', async () => {
      const pdf = () => t.call('GET', '/v1/tom/report?lang=en&format=pdf');
      const answers = await Promise.all([pdf(), pdf(), pdf(), t.call('GET', '/v1/tom/report?lang=en&format=md')]);
      const codes = answers.slice(0, 3).map((r) => r.json().code).sort();
      assert.deepEqual(codes, ['tom.pdf_busy', 'tom.pdf_unavailable', 'tom.pdf_unavailable']);
      const busy = answers.find((r) => r.json().code === 'tom.pdf_busy')!;
      assertProblem(busy, 503, 'tom.pdf_busy');
      assert.equal(busy.headers['retry-after'], String(t.store.config.retryAfterSeconds));
      assert.equal(answers[3]!.statusCode, 200, answers[3]!.body.slice(0, 200));
      // Once the queue is empty a new PDF request takes its turn again.
      assertProblem(await pdf(), 503, 'tom.pdf_unavailable');
    });

    it('a second node that never ran the retention job shows the run another node made, and when it is overdue', async () => {
      const config = t.store.config;
      const { app: other } = await anotherNode(t, { now: clock.now });
      try {
        const before = await evidenceOf(other, 'input.retention_job');
        assert.equal(before.status, 'pending', JSON.stringify(before));
        assert.equal(before.evidence.facts.lastRunAt, null);

        await t.services.retention.enforce();
        const ran = clock.now().toISOString();
        const after = await evidenceOf(other, 'input.retention_job');
        assert.equal(after.status, 'met', JSON.stringify(after));
        assert.equal(after.evidence.facts.lastRunAt, ran);
        assert.ok(after.evidence.summary.en.includes(ran), after.evidence.summary.en);

        clock.advance(2 * config.retentionPollMs + 1);
        const late = await evidenceOf(other, 'input.retention_job');
        assert.equal(late.status, 'failing', JSON.stringify(late));
        assert.ok(late.evidence.summary.en.includes('overdue'), late.evidence.summary.en);
      } finally {
        await other.close();
      }
    });
  });
}

import type { Db, Queries } from '../db/db.ts';
import { type Actor, systemActor } from '../access/permissions.ts';
import type { PublicSecurityEvent, SecurityEventObserver } from '../security-events/security-events-service.ts';
import { securityEventsRepo } from '../security-events/security-events-repo.ts';
import type { IncidentInput } from './incidents-repo.ts';
import { incidentsRepo as repo } from './incidents-repo.ts';
import { incidentWrites } from './incident-writes.ts';
import { HOUR_MS } from './incident-view.ts';

// Rules that open an incident by themselves (actor: the system), each hooked
// where its signal is produced: the audit log's verification (tresor audit
// verify, and the server's own for the TOM register), a restore
// verification's signed outcome, the support-grant check, the security
// events (refusals, lockouts) and the egress module. One open
// incident per rule and subject within TRESOR_INCIDENT_DEDUP_HOURS: further
// hits become timeline events of that incident. Details name ids, codes and
// counts only, never a personal value.

export type RuleName = 'audit_verify_failed' | 'restore_verification_failed' | 'support_without_approval' | 'denied_access_burst'
  | 'lockout_burst' | 'egress_refused';

export interface RuleHit {
  rule: RuleName;
  /** What it is about (an actor, a destination): one open incident per rule and subject. */
  subject: string;
  incident: Omit<IncidentInput, 'detectedAt' | 'awareAt'>;
  /** The timeline note of this hit. */
  note: string;
}

const rulesActor: Actor = systemActor('incident-rules');
/** Security events waiting for their burst count, at most. */
const MAX_QUEUED_COUNTS = 10_000;

/** Opens the rule's incident, or adds the hit to the one already open; detection and awareness are the hit's time. */
export async function applyRuleHit(db: Pick<Db, 'transaction'>, hit: RuleHit, at: Date, dedupHours: number): Promise<{ incidentId: string; opened: boolean }> {
  return db.transaction(async (tx) => {
    await repo.lockRule(tx, hit.rule, hit.subject);
    const open = await repo.openByRule(tx, hit.rule, hit.subject, new Date(at.getTime() - dedupHours * HOUR_MS));
    if (open) {
      await incidentWrites.event(tx, rulesActor, open, { kind: 'rule_hit', note: hit.note }, at, 'incident.rule_hit', { rule: hit.rule });
      return { incidentId: open.id, opened: false };
    }
    const row = await incidentWrites.open(tx, rulesActor, { ...hit.incident, detectedAt: at, awareAt: at }, at,
      { rule: hit.rule, subject: hit.subject }, `opened by rule ${hit.rule}: ${hit.note}`);
    return { incidentId: row.id, opened: true };
  });
}

export interface RulesDeps {
  db: Db; now: () => Date; dedupHours: number;
  denialThreshold: number; lockoutThreshold: number; burstWindowMs: number;
  onError: (msg: string, err: unknown) => void;
}

/** The rules a running server applies; hits are queued and applied one at a time outside the caller's transaction. */
export function incidentRules({ db, now, dedupHours, denialThreshold, lockoutThreshold, burstWindowMs, onError }: RulesDeps) {
  let chain: Promise<unknown> = Promise.resolve();
  const signal = (hit: RuleHit) => {
    const at = now();
    chain = chain.then(() => applyRuleHit(db, hit, at, dedupHours)).catch((err) => onError(`incident rule ${hit.rule} failed`, err));
  };
  const minutes = Math.round(burstWindowMs / 60_000);

  let queued = 0;
  /**
   * The event's place in its burst, counted in the database on the tenant it
   * was recorded on (refusals on the actor's own tenant, or the platform's), so
   * that events from every node add up; a hit at each multiple of the
   * threshold, as a counter that starts again once it fires.
   */
  const burst = (e: PublicSecurityEvent, byActor: boolean, threshold: number, hit: (n: number) => RuleHit) => {
    // Bounded under a flood: a burst that large has fired long before the queue fills.
    if (queued >= MAX_QUEUED_COUNTS) return;
    queued++;
    const at = now();
    const event = { id: e.id, type: e.type, createdAt: new Date(e.createdAt), ...(byActor ? { actorType: e.actor.type, actorId: e.actor.id } : {}) };
    chain = chain.then(async () => {
      const count = (tx: Queries) => securityEventsRepo.burstPosition(tx, e.tenantId, event, burstWindowMs);
      const n = e.tenantId ? await db.withTenant(e.tenantId, count) : await db.transaction(count);
      if (n % threshold === 0) await applyRuleHit(db, hit(n), at, dedupHours);
    }).catch((err) => onError(`incident rule for ${e.type} bursts failed`, err)).finally(() => { queued--; });
  };

  const observer: SecurityEventObserver = {
    recorded(e: PublicSecurityEvent) {
      if (e.type === 'access.denied') {
        const subject = `${e.actor.type}:${e.actor.id}`;
        burst(e, true, denialThreshold, (n) => ({ rule: 'denied_access_burst', subject, note: `${n} refusals of ${subject} (role ${e.actor.role}) within ${minutes} min`,
          incident: { title: `Repeated refused access by ${subject}`, category: 'confidentiality', severity: 'medium', affectedSystems: ['API'],
            dataCategories: [], description: `The credential ${subject} was refused ${n} times within ${minutes} minutes (403/404): someone may be probing for data it may not see. Check its security events and revoke it if it is not its owner's doing.` } }));
      } else if (e.type === 'account.locked') {
        const subject = `tenant:${e.tenantId ?? 'platform'}`;
        burst(e, false, lockoutThreshold, (n) => ({ rule: 'lockout_burst', subject, note: `${n} account lockouts (${subject}) within ${minutes} min`,
          incident: { title: `Account lockouts in ${subject}`, category: 'confidentiality', severity: 'medium', affectedSystems: ['login'],
            dataCategories: [], description: `${n} accounts of ${subject} were locked within ${minutes} minutes after repeated failed logins: a password-guessing attack may be under way.` } }));
      }
    },
  };

  return {
    observer,
    /** The server verified the audit log in full (the TOM register's check); a failed verification is an integrity incident. */
    auditVerified(r: { treeSize: number; firstBad: { seq: number; reason: string } | null }) {
      if (r.firstBad) signal(auditHit(r.firstBad, r.treeSize, "The TOM register's full verification of the audit log"));
    },
    /** A restore verification recorded its outcome; a failed one is an availability incident. */
    restoreVerified(v: { id: string; backupId: string; result: string; checks: { name: string; status: string }[] }) {
      if (v.result !== 'failed') return;
      const failed = v.checks.filter((c) => c.status === 'failed').map((c) => c.name).join(', ');
      signal({ rule: 'restore_verification_failed', subject: 'restore-verification', note: `verification ${v.id} of backup ${v.backupId} failed: ${failed}`,
        incident: { title: 'A restore verification failed', category: 'availability', severity: 'high', affectedSystems: ['backups'], dataCategories: [],
          description: `The restore test of backup ${v.backupId} failed (checks: ${failed}). Until a backup verifies, a loss of the store may not be recoverable. Evidence: restore verification ${v.id}.` } });
    },
    /** Support tried to act on a tenant without an approved, unexpired grant. */
    supportWithoutApproval(actor: Actor, tenantId: string, use: { action: string; method: string; route: string | null }) {
      const subject = `${actor.type}:${actor.id}@${tenantId}`;
      signal({ rule: 'support_without_approval', subject, note: `${use.method} ${use.route ?? '?'} (${use.action}) without an approved grant`,
        incident: { title: 'Support access without an approved grant', category: 'confidentiality', severity: 'high', affectedSystems: ['support access'],
          dataCategories: [], description: `Support actor ${actor.type}:${actor.id} tried to act on tenant ${tenantId} (${use.action}) without an approved, unexpired support grant; it was refused.` } });
    },
    /** The egress module refused a transfer (allowlist, country, address or redirect). */
    egressRefused(t: { tenantId: string | null; purpose: string; destination: string | null; reason: string }) {
      const subject = t.destination ?? 'invalid-url';
      signal({ rule: 'egress_refused', subject, note: `${t.purpose} transfer${t.tenantId ? ` of tenant ${t.tenantId}` : ''} to ${subject} refused: ${t.reason}`,
        incident: { title: `Outbound transfer refused: ${subject}`, category: 'confidentiality', severity: 'medium', affectedSystems: ['egress'], dataCategories: [],
          description: `A ${t.purpose} transfer to ${subject} was refused by the egress module (${t.reason}); nothing left. A configuration error, or an attempt to send data where it may not go.` } });
    },
    /** Resolves when every hit signalled so far is applied (tests, shutdown). */
    idle: () => chain.then(() => {}),
  };
}

export type IncidentRules = ReturnType<typeof incidentRules>;

/** A failed verification of the audit log: an integrity incident, whoever found it. */
function auditHit(finding: { seq: number; reason: string }, treeSize: number, by: string): RuleHit {
  return { rule: 'audit_verify_failed', subject: 'audit-log', note: `first bad seq ${finding.seq}: ${finding.reason}`,
    incident: { title: 'The audit log failed verification', category: 'integrity', severity: 'critical', affectedSystems: ['audit log'], dataCategories: [],
      description: `${by} found the tamper-evident audit log altered: first bad seq ${finding.seq} of ${treeSize} (${finding.reason}). Entries may have been changed, removed or inserted behind the sequencer.` } };
}

/** For `tresor audit verify` (a [store] command without a server): a failed verification opens an integrity incident. */
export function auditVerifyFailed(db: Pick<Db, 'transaction'>, finding: { seq: number; reason: string }, treeSize: number, at: Date, dedupHours: number) {
  return applyRuleHit(db, auditHit(finding, treeSize, 'tresor audit verify'), at, dedupHours);
}

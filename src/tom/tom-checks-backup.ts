// Checks of the integrity log, retention, backups and failover.
import type { CheckContext, Finding } from './tom-checks.ts';
import type { CheckId, Text } from './tom-template.ts';
import { evidenceRepo } from './tom-evidence-repo.ts';
import { incidentEvidence } from '../incidents/incident-evidence.ts';

type Check = (ctx: CheckContext) => Promise<Finding>;
const t = (de: string, en: string): Text => ({ de, en });
const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

async function auditVerify(ctx: CheckContext): Promise<Finding> {
  const r = await ctx.verifyAuditLog();
  const at = r.verifiedAt.toISOString();
  const facts = { treeSize: r.treeSize, signedHeads: r.heads, entries: r.entries, firstBadSeq: r.firstBad?.seq ?? null, verifiedAt: at,
    headTreeSize: r.latestHead?.treeSize ?? null, headRootHash: r.latestHead?.rootHash ?? null };
  if (r.firstBad) {
    return { status: 'failing', facts, summary: t(`Protokollprüfung fehlgeschlagen bei Eintrag ${r.firstBad.seq}: ${r.firstBad.reason}.`,
      `Audit log verification failed at seq ${r.firstBad.seq}: ${r.firstBad.reason}.`) };
  }
  if (r.heads === 0) {
    return { status: 'pending', facts, summary: t('Noch kein signierter Baumkopf: das Protokoll wurde noch nicht versiegelt.', 'No signed tree head yet: the log has not been sealed so far.') };
  }
  return { status: 'met', facts, summary: t(`Protokoll vollständig geprüft am ${at}: ${r.entries} Einträge, ${r.heads} signierte Baumköpfe, Baumgröße ${r.treeSize}.`,
    `Audit log verified in full at ${at}: ${r.entries} entries, ${r.heads} signed tree heads, tree size ${r.treeSize}.`) };
}

async function requestLog(ctx: CheckContext): Promise<Finding> {
  const head = await evidenceRepo.latestTreeHead(ctx.db);
  const at = head ? new Date(Number(head.timestampMs)).toISOString() : null;
  const facts = { flushMs: ctx.config.requestLogFlushMs, latestSignedHead: at, treeSize: head ? Number(head.treeSize) : 0 };
  return { status: 'met', facts, summary: t(`Jede Anfrage wird protokolliert (spätestens nach ${ctx.config.requestLogFlushMs} ms geschrieben); letzter signierter Baumkopf: ${at ?? 'noch keiner'}.`,
    `Every request is logged (written within ${ctx.config.requestLogFlushMs} ms); latest signed tree head: ${at ?? 'none yet'}.`) };
}

async function retentionJob(ctx: CheckContext): Promise<Finding> {
  const last = await evidenceRepo.lastJobRun(ctx.db, 'retention');
  const poll = ctx.config.retentionPollMs;
  const facts = { lastRunAt: last?.toISOString() ?? null, pollMs: poll };
  if (!last) {
    return { status: 'pending', facts, summary: t(`Löschlauf alle ${poll / 60_000} Minuten geplant; noch nicht gelaufen.`,
      `Retention run scheduled every ${poll / 60_000} minutes; not run yet.`) };
  }
  const late = ctx.now().getTime() - last.getTime() > 2 * poll;
  return { status: late ? 'failing' : 'met', facts, summary: t(`Letzter Löschlauf ${last.toISOString()}${late ? ' (überfällig)' : ''}.`, `Last retention run ${last.toISOString()}${late ? ' (overdue)' : ''}.`) };
}

async function backupAge(ctx: CheckContext): Promise<Finding> {
  const maxH = ctx.config.tomBackupMaxAgeHours;
  let newest: string | undefined;
  if (ctx.db.kind === 'postgres') {
    if (!ctx.pgBackups) {
      return { status: 'pending', facts: { store: 'postgres', pgbackrest: false },
        summary: t('PostgreSQL ohne TRESOR_PGBACKREST_STANZA: das Alter der Sicherungen prüft Tresor hier nicht.',
          'PostgreSQL without TRESOR_PGBACKREST_STANZA: Tresor does not check the age of backups here.') };
    }
    try {
      newest = (await ctx.pgBackups()).map((b) => b.createdAt).sort().at(-1);
    } catch (err) {
      const why = String((err as Error).message ?? err).split('\n')[0]!.slice(0, 200);
      return { status: 'failing', facts: { store: 'postgres', pgbackrest: true, newest: null, maxAgeHours: maxH },
        summary: t(`pgBackRest-Repository nicht lesbar: ${why}`, `The pgBackRest repository could not be read: ${why}`) };
    }
  } else newest = ctx.backupList().map((b) => b.createdAt).sort().at(-1);
  if (!newest) return { status: 'failing', facts: { newest: null, maxAgeHours: maxH }, summary: t('Keine Sicherung vorhanden.', 'No backup exists.') };
  const ageH = Math.floor((ctx.now().getTime() - Date.parse(newest)) / HOUR_MS);
  const facts = { newest, ageHours: ageH, maxAgeHours: maxH };
  return ageH > maxH
    ? { status: 'failing', facts, summary: t(`Neueste Sicherung ${newest} ist ${ageH} Stunden alt (erlaubt: ${maxH}).`, `Newest backup ${newest} is ${ageH} hours old (allowed: ${maxH}).`) }
    : { status: 'met', facts, summary: t(`Neueste Sicherung ${newest}, ${ageH} Stunden alt.`, `Newest backup ${newest}, ${ageH} hours old.`) };
}

async function restoreVerification(ctx: CheckContext): Promise<Finding> {
  const v = await evidenceRepo.lastRestoreVerification(ctx.db);
  const maxDays = ctx.config.tomRestoreMaxAgeDays;
  if (!v) return { status: 'failing', facts: { lastVerification: null, maxAgeDays: maxDays }, summary: t('Noch nie eine Wiederherstellung geprüft.', 'No restore has ever been verified.') };
  const ageDays = Math.floor((ctx.now().getTime() - v.verifiedAt.getTime()) / DAY_MS);
  const facts = { lastVerification: v.verifiedAt.toISOString(), result: v.result, evidenceId: v.id, backupId: v.backupId, ageDays, maxAgeDays: maxDays };
  const what = t(`Letzte Wiederherstellungsprüfung ${v.verifiedAt.toISOString()} (Sicherung ${v.backupId}, Nachweis ${v.id}): ${v.result === 'passed' ? 'bestanden' : 'fehlgeschlagen'}`,
    `Last restore verification ${v.verifiedAt.toISOString()} (backup ${v.backupId}, evidence ${v.id}): ${v.result}`);
  if (v.result !== 'passed') return { status: 'failing', facts, summary: t(`${what.de}.`, `${what.en}.`) };
  if (ageDays > maxDays) return { status: 'failing', facts, summary: t(`${what.de}, aber abgelaufen: ${ageDays} Tage alt (erlaubt: ${maxDays}).`, `${what.en}, but expired: ${ageDays} days old (allowed: ${maxDays}).`) };
  return { status: 'met', facts, summary: t(`${what.de}; ${ageDays} Tage alt.`, `${what.en}; ${ageDays} days old.`) };
}

async function failover(ctx: CheckContext): Promise<Finding> {
  if (ctx.db.kind !== 'postgres') {
    return { status: 'not_applicable', facts: { store: 'embedded' }, summary: t('Nicht anwendbar: eingebetteter Speicher, ein Prozess ohne Replikate.', 'Not applicable: embedded store, one process without replicas.') };
  }
  const url = ctx.config.patroniUrl;
  if (!url) {
    return { status: 'pending', facts: { patroni: null }, summary: t('TRESOR_PATRONI_URL ist nicht gesetzt: Replikation und Failover werden nicht geprüft.',
      'TRESOR_PATRONI_URL is not set: replication and failover are not checked.') };
  }
  const cluster = await ctx.patroniCluster(url);
  const members = cluster.members ?? [];
  const leader = members.find((m) => m.role === 'leader');
  const replicas = members.filter((m) => m.role !== 'leader' && ['running', 'streaming'].includes(m.state));
  const sync = members.find((m) => m.role === 'sync_standby')?.name ?? null;
  const facts = { members: members.length, leader: leader?.name ?? null, healthyReplicas: replicas.length, synchronousStandby: sync };
  const text = t(`Patroni: Mitglieder ${members.length}, Primärknoten ${leader?.name ?? 'keiner'}, laufende Replikate ${replicas.length}, synchrones Replikat ${sync ?? 'keins'}.`,
    `Patroni: members ${members.length}, leader ${leader?.name ?? 'none'}, running replicas ${replicas.length}, synchronous standby ${sync ?? 'none'}.`);
  return { status: leader && replicas.length > 0 ? 'met' : 'failing', facts, summary: text };
}

/** The incident register (src/incidents): an incident past the 72-hour deadline without a notifiability decision fails the measure. */
async function incidents(ctx: CheckContext): Promise<Finding> {
  const e = await incidentEvidence(ctx.db, ctx.now());
  const facts = { openIncidents: e.open, overdueIncidents: e.overdue, lastClosedAt: e.lastClosedAt };
  const text = t(`Vorfallsregister mit 72-Stunden-Frist: ${e.open} offene Vorfälle, ${e.overdue} ohne Entscheidung über die Meldepflicht nach Ablauf der Frist; zuletzt abgeschlossen: ${e.lastClosedAt ?? 'noch keiner'}.`,
    `Incident register with the 72-hour clock: ${e.open} open incidents, ${e.overdue} past the deadline without a notifiability decision; last closed: ${e.lastClosedAt ?? 'none yet'}.`);
  return { status: e.overdue > 0 ? 'failing' : 'met', facts, summary: text };
}

export const backupChecks: Partial<Record<CheckId, Check>> = {
  'incidents.procedure': incidents,
  'audit.verify': auditVerify,
  'audit.request_log': requestLog,
  'retention.closure': async ({ config }) => ({ status: 'met', facts: { closedTenantRetentionMonths: config.closedTenantRetentionMonths, auditRetentionMonths: config.auditRetentionMonths },
    summary: t(`Daten geschlossener Mandanten werden nach ${config.closedTenantRetentionMonths} Monaten mit ihren Schlüsseln vernichtet (außer bei gesetzlicher Aufbewahrung); Protokolleinträge nach ${config.auditRetentionMonths} Monaten geschwärzt.`,
      `A closed tenant's data is destroyed with its keys after ${config.closedTenantRetentionMonths} months (unless under a legal hold); its audit entries are redacted after ${config.auditRetentionMonths} months.`) }),
  'retention.job': retentionJob,
  'backup.age': backupAge,
  'backup.restore': restoreVerification,
  'ha.failover': failover,
};

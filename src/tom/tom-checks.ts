import { X509Certificate, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Config } from '../config.ts';
import { instructionRequired } from '../config.ts';
import type { Db } from '../db/db.ts';
import { permissions, ROLES } from '../access/permissions.ts';
import { EU_EEA, parseAllowlist } from '../transfer/destinations.ts';
import type { CheckId, Text } from './tom-template.ts';
import { eachTenant, evidenceRepo, type TenantFigures } from './tom-evidence-repo.ts';
import { backupChecks } from './tom-checks-backup.ts';

export type EvidenceStatus = 'met' | 'failing' | 'not_applicable' | 'pending';
export type Fact = string | number | boolean | null;
export interface Finding { status: EvidenceStatus; summary: Text; facts: Record<string, Fact> }
export interface Evidence extends Finding { check: CheckId; checkedAt: string }

export interface CheckDeps {
  db: Db; config: Config; now: () => Date;
  /** The audit log's latest full verification under the audit signing key (src/audit/merkle/verify.ts), and when it ran. */
  verifyAuditLog: () => Promise<{ treeSize: number; heads: number; entries: number; firstBad: { seq: number; reason: string } | null; verifiedAt: Date;
    latestHead: { treeSize: number; rootHash: string } | null }>;
  backupList: () => { id: string; createdAt: string }[];
  /** Backups in the pgBackRest repository, or throws; undefined without TRESOR_PGBACKREST_STANZA. */
  pgBackups: (() => Promise<{ createdAt: string }[]>) | undefined;
  /** Fetches the Patroni cluster view (GET /cluster of the first of TRESOR_PATRONI_URL's members that answers), or throws. */
  patroniCluster: (urls: string) => Promise<{ members?: { name: string; role: string; state: string }[] }>;
}

/** What one check needs: its deps, the moment, and the tenant whose view is asked for (none: the whole deployment). */
export interface CheckContext extends CheckDeps { tenantId?: string; figures: () => Promise<TenantFigures[]> }
type Check = (ctx: CheckContext) => Promise<Finding>;

const DAY_MS = 86_400_000;
const t = (de: string, en: string): Text => ({ de, en });
const ok = (summary: Text, facts: Record<string, Fact> = {}): Finding => ({ status: 'met', summary, facts });
const fail = (summary: Text, facts: Record<string, Fact> = {}): Finding => ({ status: 'failing', summary, facts });
const sum = (rows: TenantFigures[], f: (r: TenantFigures) => number) => rows.reduce((n, r) => n + f(r), 0);
const iso = (d: Date | null) => d ? d.toISOString() : null;

const identityChecks: Partial<Record<CheckId, Check>> = {
  'identity.mfa': async (ctx) => {
    const rows = await ctx.figures();
    const platform = ctx.tenantId ? { active: 0, enrolled: 0 } : await evidenceRepo.platformUsers(ctx.db);
    const active = sum(rows, (r) => r.activeUsers) + platform.active;
    const enrolled = sum(rows, (r) => r.enrolledUsers) + platform.enrolled;
    const share = active ? Math.floor((enrolled / active) * 1000) / 10 : 100;
    return ok(t(`Zweiter Faktor bei jeder Anmeldung verpflichtend; ${enrolled} von ${active} aktiven Benutzern eingerichtet (${share} %).`,
      `Second factor mandatory at every login; ${enrolled} of ${active} active users enrolled (${share}%).`), { mandatory: true, activeUsers: active, enrolledUsers: enrolled, enrolledShare: share });
  },
  'identity.sessions': async ({ config: c }) => ok(t(
    `Sitzungen enden nach ${c.sessionIdleMinutes} Minuten Leerlauf und spätestens nach ${c.sessionAbsoluteMinutes} Minuten; Sperre nach ${c.loginLockThreshold} Fehlversuchen für ${c.loginLockMinutes} Minuten.`,
    `Sessions end after ${c.sessionIdleMinutes} minutes idle and at most ${c.sessionAbsoluteMinutes} minutes after login; lockout after ${c.loginLockThreshold} failures for ${c.loginLockMinutes} minutes.`),
  { idleMinutes: c.sessionIdleMinutes, absoluteMinutes: c.sessionAbsoluteMinutes, lockThreshold: c.loginLockThreshold, lockMinutes: c.loginLockMinutes }),
  'identity.passwords': async ({ config: c }) => ok(t(
    `Mindestlänge ${c.passwordMinLength} Zeichen; Zusammensetzungsregel ${c.passwordComposition === 'on' ? 'an' : 'aus'}; Höchstalter ${c.passwordMaxAgeDays || 'keins'}${c.passwordMaxAgeDays ? ' Tage' : ''}; Verlauf ${c.passwordHistory}; argon2id (${c.argon2MemoryKiB} KiB).`,
    `Minimum length ${c.passwordMinLength} characters; composition rule ${c.passwordComposition}; maximum age ${c.passwordMaxAgeDays || 'none'}${c.passwordMaxAgeDays ? ' days' : ''}; history ${c.passwordHistory}; argon2id (${c.argon2MemoryKiB} KiB).`),
  { minLength: c.passwordMinLength, composition: c.passwordComposition, maxAgeDays: c.passwordMaxAgeDays, history: c.passwordHistory }),
  'identity.accounts': async (ctx) => {
    const rows = await ctx.figures();
    const dup = sum(rows, (r) => r.duplicateAccounts);
    const facts = { activeUsers: sum(rows, (r) => r.activeUsers), duplicateAccounts: dup };
    return dup ? fail(t(`${dup} E-Mail-Adressen mit mehr als einem Konto.`, `${dup} e-mail addresses with more than one account.`), facts)
      : ok(t(`Ein Konto je Person und E-Mail-Adresse (${facts.activeUsers} aktive Benutzer, keine Dubletten).`,
        `One account per person and e-mail address (${facts.activeUsers} active users, no duplicates).`), facts);
  },
  'access.roles': async () => {
    const actions = Object.keys(permissions).length;
    return ok(t(`Rollenmatrix mit ${ROLES.length} Rollen und ${actions} Aktionen, auf jeder Route vor dem Lesen der Anfrage durchgesetzt.`,
      `Role matrix of ${ROLES.length} roles and ${actions} actions, enforced on every route before the request body is read.`), { roles: ROLES.length, actions });
  },
  'security.tracking': async (ctx) => {
    const since = new Date(ctx.now().getTime() - 30 * DAY_MS);
    const rows = await ctx.figures();
    const platform = ctx.tenantId ? {} : await evidenceRepo.platformEvents(ctx.db, since);
    const count = (type: string) => sum(rows, (r) => r.events[type] ?? 0) + ((platform as Record<string, number>)[type] ?? 0);
    const facts = { deniedLast30Days: count('access.denied'), failedLoginsLast30Days: count('login.failed') + count('mfa.failed'), lockoutsLast30Days: count('account.locked') };
    return ok(t(`Letzte 30 Tage: ${facts.deniedLast30Days} abgewiesene Zugriffe, ${facts.failedLoginsLast30Days} Fehlanmeldungen, ${facts.lockoutsLast30Days} Sperren erfasst.`,
      `Last 30 days: ${facts.deniedLast30Days} refused requests, ${facts.failedLoginsLast30Days} failed logins, ${facts.lockoutsLast30Days} lockouts recorded.`), facts);
  },
};

/** Under the application role, a tenant context sees no row of another tenant: probed with a context no tenant has, and with each tenant's own. */
async function rlsProbe(ctx: CheckContext): Promise<Finding> {
  const tables = await evidenceRepo.rlsTables(ctx.db);
  const unguarded = await evidenceRepo.unguardedTables(ctx.db);
  const contexts = [randomUUID(), ...(ctx.tenantId ? [ctx.tenantId] : (await evidenceRepo.tenantIds(ctx.db)).slice(0, 2))];
  const leaks: string[] = [];
  for (const context of contexts) {
    const found = await ctx.db.withTenant(context, (tx) => evidenceRepo.leakingTables(tx, tables));
    for (const table of found) if (!leaks.includes(table)) leaks.push(table);
  }
  const facts = { tables: tables.length, contexts: contexts.length, leakingTables: leaks.join(',') || null, unguardedTables: unguarded.join(',') || null };
  if (leaks.length || unguarded.length) {
    return fail(t(`Mandantentrennung verletzt: ${[...leaks.map((l) => `${l} zeigt fremde Zeilen`), ...unguarded.map((u) => `${u} ohne RLS`)].join('; ')}.`,
      `Tenant separation broken: ${[...leaks.map((l) => `${l} shows other tenants' rows`), ...unguarded.map((u) => `${u} without RLS`)].join('; ')}.`), facts);
  }
  return ok(t(`Probe unter der Anwendungsrolle: ${tables.length} Tabellen in ${contexts.length} Mandantenkontexten, keine fremde Zeile sichtbar.`,
    `Probe under the application role: ${tables.length} tables in ${contexts.length} tenant contexts, no other tenant's row visible.`), facts);
}

async function encryptionCoverage(ctx: CheckContext): Promise<Finding> {
  const rows = await ctx.figures();
  let unsealed = 0;
  for (const r of rows) {
    if (!r.collections.length) continue;
    unsealed += await ctx.db.withTenant(r.tenantId, async (tx) => {
      let n = 0;
      for (const c of r.collections) n += await evidenceRepo.unsealedRecords(tx, c.id, c.sealed);
      return n;
    });
  }
  const fields = sum(rows, (r) => r.collections.reduce((n, c) => n + c.sealed.length, 0));
  const withoutKey = rows.filter((r) => r.collections.length > 0 && r.dataKeys === 0).length;
  const lastRotation = rows.map((r) => r.lastRotation).filter((d): d is Date => !!d).sort((a, b) => b.getTime() - a.getTime())[0] ?? null;
  const facts = { personalFields: fields, unsealedRecords: unsealed, activeDataKeys: sum(rows, (r) => r.dataKeys), tenantsWithoutKey: withoutKey, lastRotation: iso(lastRotation) };
  const rotated = lastRotation ? lastRotation.toISOString() : null;
  if (unsealed || withoutKey) {
    return fail(t(`${unsealed} Datensätze mit unverschlüsselten personenbezogenen Feldern; ${withoutKey} Mandanten ohne aktiven Datenschlüssel.`,
      `${unsealed} records with unencrypted personal fields; ${withoutKey} tenants without an active data key.`), facts);
  }
  return ok(t(`Alle ${fields} als personenbezogen oder besonders eingestuften Felder mit AES-256-GCM verschlüsselt; ${facts.activeDataKeys} aktive Datenschlüssel; letzte Rotation: ${rotated ?? 'keine'}.`,
    `All ${fields} fields classified personal or special encrypted with AES-256-GCM; ${facts.activeDataKeys} active data keys; last rotation: ${rotated ?? 'none'}.`), facts);
}

const dataChecks: Partial<Record<CheckId, Check>> = {
  'db.rls': rlsProbe,
  'crypto.coverage': encryptionCoverage,
  'crypto.pseudonyms': async (ctx) => {
    const rows = await ctx.figures();
    const facts = { indexKeys: sum(rows, (r) => r.indexKeys), pseudonymKeys: sum(rows, (r) => r.pseudonymKeys) };
    return ok(t(`HMAC-SHA256 unter eigenen Mandantenschlüsseln: ${facts.indexKeys} Indexschlüssel, ${facts.pseudonymKeys} Pseudonymschlüssel, getrennt von den Daten gespeichert.`,
      `HMAC-SHA256 under separate tenant keys: ${facts.indexKeys} index keys, ${facts.pseudonymKeys} pseudonym keys, stored apart from the data.`), facts);
  },
  'environment.marking': async ({ db, config }) => {
    const declared = await evidenceRepo.declaredEnvironment(db);
    const facts = { environment: config.environment, declared };
    return declared !== null && declared !== config.environment
      ? fail(t(`Konfiguriert als ${config.environment}, der Speicher ist aber als ${declared} erklärt.`, `Configured as ${config.environment}, but the store declares ${declared}.`), facts)
      : ok(t(`Diese Installation ist als ${config.environment} gekennzeichnet (Kopfzeile Tresor-Environment, /healthz).`,
        `This deployment is marked ${config.environment} (Tresor-Environment header, /healthz).`), facts);
  },
  'payment.guard': async ({ config }) => config.paymentCardGuard === 'on'
    ? ok(t('Sperre für Zahlungskartennummern aktiv (TRESOR_PAYMENT_CARD_GUARD=on).', 'Payment card number guard on (TRESOR_PAYMENT_CARD_GUARD=on).'), { guard: 'on' })
    : fail(t('Sperre für Zahlungskartennummern ausgeschaltet.', 'Payment card number guard switched off.'), { guard: 'off' }),
  'order.instructions': async (ctx) => {
    const required = instructionRequired(ctx.config);
    const rows = await ctx.figures();
    const confirmed = rows.filter((r) => r.instructionConfirmed).length;
    const facts = { required, tenants: rows.length, tenantsWithConfirmedInstruction: confirmed };
    const summary = t(`Weisung erforderlich: ${required ? 'ja' : 'nein'}; ${confirmed} von ${rows.length} Mandanten mit bestätigter Weisung.`,
      `Instruction required: ${required ? 'yes' : 'no'}; ${confirmed} of ${rows.length} tenants with a confirmed instruction.`);
    return !required && ctx.config.environment === 'production' ? fail(summary, facts) : ok(summary, facts);
  },
};

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

const transferChecks: Partial<Record<CheckId, Check>> = {
  'transfer.tls': async ({ config, now }) => {
    if (config.tlsCertFile) {
      const cert = new X509Certificate(readFileSync(config.tlsCertFile));
      const validTo = new Date(cert.validTo);
      const facts = { tls: 'direct', certificateValidTo: validTo.toISOString() };
      return validTo.getTime() < now().getTime()
        ? fail(t(`TLS-Zertifikat abgelaufen am ${validTo.toISOString()}.`, `TLS certificate expired on ${validTo.toISOString()}.`), facts)
        : ok(t(`TLS 1.2/1.3 direkt am Server; Zertifikat gültig bis ${validTo.toISOString()}.`, `TLS 1.2/1.3 served directly; certificate valid until ${validTo.toISOString()}.`), facts);
    }
    if (LOOPBACK.has(config.host)) {
      return ok(t(`Server lauscht nur auf ${config.host}; TLS endet am vorgeschalteten Proxy.`, `Server listens on ${config.host} only; TLS ends at the reverse proxy in front.`), { tls: 'proxy', host: config.host });
    }
    if (config.trustedProxies) {
      return ok(t('TLS endet an einem vertrauenswürdigen Proxy; Anfragen ohne https-Weiterleitung werden abgewiesen.', 'TLS ends at a trusted proxy; requests it did not forward as https are refused.'),
        { tls: 'trusted_proxy', host: config.host });
    }
    return fail(t(`Unverschlüsseltes HTTP auf ${config.host} ohne TLS-Zertifikat.`, `Plain HTTP on ${config.host} without a TLS certificate.`), { tls: 'none', host: config.host });
  },
  'transfer.egress': async ({ config }) => {
    const { destinations } = parseAllowlist(config.egressAllow);
    const list = destinations.map((d) => `${d.country} ${d.prefix}`).join(', ');
    return ok(destinations.length
      ? t(`${destinations.length} freigegebene Ziele: ${list}; jede Übermittlung steht im Transferprotokoll.`, `${destinations.length} approved destinations: ${list}; every transfer is in the transfer log.`)
      : t('Keine freigegebenen Ziele: nichts verlässt die Installation.', 'No approved destinations: nothing leaves the deployment.'), { destinations: destinations.length });
  },
  'transfer.eu_only': async ({ db, config }) => {
    const outside = [...parseAllowlist(config.egressAllow).destinations.filter((d) => !EU_EEA.has(d.country)).map((d) => `${d.prefix} (${d.country})`),
      ...(await evidenceRepo.subProcessors(db)).filter((s) => !EU_EEA.has(s.country)).map((s) => `${s.name} (${s.country})`)];
    const facts = { outsideEea: outside.length };
    return outside.length
      ? fail(t(`Ziele außerhalb von EU/EWR: ${outside.join(', ')}.`, `Destinations outside the EU/EEA: ${outside.join(', ')}.`), facts)
      : ok(t('Alle Ziele und Sub-Auftragsverarbeiter in EU/EWR.', 'Every destination and sub-processor lies in the EU/EEA.'), facts);
  },
};

const CHECKS: Record<CheckId, Check> = { ...identityChecks, ...dataChecks, ...transferChecks, ...backupChecks } as Record<CheckId, Check>;

/** Runs the given checks once each; a check that throws is failing, never met. */
export async function runChecks(deps: CheckDeps, ids: CheckId[], tenantId?: string): Promise<Map<CheckId, Evidence>> {
  let figures: Promise<TenantFigures[]> | undefined;
  const ctx: CheckContext = { ...deps, tenantId,
    figures: () => (figures ??= eachTenant(deps.db, tenantId, (tx) => evidenceRepo.tenantFigures(tx, new Date(deps.now().getTime() - 30 * DAY_MS)))) };
  const out = new Map<CheckId, Evidence>();
  for (const id of new Set(ids)) {
    let finding: Finding;
    try {
      finding = await CHECKS[id](ctx);
    } catch (err) {
      const reason = String((err as Error).message ?? err).slice(0, 200);
      finding = fail(t(`Prüfung fehlgeschlagen: ${reason}`, `Check failed: ${reason}`), {});
    }
    out.set(id, { ...finding, check: id, checkedAt: deps.now().toISOString() });
  }
  return out;
}

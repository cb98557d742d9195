// What a register measure is; the template (tom-template.ts) lists them.

export type Kind = 'technical' | 'organisational' | 'physical';
export interface Text { de: string; en: string }

export const CHECK_IDS = [
  'identity.mfa', 'identity.sessions', 'identity.passwords', 'identity.accounts', 'access.roles', 'security.tracking',
  'db.rls', 'crypto.coverage', 'crypto.pseudonyms', 'environment.marking', 'payment.guard', 'order.instructions',
  'transfer.tls', 'transfer.egress', 'transfer.eu_only', 'audit.verify', 'audit.request_log', 'retention.closure',
  'retention.job', 'backup.age', 'backup.restore', 'ha.failover', 'incidents.procedure',
] as const;
export type CheckId = (typeof CHECK_IDS)[number];

export const SECTION_IDS = ['1.1', '1.2', '1.3', '1.4', '1.5', '1.6', '2.1', '2.2', '3.1', '3.2', '4'] as const;
export type SectionId = (typeof SECTION_IDS)[number];

/** Documents the annex links to: the emergency plan is the incident procedure and the recovery plan. */
export type LinkId = 'recovery' | 'incidents' | 'compliance';

export interface Measure {
  key: string;
  section: SectionId;
  kind: Kind;
  /** The evidence Tresor collects itself; without it the measure needs an attestation. */
  check?: CheckId;
  /** Default review interval in days (the operator may change it). */
  reviewDays: number;
  title: Text;
  description: Text;
  links?: LinkId[];
}

export interface Section { id: SectionId; group: 1 | 2 | 3 | 4; title: Text; purpose: Text }

type Pair = [string, string];
export const measure = (key: string, section: SectionId, kind: Kind, check: CheckId | null, reviewDays: number,
  [titleDe, titleEn]: Pair, [descDe, descEn]: Pair, links?: LinkId[]): Measure =>
  ({ key, section, kind, ...(check ? { check } : {}), reviewDays, title: { de: titleDe, en: titleEn }, description: { de: descDe, en: descEn }, ...(links ? { links } : {}) });


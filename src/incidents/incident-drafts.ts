import type { IncidentRow, TenantPartRow } from './incidents-repo.ts';

// Notification drafts for each affected controller (tenant), in German and
// English, with the contents GDPR Art. 33(3) asks for: the nature of the
// breach, the categories and approximate numbers of data subjects and records,
// a contact point, the likely consequences and the measures taken or proposed.
// Built from the register entry and the counts of the tenant's part only:
// collection names and numbers, never a record id's data, never a value.

export const DRAFT_LANGS = ['de', 'en'] as const;
export type DraftLang = (typeof DRAFT_LANGS)[number];

const words = {
  en: {
    heading: 'Notification of a personal data breach (GDPR Art. 33) — draft',
    to: 'To', controller: 'controller', from: 'From', processor: 'the processor operating Tresor',
    incident: 'Incident', detected: 'detected', aware: 'aware since',
    timing: 'As your processor we inform you without undue delay (Art. 33(2)). Your notification to the supervisory authority is due within 72 hours of becoming aware (Art. 33(1)).',
    nature: 'Nature of the breach', severity: 'Severity', systems: 'Affected systems', none: 'none named',
    category: { confidentiality: 'breach of confidentiality (unauthorised disclosure of or access to personal data)',
      integrity: 'breach of integrity (unauthorised or accidental alteration of personal data)',
      availability: 'breach of availability (loss of access to or destruction of personal data)' } as Record<string, string>,
    numbers: 'Categories and approximate numbers of data subjects and records',
    dataCategories: 'Categories of personal data', collections: 'Collections concerned', records: (n: number, more: boolean) => `${more ? 'at least ' : ''}${n} record(s)`,
    approx: (subjects: number, read: number, changed: number) => `Approximately ${subjects} data subject(s) (one record counted as one person; several records may concern one person); ${read} record(s) read, ${changed} record(s) changed.`,
    contact: 'Contact point for more information', noContact: 'not configured yet: set TRESOR_DPO_CONTACT (data protection officer or other contact point)',
    consequences: 'Likely consequences', tbd: 'to be assessed',
    measures: 'Measures taken or proposed', tbdMeasures: 'to be determined',
    decision: 'Assessment', notifiable: 'the processor assesses this breach as likely to result in a risk to the rights and freedoms of natural persons',
    notNotifiable: 'the processor assesses this breach as unlikely to result in a risk; reason', undecided: 'not yet decided',
    generated: 'Generated',
  },
  de: {
    heading: 'Meldung einer Verletzung des Schutzes personenbezogener Daten (Art. 33 DSGVO) — Entwurf',
    to: 'An', controller: 'Verantwortlicher', from: 'Von', processor: 'der Auftragsverarbeiter, der Tresor betreibt',
    incident: 'Vorfall', detected: 'entdeckt', aware: 'bekannt seit',
    timing: 'Als Ihr Auftragsverarbeiter melden wir Ihnen dies unverzüglich (Art. 33 Abs. 2). Ihre Meldung an die Aufsichtsbehörde ist binnen 72 Stunden, nachdem Ihnen die Verletzung bekannt wurde, fällig (Art. 33 Abs. 1).',
    nature: 'Art der Verletzung', severity: 'Schweregrad', systems: 'Betroffene Systeme', none: 'keine genannt',
    category: { confidentiality: 'Verletzung der Vertraulichkeit (unbefugte Offenlegung personenbezogener Daten oder unbefugter Zugang zu ihnen)',
      integrity: 'Verletzung der Integrität (unbefugte oder unbeabsichtigte Veränderung personenbezogener Daten)',
      availability: 'Verletzung der Verfügbarkeit (Verlust des Zugangs zu personenbezogenen Daten oder ihre Vernichtung)' } as Record<string, string>,
    numbers: 'Kategorien und ungefähre Zahl der betroffenen Personen und Datensätze',
    dataCategories: 'Kategorien personenbezogener Daten', collections: 'Betroffene Sammlungen', records: (n: number, more: boolean) => `${more ? 'mindestens ' : ''}${n} Datensatz/Datensätze`,
    approx: (subjects: number, read: number, changed: number) => `Ungefähr ${subjects} betroffene Person(en) (ein Datensatz als eine Person gezählt; mehrere Datensätze können dieselbe Person betreffen); ${read} Datensatz/Datensätze gelesen, ${changed} verändert.`,
    contact: 'Anlaufstelle für weitere Informationen', noContact: 'noch nicht eingerichtet: TRESOR_DPO_CONTACT setzen (Datenschutzbeauftragte/r oder sonstige Anlaufstelle)',
    consequences: 'Wahrscheinliche Folgen', tbd: 'noch zu bewerten',
    measures: 'Ergriffene oder vorgeschlagene Maßnahmen', tbdMeasures: 'noch festzulegen',
    decision: 'Bewertung', notifiable: 'der Auftragsverarbeiter bewertet die Verletzung als voraussichtlich mit einem Risiko für die Rechte und Freiheiten natürlicher Personen verbunden',
    notNotifiable: 'der Auftragsverarbeiter bewertet die Verletzung als voraussichtlich nicht mit einem Risiko verbunden; Begründung', undecided: 'noch nicht entschieden',
    generated: 'Erstellt',
  },
};

const SEVERITY: Record<DraftLang, Record<string, string>> = {
  en: { low: 'low', medium: 'medium', high: 'high', critical: 'critical' },
  de: { low: 'niedrig', medium: 'mittel', high: 'hoch', critical: 'kritisch' },
};

export function notificationDraft(r: IncidentRow, part: TenantPartRow, tenantName: string, lang: DraftLang, dpoContact: string | undefined, now: Date) {
  const w = words[lang];
  const collections = Object.entries(part.recordIds).map(([c, ids]) => ({ collection: c, records: ids.length }));
  const contents = {
    nature: w.category[r.category] ?? r.category,
    dataCategories: r.dataCategories,
    collections,
    approximateSubjects: part.recordsTotal,
    approximateRecords: part.recordsTotal,
    recordsRead: part.recordsRead,
    recordsChanged: part.recordsChanged,
    contact: dpoContact ?? null,
    consequences: r.consequences,
    measures: r.measures,
  };
  const decision = r.notifiable === null ? w.undecided : r.notifiable ? w.notifiable : `${w.notNotifiable}: ${r.decisionReason}`;
  const text = [
    `# ${w.heading}`, '',
    `- ${w.to}: ${tenantName} (${w.controller})`,
    `- ${w.from}: ${w.processor}`,
    `- ${w.incident}: ${r.title} (${r.id}); ${w.detected} ${r.detectedAt.toISOString()}, ${w.aware} ${r.awareAt.toISOString()}`, '',
    w.timing, '',
    `## ${w.nature}`, '', contents.nature, '', `- ${w.severity}: ${SEVERITY[lang][r.severity]}`,
    `- ${w.systems}: ${r.affectedSystems.length ? r.affectedSystems.join(', ') : w.none}`, '', r.description, '',
    `## ${w.numbers}`, '',
    `- ${w.dataCategories}: ${r.dataCategories.length ? r.dataCategories.join(', ') : w.none}`,
    `- ${w.collections}: ${collections.length ? collections.map((c) => `${c.collection} (${w.records(c.records, part.recordIdsTruncated)})`).join(', ') : w.none}`,
    `- ${w.approx(part.recordsTotal, part.recordsRead, part.recordsChanged)}`, '',
    `## ${w.contact}`, '', dpoContact ?? w.noContact, '',
    `## ${w.consequences}`, '', r.consequences ?? w.tbd, '',
    `## ${w.measures}`, '', r.measures ?? w.tbdMeasures, '',
    `## ${w.decision}`, '', decision, '',
    `${w.generated}: ${now.toISOString()}`, '',
  ].join('\n');
  return { tenantId: part.tenantId, tenantName, lang, contents, text };
}

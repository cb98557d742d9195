import type { EventView, IncidentView, PartView } from './incident-view.ts';

// The Art. 33(5) documentation of one incident: the facts, its effects and
// the remedial action taken, as one JSON document and as Markdown to file.

export type IncidentDetail = IncidentView & { timeline: EventView[]; affectedTenants: PartView[] };

export function incidentExport(d: IncidentDetail, now: Date) {
  return { format: 'tresor.incident-documentation.v1' as const, generatedAt: now.toISOString(), incident: d, markdown: markdownOf(d, now) };
}

const line = (label: string, value: string | number | boolean | null) => `- ${label}: ${value ?? '—'}`;

function markdownOf(d: IncidentDetail, now: Date): string {
  const decision = d.decision;
  return [
    `# Incident ${d.id}: ${d.title}`, '',
    'Documentation under GDPR Art. 33(5): the facts of the breach, its effects and the remedial action taken.', '',
    '## Facts', '',
    line('Status', d.status), line('Category', d.category), line('Severity', d.severity),
    line('Detected at', d.detectedAt), line('Aware at (starts the 72-hour clock)', d.awareAt), line('Deadline', d.clock.deadline),
    line('Opened by', `${d.openedBy.type} ${d.openedBy.id}${d.rule ? ` (rule ${d.rule})` : ''}`),
    line('Affected systems', d.affectedSystems.join(', ') || null), line('Data categories', d.dataCategories.join(', ') || null), '',
    d.description, '',
    '## Effects: affected tenants (from the audit trail)', '',
    ...(d.affectedTenants.length ? ['| tenant | records read | records changed | records in all | computed at |', '|---|---:|---:|---:|---|',
      ...d.affectedTenants.map((p) => `| ${p.tenantId} | ${p.recordsRead} | ${p.recordsChanged} | ${p.recordsTotal} | ${p.computedAt} |`)] : ['none computed']), '',
    '## Notifiability decision (Art. 33(1))', '',
    ...(decision ? [line('Notifiable', decision.notifiable), line('Reason', decision.reason), line('Likely consequences', decision.consequences),
      line('Measures taken or proposed', decision.measures), line('Authority notified at', decision.authorityNotifiedAt),
      line('Decided at', decision.decidedAt), line('Decided by', `${decision.decidedBy.type} ${decision.decidedBy.id}`)] : ['not decided']), '',
    '## Timeline', '',
    '| # | at | kind | actor | note |', '|---:|---|---|---|---|',
    ...d.timeline.map((e) => `| ${e.seq} | ${e.at} | ${e.kind} | ${e.actor.type} ${e.actor.id} | ${e.note.replace(/\|/g, '\\|').replace(/\n/g, ' ')} |`), '',
    '## Closure', '',
    ...(d.closure ? [line('Closed at', d.closure.closedAt), line('Closed by', `${d.closure.closedBy.type} ${d.closure.closedBy.id}`), '', '### Lessons learned', '',
      d.closure.lessonsLearned] : ['open']), '',
    `Generated ${now.toISOString()}.`, '',
  ].join('\n');
}

// Writes an annex as Markdown or as HTML with a print stylesheet (which the
// PDF is printed from). Both follow the sections of the register's template.
import type { EntryView } from './tom-register.ts';
import { GROUPS, SECTIONS } from './tom-template.ts';
import { type Annex, KIND, LINKS, type Lang, STATUS, WORDS, say } from './tom-annex.ts';

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

function evidenceLine(e: EntryView, lang: Lang): string {
  if (e.evidence) return `${say(e.evidence.summary, lang)} (${say(WORDS.checkedAt, lang)} ${e.evidence.checkedAt})`;
  const a = e.attestation;
  if (!a) return say(WORDS.noAttestation, lang);
  const doc = a.documentSha256 ? `${say(WORDS.document, lang)} ${a.documentSha256}` : say(WORDS.noDocument, lang);
  return `${say(WORDS.attestedBy, lang)} ${a.attestedBy} ${say(WORDS.on, lang)} ${a.attestedAt}; ${doc}; ${say(WORDS.nextReview, lang)} ${a.nextReviewAt}`;
}

function counts(annex: Annex): string {
  const by = new Map<string, number>();
  for (const e of annex.entries) by.set(e.status, (by.get(e.status) ?? 0) + 1);
  return [...by].map(([s, n]) => `${say(STATUS[s as keyof typeof STATUS], annex.lang)}: ${n}`).join(' · ');
}

function header(annex: Annex): [string, string][] {
  const l = annex.lang;
  return [
    [say(annex.tenant ? WORDS.scopeTenant : WORDS.scopeDeployment, l), annex.tenant ? `${annex.tenant.name} (${annex.tenant.id})` : ''],
    [say(WORDS.generatedAt, l), annex.generatedAt],
    [say(WORDS.environment, l), annex.environment],
    [say(WORDS.configHash, l), annex.configHash],
    [say(WORDS.keyId, l), annex.keyId],
    [say(WORDS.summary, l), counts(annex)],
  ];
}

const sectionsInOrder = () => SECTIONS.map((s, i) => ({ ...s, first: i === 0 || SECTIONS[i - 1].group !== s.group }));

export function renderMarkdown(annex: Annex): string {
  const l = annex.lang;
  const out: string[] = [`# ${say(WORDS.title, l)}`, '', say(WORDS.intro, l), ''];
  for (const [k, v] of header(annex)) out.push(`- ${k}${v ? `: ${v}` : ''}`);
  for (const s of sectionsInOrder()) {
    if (s.first) out.push('', `## ${s.group}. ${say(GROUPS[s.group], l)}`);
    out.push('', `### ${s.id === '4' ? '4' : s.id} ${say(s.title, l)}`, '', say(s.purpose, l), '');
    for (const e of annex.entries.filter((x) => x.section === s.id)) {
      out.push(`- **${say(e.title, l)}** (${say(KIND[e.kind], l)}) — ${say(WORDS.status, l)}: **${say(STATUS[e.status], l)}**`,
        `  ${say(e.description, l)}`,
        `  ${say(WORDS.evidence, l)}: ${evidenceLine(e, l)}`,
        `  ${say(WORDS.owner, l)}: ${e.owner ?? say(WORDS.unassigned, l)}${e.reviewDueAt ? `; ${say(WORDS.reviewDue, l)} ${e.reviewDueAt}` : ''}`);
      if (e.links.length) out.push(`  ${say(WORDS.see, l)}: ${e.links.map((k) => `[${say(LINKS[k].label, l)}](${LINKS[k].href})`).join(', ')}`);
    }
  }
  out.push('', `## ${say(WORDS.subProcessors, l)}`, '');
  if (!annex.subProcessors.length) out.push(say(WORDS.noSubProcessors, l));
  for (const p of annex.subProcessors) out.push(`- ${p.name}: ${p.service}; ${say(WORDS.spCountry, l)} ${p.country}; ${say(WORDS.spDpa, l)} ${p.dpaDate}`);
  out.push('', `## ${say(WORDS.emergency, l)}`, '', say(WORDS.emergencyText, l), '',
    `${say(WORDS.see, l)}: [${say(LINKS.incidents.label, l)}](${LINKS.incidents.href}), [${say(LINKS.recovery.label, l)}](${LINKS.recovery.href})`,
    '', `## ${say(WORDS.verification, l)}`, '', say(WORDS.verificationText, l), '');
  return out.join('\n');
}

const STYLE = `
body { font: 10.5pt/1.4 "DejaVu Sans", Arial, sans-serif; color: #111; margin: 2em; hyphens: manual; }
h1 { font-size: 16pt; } h2 { font-size: 13pt; margin-top: 1.6em; } h3 { font-size: 11.5pt; margin: 1.2em 0 0.3em; }
table { border-collapse: collapse; width: 100%; margin: 0.4em 0 1em; }
th, td { border: 1px solid #bbb; padding: 4px 6px; vertical-align: top; text-align: left; }
th { background: #eee; } .meta td:first-child { width: 32%; font-weight: bold; }
.purpose { color: #444; font-style: italic; margin: 0.2em 0 0.4em; }
.status { font-weight: bold; white-space: nowrap; }
.s-met { color: #0a6b2b; } .s-failing, .s-overdue { color: #b00020; } .s-unattested, .s-pending { color: #8a5a00; } .s-not_applicable { color: #555; }
.desc { color: #333; } .code { font-family: "DejaVu Sans Mono", monospace; word-break: break-all; }
@media print {
  @page { size: A4; margin: 16mm 14mm; }
  body { margin: 0; font-size: 9.5pt; }
  tr, .keep { page-break-inside: avoid; break-inside: avoid; }
  h2, h3 { page-break-after: avoid; break-after: avoid; }
  a { color: inherit; text-decoration: none; }
}`;

function entryRow(e: EntryView, l: Lang): string {
  const links = e.links.length ? `<br>${esc(say(WORDS.see, l))}: ${e.links.map((k) => `<a href="${esc(LINKS[k].href)}">${esc(say(LINKS[k].label, l))}</a>`).join(', ')}` : '';
  return `<tr id="m-${esc(e.key)}"><td><strong>${esc(say(e.title, l))}</strong><br><span class="desc">${esc(say(e.description, l))}</span>${links}</td>`
    + `<td>${esc(say(KIND[e.kind], l))}</td><td class="status s-${e.status}">${esc(say(STATUS[e.status], l))}</td>`
    + `<td>${esc(evidenceLine(e, l))}</td><td>${esc(e.owner ?? say(WORDS.unassigned, l))}${e.reviewDueAt ? `<br>${esc(say(WORDS.reviewDue, l))} ${esc(e.reviewDueAt)}` : ''}</td></tr>`;
}

export function renderHtml(annex: Annex): string {
  const l = annex.lang;
  const head = ['measure', 'kind', 'status', 'evidence', 'owner'].map((k) => `<th>${esc(say(WORDS[k as 'measure'], l))}</th>`).join('');
  const body: string[] = [`<h1>${esc(say(WORDS.title, l))}</h1>`, `<p>${esc(say(WORDS.intro, l))}</p>`,
    `<table class="meta">${header(annex).map(([k, v]) => `<tr><td>${esc(k)}</td><td class="code">${esc(v)}</td></tr>`).join('')}</table>`];
  for (const s of sectionsInOrder()) {
    if (s.first) body.push(`<h2>${s.group}. ${esc(say(GROUPS[s.group], l))}</h2>`);
    body.push(`<h3>${esc(s.id)} ${esc(say(s.title, l))}</h3>`, `<p class="purpose">${esc(say(s.purpose, l))}</p>`,
      `<table><thead><tr>${head}</tr></thead><tbody>${annex.entries.filter((x) => x.section === s.id).map((e) => entryRow(e, l)).join('')}</tbody></table>`);
  }
  body.push(`<h2>${esc(say(WORDS.subProcessors, l))}</h2>`, annex.subProcessors.length
    ? `<table><thead><tr>${['spName', 'spService', 'spCountry', 'spDpa'].map((k) => `<th>${esc(say(WORDS[k as 'spName'], l))}</th>`).join('')}</tr></thead><tbody>`
      + annex.subProcessors.map((p) => `<tr><td>${esc(p.name)}</td><td>${esc(p.service)}</td><td>${esc(p.country)}</td><td>${esc(p.dpaDate)}</td></tr>`).join('') + '</tbody></table>'
    : `<p>${esc(say(WORDS.noSubProcessors, l))}</p>`);
  body.push(`<h2 id="emergency">${esc(say(WORDS.emergency, l))}</h2>`, `<p class="keep">${esc(say(WORDS.emergencyText, l))}</p>`,
    `<p>${esc(say(WORDS.see, l))}: <a href="${LINKS.incidents.href}">${esc(say(LINKS.incidents.label, l))}</a>, <a href="${LINKS.recovery.href}">${esc(say(LINKS.recovery.label, l))}</a></p>`,
    `<h2>${esc(say(WORDS.verification, l))}</h2>`, `<p class="keep">${esc(say(WORDS.verificationText, l))}</p>`);
  return `<!DOCTYPE html>\n<html lang="${l}"><head><meta charset="utf-8"><title>${esc(say(WORDS.title, l))}</title>`
    + `<meta name="tresor-config-sha256" content="${annex.configHash}"><meta name="tresor-generated-at" content="${esc(annex.generatedAt)}">`
    + `<style>${STYLE}</style></head><body>\n${body.join('\n')}\n</body></html>\n`;
}

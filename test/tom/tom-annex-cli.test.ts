// `tresor tom report` on a fresh embedded deployment, as an operator runs it:
// the German PDF read back with Debian's pdftotext names every measure the
// usual processor annexes promise, the technical ones with evidence and its
// check time; the English PDF names them in English; `tresor tom verify`
// passes both files as written and fails them after one changed byte.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tresorDirs } from '../../bench/tresor-process.ts';
import { TEMPLATE } from '../../src/tom/tom-template.ts';
import { tresor } from '../cli/run-cli.ts';

// What the two annexes processors commonly hand their clients promise, in
// their words (each must be found in the German annex).
const SEED_MEASURES = [
  'Türsicherheit', 'elektronisches Ausweissystem mit kontrollierter Schlüsselzuordnung', 'Aufzugsicherheit', 'Aufzug-Zugangscode',
  'Überwachungseinrichtungen', 'Alarmsysteme und Videoüberwachung', 'Gesicherter IT-Raum', 'Feuerschutz und Feuerlöscher', 'Kontrollsystem für Besucher',
  'Umzäunung', 'Bewegungsmelder, Alarmsysteme, Videoüberwachung', 'Sicherheitspersonal vor Ort rund um die Uhr',
  'Zwei-Faktor-Authentifizierung', 'Mindestlänge', 'SSH-Netzwerkprotokoll und VPN-Verbindung', 'Automatische Sperre', 'Abmeldung',
  'Berechtigungskonzept', 'Verschlüsselte Speichermedien', 'Nachverfolgung unerlaubter Aktivitäten', 'Verkapselung sensibler Systeme durch separate Netzwerkbereiche',
  'Firewall, regelmäßig aktualisierte Antiviren-Programme', 'Dokumentierte Richtlinie zur Zugriffskontrolle',
  'Verschlüsselte Speicherung personenbezogener Daten', 'Mandantenfähigkeit', 'Trennen von Test- und Produktionssystemen', 'Geografische Verteilung',
  'Redundanz', 'Hashwert-Funktion', 'Anweisungen des Auftraggebers', 'Überwachung der Vertragsausführung', 'Für alle Mitarbeiter geltende interne Richtlinien',
  'Übermittlung über verschlüsselte Verbindungen', 'Umfangreiche Aufzeichnung', 'Kein Datenverkehr außerhalb der EU', 'Kontoschließung',
  'IP-Adresse, Datum, URL und Methode', 'Dokumentationen zu Anforderungen werden aufbewahrt', 'Datensicherung', 'Replizierung der Datenbanken in mehrere Systeme',
  'Unterbrechungsfreie Stromversorgung', 'Brandmeldesystem', 'Klimatisierungssystem', 'Alarmsystem', 'Vorfallsmanagement', 'Disaster-Recovery-Plan und Notfallplan',
  'Automatische Umschaltung der Datenbankserver', 'Regelmäßige Überprüfung der Datenwiederherstellbarkeit', 'Datenschutzmanagement',
  'ISO 27001-Zertifizierung und regelmäßige Neuzertifizierung', 'Externe Penetrations- und Sicherheitstests', 'Bug-Bounty', 'Prozedur bei Datenschutzverletzungen',
  'Dokumentation der Kundenanweisungen',
  'Schlüsselvergabe an Mitarbeiter mit Übergabeprotokoll', 'Türsicherung', 'elektrische Türöffner', 'Balkenschloss', 'doppeltes Sicherheitsschloss an der Bürotür',
  'Sorgfältige Auswahl von Dienstleistern und Sub-Auftragsverarbeitern', 'Alle Systeme sind passwortgeschützt', 'Kennwortverfahren', 'Sonderzeichen',
  'Beendigung eines Dienstverhältnisses', 'Benutzerstammsatzes pro Anwender', 'verschlüsselte Verbindung', 'Überwachung und Protokollierung',
  'unverändert', 'Zeitstempel', 'Eindeutige Vertragsgestaltung', 'Formalisierte Auftragserteilung (Auftragsbestätigung)', 'Kriterien zur Auswahl des Auftragnehmers',
  'Vertraulichkeits- und Datenschutzvereinbarung mit Dienstleistern', 'Zeitpunkt und Status', 'AES-256', 'Sub-Auftragsverarbeiter',
  'Zutrittskontrolle', 'Zugangskontrolle', 'Zugriffskontrolle', 'Trennungskontrolle', 'Pseudonymisierung', 'Auftragskontrolle', 'Weitergabekontrolle',
  'Eingabekontrolle', 'Verfügbarkeitskontrolle', 'Rasche Wiederherstellbarkeit',
];

/**
 * Text as pdftotext gives it, compared without whitespace, hyphens or case:
 * the PDF wraps lines inside table cells, and pdftotext drops the hyphen of
 * a word broken at one.
 */
const squeeze = (s: string) => s.replace(/[\s-]+/g, '').toLowerCase();

// The PDF needs Debian's chromium and this test reads it back with pdftotext
// (poppler-utils); CI installs both. Without them the file shows up as
// skipped, with the reason, rather than failing on a missing program.
const missing = [process.env.TRESOR_CHROMIUM_PATH ?? '/usr/bin/chromium', 'pdftotext'].filter((p) => !onPath(p));
function onPath(program: string): boolean {
  if (program.includes('/')) return existsSync(program);
  return (process.env.PATH ?? '').split(':').some((dir) => dir && existsSync(join(dir, program)));
}

describe('tresor tom report and verify on a fresh embedded deployment', { skip: missing.length ? `not installed: ${missing.join(', ')} (apt-get install chromium poppler-utils)` : false }, () => {
  const dirs = tresorDirs('tresor-tom-cli-');
  const env = { ...dirs.env, LOG_LEVEL: 'silent', TRESOR_ENVIRONMENT: 'test' };
  const pdf = join(dirs.dir, 'annex-de.pdf');
  const pdfEn = join(dirs.dir, 'annex-en.pdf');
  let pdfText: string;
  after(() => dirs.remove());

  before(async () => {
    const run = await tresor(['tom', 'report', '--lang', 'de', '--format', 'pdf', '--out', pdf, '--json'], env);
    assert.equal(run.code, 0, run.stderr + run.stdout);
    assert.equal(JSON.parse(run.stdout).contentType, 'application/pdf');
    pdfText = execFileSync('pdftotext', ['-enc', 'UTF-8', pdf, '-'], { encoding: 'utf8' });
  });

  it('the German PDF names every measure of both seed annexes and every register entry', () => {
    const text = squeeze(pdfText);
    assert.deepEqual(SEED_MEASURES.filter((m) => !text.includes(squeeze(m))), []);
    assert.deepEqual(TEMPLATE.filter((m) => !text.includes(squeeze(m.title.de))).map((m) => m.key), []);
    assert.match(pdfText, /Anlage: Technische und organisatorische Maßnahmen/);
  });

  it('technical measures carry evidence with the time of its check; failing and unproven ones are never met', () => {
    const text = squeeze(pdfText);
    for (const phrase of ['Probe unter der Anwendungsrolle', 'Zweiter Faktor bei jeder Anmeldung verpflichtend', 'Sitzungen enden nach 15 Minuten Leerlauf',
      'Keine Sicherung vorhanden', 'Noch nie eine Wiederherstellung geprüft', 'Nicht anwendbar: eingebetteter Speicher']) {
      assert.ok(text.includes(squeeze(phrase)), phrase);
    }
    assert.ok((text.match(/geprüftam/g) ?? []).length >= TEMPLATE.filter((m) => m.check).length, 'a check time per technical measure');
    assert.match(pdfText, /NICHT ERFÜLLT/);
    assert.match(pdfText, /nicht bestätigt/);
  });

  it('the English PDF names every measure in English', async () => {
    const run = await tresor(['tom', 'report', '--lang', 'en', '--format', 'pdf', '--out', pdfEn], env);
    assert.equal(run.code, 0, run.stderr);
    const text = squeeze(execFileSync('pdftotext', ['-enc', 'UTF-8', pdfEn, '-'], { encoding: 'utf8' }));
    assert.deepEqual(TEMPLATE.filter((m) => !text.includes(squeeze(m.title.en))).map((m) => m.key), []);
    assert.ok(text.includes(squeeze('Emergency plan')) && text.includes(squeeze('docs/recovery.md')));
  });

  it('tresor tom verify passes both files and fails each after one changed byte', async () => {
    for (const file of [pdf, pdfEn]) {
      const ok = await tresor(['tom', 'verify', file, '--json'], env);
      assert.equal(ok.code, 0, ok.stderr + ok.stdout);
      const { publicKey } = JSON.parse(ok.stdout);
      assert.equal((await tresor(['tom', 'verify', file, '--public-key', publicKey], env)).code, 0);
      const bytes = readFileSync(file);
      const changed = Buffer.from(bytes);
      changed[Math.floor(bytes.length / 3)] ^= 0x20;
      const broken = `${file}.changed`;
      writeFileSync(broken, changed);
      const bad = await tresor(['tom', 'verify', broken, '--json'], env);
      assert.equal(bad.code, 1, bad.stdout);
      assert.equal(JSON.parse(bad.stdout).ok, false);
    }
    assert.equal((await tresor(['tom', 'verify', pdfEn, '--public-key', Buffer.alloc(32, 1).toString('base64')], env)).code, 1, 'another pinned key');
  });
});

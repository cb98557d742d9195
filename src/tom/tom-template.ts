// The register's template: every measure a processor's Art. 32 annex
// commonly promises, in the annex's usual sections, in German and English.
// A deployment loads it on first use and its operator adapts owner, review
// interval and wording (src/tom/tom-service.ts). Technical measures that
// Tresor checks itself name their check (src/tom/tom-checks.ts); the others
// carry attestations. Keys are stable: they survive template edits.
import { confidentialityMeasures } from './tom-template-confidentiality.ts';
import { type Measure, type Section, type Text, measure } from './tom-measure.ts';

export * from './tom-measure.ts';

export const GROUPS: Record<1 | 2 | 3 | 4, Text> = {
  1: { de: 'Maßnahmen zur Gewährleistung der Vertraulichkeit', en: 'Measures ensuring confidentiality' },
  2: { de: 'Maßnahmen zur Gewährleistung der Integrität', en: 'Measures ensuring integrity' },
  3: { de: 'Maßnahmen zur Gewährleistung der Verfügbarkeit und Belastbarkeit', en: 'Measures ensuring availability and recoverability' },
  4: { de: 'Verfahren zur regelmäßigen Überprüfung, Bewertung und Evaluierung', en: 'Regular review, assessment and evaluation' },
};

export const SECTIONS: Section[] = [
  { id: '1.1', group: 1, title: { de: 'Zutrittskontrolle (physischer Zugang)', en: 'Physical access control' },
    purpose: { de: 'Unbefugte gelangen nicht in die Räume und Rechenzentren, in denen personenbezogene Daten verarbeitet oder Datenträger aufbewahrt werden.',
      en: 'Unauthorised people do not enter the premises and data centres where personal data is processed or media are kept.' } },
  { id: '1.2', group: 1, title: { de: 'Zugangskontrolle (Systeme)', en: 'System access control' },
    purpose: { de: 'Nur berechtigte, eindeutig angemeldete Personen und Schlüssel können die Systeme benutzen.',
      en: 'Only authorised people and keys, each signed in individually, can use the systems.' } },
  { id: '1.3', group: 1, title: { de: 'Zugriffskontrolle (Daten)', en: 'Data access control' },
    purpose: { de: 'Wer ein System benutzen darf, liest, kopiert, ändert oder löscht nur die Daten, die seine Rolle erlaubt.',
      en: 'Whoever may use a system reads, copies, changes or deletes only the data their role allows.' } },
  { id: '1.4', group: 1, title: { de: 'Trennungskontrolle', en: 'Separation control' },
    purpose: { de: 'Daten verschiedener Auftraggeber und Zwecke werden getrennt verarbeitet; Test und Produktion sind getrennt.',
      en: 'Data of different clients and purposes is processed apart; test and production are kept apart.' } },
  { id: '1.5', group: 1, title: { de: 'Pseudonymisierung', en: 'Pseudonymisation' },
    purpose: { de: 'Wo es genügt, wird ohne direkten Personenbezug gearbeitet; der Schlüssel zur Zuordnung liegt getrennt.',
      en: 'Where it suffices, data is processed without direct identifiers; the key that links them back is kept apart.' } },
  { id: '1.6', group: 1, title: { de: 'Auftragskontrolle', en: 'Order control' },
    purpose: { de: 'Daten werden nur nach dokumentierter Weisung des Auftraggebers verarbeitet; Dienstleister werden sorgfältig ausgewählt.',
      en: 'Data is processed only on the client\'s documented instructions; service providers are chosen with care.' } },
  { id: '2.1', group: 2, title: { de: 'Weitergabekontrolle', en: 'Transfer control' },
    purpose: { de: 'Daten werden bei der Übertragung nicht unbefugt gelesen oder verändert, und es ist festgehalten, wohin sie gehen.',
      en: 'Data in transit is not read or changed without authority, and where it goes is recorded.' } },
  { id: '2.2', group: 2, title: { de: 'Eingabekontrolle', en: 'Input control' },
    purpose: { de: 'Es lässt sich nachträglich feststellen, wer Daten eingegeben, geändert oder gelöscht hat, und wie lange sie gespeichert bleiben.',
      en: 'It can be established afterwards who entered, changed or deleted data, and how long it is kept.' } },
  { id: '3.1', group: 3, title: { de: 'Verfügbarkeitskontrolle', en: 'Availability control' },
    purpose: { de: 'Daten sind gegen zufällige Zerstörung und Verlust geschützt.', en: 'Data is protected against accidental destruction and loss.' } },
  { id: '3.2', group: 3, title: { de: 'Rasche Wiederherstellbarkeit', en: 'Rapid recovery' },
    purpose: { de: 'Nach einem physischen oder technischen Zwischenfall sind Daten und Zugang rasch wiederhergestellt.',
      en: 'After a physical or technical incident, data and access are restored quickly.' } },
  { id: '4', group: 4, title: { de: 'Regelmäßige Überprüfung und Bewertung', en: 'Regular review and evaluation' },
    purpose: { de: 'Die Wirksamkeit der Maßnahmen wird regelmäßig geprüft, bewertet und verbessert.',
      en: 'The effectiveness of the measures is checked, assessed and improved regularly.' } },
];

const integrityAndAvailability: Measure[] = [
  measure('transfer.tls', '2.1', 'technical', 'transfer.tls', 365, ['Übermittlung über verschlüsselte Verbindungen (HTTPS/TLS)', 'Transmission over encrypted connections (HTTPS/TLS)'],
    ['Die API ist nur über TLS erreichbar: direkt mit eigenem Zertifikat oder nur auf der Loopback-Schnittstelle hinter einem TLS-Proxy.',
      'The API is reachable over TLS only: directly with its own certificate, or on the loopback interface behind a TLS proxy.']),
  measure('transfer.egress', '2.1', 'technical', 'transfer.egress', 365, ['Austausch nur mit freigegebenen Stellen (Egress-Allowlist)', 'Exchange with approved destinations only (egress allowlist)'],
    ['Jede ausgehende Verbindung muss auf der Allowlist stehen; Daten werden nur innerhalb der eigenen Systeme und an freigegebene Sub-Auftragsverarbeiter übermittelt.',
      'Every outbound connection must be on the allowlist; data moves only within the processor\'s own systems and to approved sub-processors.']),
  measure('transfer.log', '2.1', 'technical', 'transfer.egress', 365, ['Umfangreiche Aufzeichnung der Übermittlungen (Transferprotokoll)', 'Comprehensive record of transfers (transfer log)'],
    ['Jede Übermittlung wird mit Ziel, Land, Zweck, Größe und Ergebnis im Transferprotokoll festgehalten.',
      'Each transfer is recorded with destination, country, purpose, size and outcome in the transfer log.']),
  measure('transfer.eu_only', '2.1', 'technical', 'transfer.eu_only', 365, ['Kein Datenverkehr außerhalb der EU', 'No data traffic outside the EU'],
    ['Alle freigegebenen Ziele und Sub-Auftragsverarbeiter liegen in der EU oder im EWR.', 'Every approved destination and sub-processor lies in the EU or the EEA.']),
  measure('transfer.integrity', '2.1', 'technical', 'audit.verify', 365, ['Daten bleiben bei Weitergabe und Verarbeitung unverändert und vollständig', 'Data stays unaltered and complete in transfer and processing'],
    ['Verschlüsselte Felder sind authentisiert (AES-256-GCM): eine Veränderung fällt beim Lesen auf; jede Änderung steht im manipulationssicheren Protokoll.',
      'Encrypted fields are authenticated (AES-256-GCM), so any alteration shows when read; every change is in the tamper-evident log.']),
  measure('input.retention_closure', '2.2', 'technical', 'retention.closure', 365, ['Begrenzte Speicherdauer nach Kontoschließung', 'Limited storage period after account closure'],
    ['Daten eines geschlossenen Mandanten werden nach der eingestellten Frist mit seinen Schlüsseln vernichtet, sofern nichts anderes angeordnet ist (z. B. eine gesetzliche Aufbewahrung).',
      'A closed tenant\'s data is destroyed with its keys after the configured period unless ordered otherwise (e.g. a legal hold).']),
  measure('input.retention_job', '2.2', 'technical', 'retention.job', 365, ['Automatische Durchsetzung von Aufbewahrungsfristen', 'Retention periods enforced automatically'],
    ['Ein Hintergrundjob löscht abgelaufene Datensätze nach den Aufbewahrungsregeln je Sammlung.', 'A background job deletes expired records by each collection\'s retention policy.']),
  measure('input.request_log', '2.2', 'technical', 'audit.request_log', 365,
    ['Protokollierung der Anfragen: IP-Adresse, Datum, URL und Methode jeder API-Anfrage und Sitzung', 'Request logging: IP address, date, URL and method of every API request and session'],
    ['Jede Anfrage wird mit Quelle, Zeit, Methode, Pfad, Status und Akteur protokolliert, nie mit Feldwerten.',
      'Every request is logged with source, time, method, path, status and actor, never with field values.']),
  measure('input.change_history', '2.2', 'technical', 'audit.verify', 365, ['Änderungshistorie: jede Eingabe, Änderung und Löschung mit Benutzer und Zeitstempel', 'Change history: every entry, change and deletion with user and time'],
    ['Jede Änderung ist einem Akteur und einem Zeitpunkt zugeordnet und steht im signierten Merkle-Protokoll (RFC 6962), dessen Prüfung Tresor selbst ausführt.',
      'Every change names its actor and time and sits in the signed Merkle log (RFC 6962), which Tresor verifies itself.']),
  measure('input.request_docs', '2.2', 'technical', 'order.instructions', 365, ['Dokumentationen zu Anforderungen werden aufbewahrt', 'Documentation of requests is kept'],
    ['Weisungen und ihre Bestätigungen werden versioniert aufbewahrt; Anfragen Betroffener hinterlassen Protokolleinträge und Zertifikate.',
      'Instructions and their confirmations are kept in versions; data-subject requests leave log entries and certificates.']),
  measure('availability.backup', '3.1', 'technical', 'backup.age', 180, ['Datensicherung', 'Data backup'],
    ['Regelmäßige, verschlüsselte Sicherungen; der Schlüssel wird nie mit der Sicherung abgelegt.', 'Regular encrypted backups; the key is never stored with the backup.']),
  measure('availability.replication', '3.1', 'technical', 'ha.failover', 180, ['Replizierung der Datenbanken in mehrere Systeme', 'Database replication to several systems'],
    ['PostgreSQL-Streaming-Replikation unter Patroni hält Kopien auf weiteren Knoten aktuell.', 'PostgreSQL streaming replication under Patroni keeps copies on further nodes current.']),
  measure('availability.geo', '3.1', 'technical', null, 365, ['Geografische Verteilung über mehrere Rechenzentren; Redundanz in der Infrastruktur', 'Geographic distribution across several data centres; redundancy built into the infrastructure'],
    ['Ressourcen verteilen sich auf Rechenzentren mit getrennten Netzen; die Infrastruktur ist grundsätzlich redundant ausgelegt.',
      'Resources are spread over data centres on separate networks; the infrastructure is redundant by design.']),
  measure('availability.ups', '3.1', 'physical', null, 365, ['Unterbrechungsfreie Stromversorgung', 'Uninterruptible power supply'],
    ['Server und Netz sind an eine USV mit Notstrom angeschlossen.', 'Servers and network run on a UPS with backup power.']),
  measure('availability.fire_alarm', '3.1', 'physical', null, 365, ['Brandmeldesystem', 'Fire detection system'],
    ['Rauch- und Brandmelder in den Serverräumen, aufgeschaltet auf eine ständig besetzte Stelle.', 'Smoke and fire detectors in the server rooms, connected to a permanently staffed point.']),
  measure('availability.air', '3.1', 'physical', null, 365, ['Klimatisierungssystem', 'Air conditioning'],
    ['Serverräume werden klimatisiert und überwacht.', 'Server rooms are air-conditioned and monitored.']),
  measure('availability.alarm', '3.1', 'physical', null, 365, ['Alarmsystem', 'Alarm system'],
    ['Einbruch- und Störungsalarme der Serverräume gehen an eine ständig besetzte Stelle.', 'Intrusion and fault alarms of the server rooms reach a permanently staffed point.']),
  measure('recovery.incidents', '3.2', 'organisational', 'incidents.procedure', 365, ['Vorfallsmanagement', 'Incident management'],
    ['Sicherheitsvorfälle werden nach einem festen Verfahren erfasst, bewertet und bearbeitet (siehe Notfallplan unten).',
      'Security incidents are recorded, assessed and handled by a set procedure (see the emergency plan below).'], ['incidents']),
  measure('recovery.plan', '3.2', 'organisational', null, 365, ['Disaster-Recovery-Plan und Notfallplan', 'Disaster recovery plan and emergency plan'],
    ['Der Wiederherstellungsplan beschreibt Wiederanlauf, Failover und Rücksicherung Schritt für Schritt.', 'The recovery plan describes restart, failover and restore step by step.'], ['recovery', 'incidents']),
  measure('recovery.failover', '3.2', 'technical', 'ha.failover', 180, ['Automatische Umschaltung der Datenbankserver', 'Automatic failover of the database servers'],
    ['Patroni und etcd stufen bei einem Ausfall ein Replikat zum Primärknoten hoch; Tresor findet den neuen Primärknoten selbst.',
      'Patroni and etcd promote a replica when the primary fails; Tresor finds the new primary by itself.']),
  measure('recovery.restore_tests', '3.2', 'technical', 'backup.restore', 90, ['Regelmäßige Überprüfung der Datenwiederherstellbarkeit', 'Regular verification that data can be restored'],
    ['Sicherungen werden regelmäßig in eine Testumgebung zurückgespielt und geprüft; das Ergebnis wird signiert festgehalten.',
      'Backups are regularly restored into a scratch environment and checked; the result is kept signed.'], ['recovery']),
];

const review: Measure[] = [
  measure('review.dpm', '4', 'organisational', null, 365, ['Datenschutzmanagement', 'Data protection management'],
    ['Ein benannter Datenschutzbeauftragter und ein Managementsystem steuern Verzeichnis, Folgenabschätzungen und Schulungen.',
      'A named data protection officer and a management system steer the records of processing, impact assessments and training.']),
  measure('review.iso27001', '4', 'organisational', null, 365, ['ISO 27001-Zertifizierung und regelmäßige Neuzertifizierung', 'ISO 27001 certification and regular recertification'],
    ['Das Zertifikat und der Bericht des letzten Audits werden hier mit ihrem Hash bestätigt.', 'The certificate and the latest audit report are attested here by their hash.']),
  measure('review.pentest', '4', 'organisational', null, 365, ['Externe Penetrations- und Sicherheitstests (einschließlich Bug-Bounty-Programm)', 'External penetration and security tests (including a bug bounty programme)'],
    ['Externe Prüfer testen Anwendung und Infrastruktur mindestens jährlich; Befunde werden nachverfolgt.', 'External testers test the application and infrastructure at least yearly; findings are tracked.']),
  measure('review.breach_procedure', '4', 'organisational', 'incidents.procedure', 365, ['Prozedur bei Datenschutzverletzungen', 'Procedure for personal data breaches'],
    ['Verletzungen werden binnen 72 Stunden bewertet und, wo nötig, gemeldet (Art. 33 DSGVO); Auftraggeber werden unverzüglich informiert.',
      'Breaches are assessed within 72 hours and notified where required (GDPR Art. 33); clients are informed without delay.'], ['incidents']),
  measure('review.customer_instructions', '4', 'technical', 'order.instructions', 365, ['Dokumentation der Kundenanweisungen', 'Documentation of client instructions'],
    ['Jede Weisung eines Auftraggebers wird als Version mit Bestätigung gespeichert.', 'Each client instruction is stored as a version with its confirmation.']),
];

/** The whole template, in annex order. */
export const TEMPLATE: Measure[] = [...confidentialityMeasures, ...integrityAndAvailability, ...review];

export const measureByKey = new Map(TEMPLATE.map((m) => [m.key, m]));

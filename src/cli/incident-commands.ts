import { writeFileSync } from 'node:fs';
import { type Command, InvalidArgumentError } from 'commander';
import type { components } from '../client/index.ts';
import { createApiClient, resolveRemote } from './api-client.ts';
import { CliError, exitCodes, printResult } from './output.ts';
import type { RemoteOptions } from './remote-commands.ts';

// `tresor incident …`: the incident register (GDPR Art. 33) on the running
// server, with an operator key. Times are ISO 8601; `now` is the default.

type Incident = components['schemas']['Incident'];
type IncidentDetail = components['schemas']['IncidentDetail'];
type ApiCommand = (cmd: Command, examples: string, action: (...args: never[]) => Promise<number>) => Command;

const api = (o: RemoteOptions) => createApiClient(resolveRemote(o));

function isoTime(value: string): string {
  const ms = value === 'now' ? Date.now() : Date.parse(value);
  if (!Number.isFinite(ms)) throw new InvalidArgumentError('an ISO 8601 time (2026-12-02T09:30:00Z) or "now"');
  return new Date(ms).toISOString();
}
const list = (value: string) => value.split(',').map((s) => s.trim()).filter(Boolean);

const line = (i: Incident) => `${i.id}  ${i.status.padEnd(6)}  ${i.severity.padEnd(8)}  ${i.clock.running ? `${i.clock.hoursSinceAware}h of 72` : 'clock stopped'}  ${i.title}`;

function detailText(d: IncidentDetail): string {
  return [line(d), `  ${d.category}; detected ${d.detectedAt}; aware ${d.awareAt}; deadline ${d.clock.deadline}`,
    `  decision: ${d.decision ? `${d.decision.notifiable ? 'notifiable' : 'not notifiable'} (${d.decision.reason})` : 'none yet'}`,
    ...d.affectedTenants.map((p) => `  tenant ${p.tenantId}: ${p.recordsTotal} record(s) (${p.recordsRead} read, ${p.recordsChanged} changed)`),
    ...d.timeline.map((e) => `  #${e.seq} ${e.at} ${e.kind} by ${e.actor.type} ${e.actor.id}: ${e.note}`)].join('\n');
}

interface OpenOptions extends RemoteOptions { title: string; category: 'confidentiality' | 'integrity' | 'availability'; severity: 'low' | 'medium' | 'high' | 'critical';
  detectedAt: string; awareAt: string; systems: string[]; dataCategories: string[]; description: string }

export function incidentCommands(program: Command, apiCommand: ApiCommand, example: (...lines: string[]) => string) {
  const incident = program.command('incident').description('[api] the incident register (GDPR Art. 33): open, list, show, event, decide, close, export');
  apiCommand(incident.command('open').description('open an incident; aware-at starts the 72-hour clock')
    .requiredOption('--title <text>', 'a short title').requiredOption('--category <c>', 'confidentiality, integrity or availability')
    .requiredOption('--severity <s>', 'low, medium, high or critical').requiredOption('--description <text>', 'what happened')
    .option('--detected-at <time>', 'when it was detected (default now)', isoTime, new Date().toISOString())
    .option('--aware-at <time>', 'when you became aware (default: detected-at)', isoTime)
    .option('--systems <list>', 'affected systems, comma-separated', list, [])
    .option('--data-categories <list>', 'categories of personal data, comma-separated', list, [])
  , example('tresor incident open --title "Leaked key" --category confidentiality --severity high --description "…" --aware-at 2026-12-02T09:30:00Z'),
  async (o: OpenOptions) => {
    const d = await api(o).openIncident({ title: o.title, category: o.category, severity: o.severity, description: o.description,
      detectedAt: o.detectedAt, awareAt: o.awareAt ?? o.detectedAt, affectedSystems: o.systems, dataCategories: o.dataCategories });
    printResult(!!o.json, d, `${detailText(d)}\n${d.id}`);
    return exitCodes.done;
  });
  apiCommand(incident.command('list').description('the register, newest first').option('--status <s>', 'open or closed')
  , example('tresor incident list --status open'),
  async (o: RemoteOptions & { status?: 'open' | 'closed' }) => {
    const page = await api(o).listIncidents({ status: o.status });
    printResult(!!o.json, page.items, page.items.length ? page.items.map(line).join('\n') : 'no incidents');
    return exitCodes.done;
  });
  apiCommand(incident.command('show').description('an incident with its timeline and affected tenants').argument('<id>', 'incident id')
  , example('tresor incident show $INCIDENT'),
  async (id: string, o: RemoteOptions) => {
    const d = await api(o).getIncident(id);
    printResult(!!o.json, d, detailText(d));
    return exitCodes.done;
  });
  apiCommand(incident.command('event').description('add an event to the timeline (append-only)').argument('<id>', 'incident id')
    .option('--kind <kind>', 'note, detection, containment, assessment, communication or recovery', 'note').requiredOption('--note <text>', 'what happened')
  , example('tresor incident event $INCIDENT --kind containment --note "Key revoked"'),
  async (id: string, o: RemoteOptions & { kind: 'note'; note: string }) => {
    const e = await api(o).addIncidentEvent(id, { kind: o.kind, note: o.note });
    printResult(!!o.json, e, `#${e.seq} ${e.at} ${e.kind}: ${e.note}`);
    return exitCodes.done;
  });
  apiCommand(incident.command('decide').description('record the notifiability decision (Art. 33(1)) with its reason').argument('<id>', 'incident id')
    .option('--notifiable', 'the breach must be notified to the supervisory authority').option('--not-notifiable', 'it is unlikely to result in a risk')
    .requiredOption('--reason <text>', 'why').option('--consequences <text>', 'likely consequences').option('--measures <text>', 'measures taken or proposed')
    .option('--authority-notified-at <time>', 'when the authority was notified (stops the clock)', isoTime)
  , example('tresor incident decide $INCIDENT --notifiable --reason "contact data disclosed" --authority-notified-at now'),
  async (id: string, o: RemoteOptions & { notifiable?: boolean; notNotifiable?: boolean; reason: string; consequences?: string; measures?: string; authorityNotifiedAt?: string }) => {
    if (!!o.notifiable === !!o.notNotifiable) throw new CliError('cli.usage', 'give exactly one of --notifiable and --not-notifiable');
    const d = await api(o).decideIncident(id, { notifiable: !!o.notifiable, reason: o.reason, consequences: o.consequences, measures: o.measures,
      authorityNotifiedAt: o.authorityNotifiedAt });
    printResult(!!o.json, d, detailText(d));
    return exitCodes.done;
  });
  apiCommand(incident.command('close').description('close with lessons learned (needs the decision)').argument('<id>', 'incident id')
    .requiredOption('--lessons <text>', 'lessons learned')
  , example('tresor incident close $INCIDENT --lessons "Keys are scanned for in every repository"'),
  async (id: string, o: RemoteOptions & { lessons: string }) => {
    const d = await api(o).closeIncident(id, o.lessons);
    printResult(!!o.json, d, detailText(d));
    return exitCodes.done;
  });
  apiCommand(incident.command('export').description('the Art. 33(5) documentation: Markdown (default) or, with --json, the JSON document').argument('<id>', 'incident id')
    .option('--out <file>', 'write to this new file instead of stdout')
  , example('tresor incident export $INCIDENT --out incident.md', 'tresor incident export $INCIDENT --json > incident.json'),
  async (id: string, o: RemoteOptions & { out?: string }) => {
    const doc = await api(o).exportIncident(id);
    const body = o.json ? `${JSON.stringify(doc, null, 2)}\n` : doc.markdown;
    if (o.out) {
      try { writeFileSync(o.out, body, { flag: 'wx', mode: 0o600 }); } catch (err) {
        throw new CliError('cli.failed', `cannot write ${o.out}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { file: o.out });
      }
      if (!o.json) process.stdout.write(`${o.out}\n`);
    } else process.stdout.write(body);
    return exitCodes.done;
  });
}

import { Counter, Gauge, type Registry } from 'prom-client';
import { ALL_THRESHOLDS } from './incident-clock.ts';
import { WARNING_HOURS } from './incident-view.ts';
import type { IncidentClock } from './incident-clock.ts';

/** From the clock job's last pass: a scrape never waits for the database (0 on a node that does not lead). */
export function registerIncidentMetrics(registry: Registry, { incidentClock }: { incidentClock: IncidentClock }) {
  new Gauge({ name: 'tresor_incidents_open', help: 'Open incidents in the register', registers: [registry],
    collect() { this.set(incidentClock.stats().open); } });
  new Gauge({ name: 'tresor_incidents_clock_past_hours', help: 'Open incidents whose 72-hour clock runs (undecided, or notifiable and not yet notified) and is past each mark',
    labelNames: ['hours'], registers: [registry],
    collect() { for (const h of ALL_THRESHOLDS) this.set({ hours: String(h) }, incidentClock.stats().past[h]); } });
  new Counter({ name: 'tresor_incident_clock_warnings_total', help: 'Clock warnings given (24, 48 and 66 hours after aware-at)', labelNames: ['hours'], registers: [registry],
    collect() { this.reset(); for (const h of WARNING_HOURS) this.inc({ hours: String(h) }, incidentClock.stats().warnings[h]); } });
}
